import { sealerFromConfig } from '../../db/sealed.js';
import { AppError } from '../../errors.js';
import { createSource, listSources, rotateWebhookSecret, setSourceReplyUrl } from '../../sources/sources.js';
import { requirePermission } from '../../tickets/permissions.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { CommandContext, Subcommand } from './types.js';

const USAGE =
  'Usage: `/earshot source add webhook <name>`, `source list`, `source rotate-secret <name>`, `source set <name> reply-url <url>`.';

/** The full ingest URL when Earshot knows its public address, else the path. */
function ingestUrl(ctx: CommandContext, name: string): string {
  const base = ctx.config.EARSHOT_PUBLIC_URL?.replace(/\/+$/, '');
  return base ? `${base}/ingest/${name}` : `/ingest/${name}`;
}

/** Slack may send a typed URL as `<https://…>` or `<https://…|label>`. */
function unwrapUrl(text: string): string {
  const match = /^<([^|>]+)(?:\|[^>]*)?>$/.exec(text.trim());
  return (match?.[1] ?? text).trim();
}

/**
 * `source add webhook <name>` (admins) creates a signed webhook channel and shows its URL and
 * signing secret, once: Earshot never prints the secret again. `source rotate-secret <name>`
 * (admins) replaces the secret and shows the new one once; `source set <name> reply-url <url>`
 * (admins) sets where replies go. `source list` shows every source. Not `shareable`: these
 * answers hold secrets and must never be posted in the channel.
 */
export const sourceCommand: Subcommand = {
  name: 'source',
  usage: 'source add webhook <name> | list | rotate-secret <name> | set <name> reply-url <url>',
  summary: 'channels Earshot listens to; add a signed webhook channel, rotate its secret, set its reply URL (admins)',
  permission: 'ticket.view',
  run: async (ctx) => {
    const { db, actor, args } = ctx;
    const words = args.trim().split(/\s+/).filter(Boolean);
    const verb = words[0]?.toLowerCase();
    if (verb === undefined || verb === 'list') {
      const sources = await listSources(db);
      if (sources.length === 0) return { text: `No sources yet. ${USAGE}` };
      const lines = sources.map((s) => {
        const where = s.kind === 'webhook' ? ` — \`POST ${ingestUrl(ctx, s.name)}\`` : '';
        const state = s.enabled ? '' : ' (disabled)';
        return `• *${safeMrkdwn(s.name, 40)}* (${s.kind})${where}${state}`;
      });
      return { text: `${sources.length} sources\n${lines.join('\n')}`, responseType: 'ephemeral' };
    }
    if (verb === 'add') {
      requirePermission(actor, 'source.manage');
      if (words[1]?.toLowerCase() !== 'webhook' || !words[2] || words.length > 3) {
        throw new AppError('invalid_input', USAGE);
      }
      const source = await createSource(db, actor, { name: words[2], kind: 'webhook' }, sealerFromConfig(ctx.config));
      const where = ctx.config.EARSHOT_PUBLIC_URL
        ? `URL: \`POST ${ingestUrl(ctx, source.name)}\``
        : `URL: \`POST /ingest/${source.name}\` on Earshot's public address (set EARSHOT_PUBLIC_URL and Earshot prints it in full).`;
      return {
        text: [
          `Webhook source *${safeMrkdwn(source.name, 40)}* created.`,
          where,
          `Signing secret (Standard Webhooks), shown only this once: \`${source.secret}\``,
          'Sign each request with the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers; the body format is in the README.',
        ].join('\n'),
        responseType: 'ephemeral',
      };
    }
    if (verb === 'rotate-secret') {
      requirePermission(actor, 'source.manage');
      if (!words[1] || words.length > 2) throw new AppError('invalid_input', USAGE);
      const source = await rotateWebhookSecret(db, actor, words[1], sealerFromConfig(ctx.config));
      return {
        text: [
          `New signing secret for *${safeMrkdwn(source.name, 40)}*, shown only this once: \`${source.secret}\``,
          'The old secret stops verifying now: requests signed with it get 401 until the sender uses this one.',
        ].join('\n'),
        responseType: 'ephemeral',
      };
    }
    if (verb === 'set') {
      requirePermission(actor, 'source.manage');
      if (!words[1] || words[2]?.toLowerCase() !== 'reply-url' || !words[3] || words.length > 4) {
        throw new AppError('invalid_input', USAGE);
      }
      const source = await setSourceReplyUrl(db, actor, words[1], unwrapUrl(words[3]));
      return {
        text: `Replies to *${safeMrkdwn(source.name, 40)}* tickets now go to \`${safeMrkdwn(String(source.settings.replyUrl), 500)}\`.`,
        responseType: 'ephemeral',
      };
    }
    throw new AppError('invalid_input', USAGE);
  },
};
