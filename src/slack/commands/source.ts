import { sealerFromConfig } from '../../db/sealed.js';
import { AppError } from '../../errors.js';
import { replyRulesFor } from '../../replies/channel-rules.js';
import {
  createSource,
  listSources,
  rotateWebhookSecret,
  setSourceEnabled,
  setSourceReplyRules,
  setSourceReplyUrl,
} from '../../sources/sources.js';
import { requirePermission } from '../../tickets/permissions.js';
import type { Source } from '../../tickets/types.js';
import { plural } from '../blocks/format.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { CommandContext, Subcommand } from './types.js';

const USAGE =
  'Usage: `/earshot source add webhook <name>`, `source list`, `source rotate-secret <name>`, ' +
  '`source set <name> reply-url <url> | reply-limit <characters> | reply-threads on|off`, `source disable|enable <name>`.';

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
 * (admins) replaces the secret and shows the new one once; `source set <name> reply-url <url>`,
 * `reply-limit <characters>` and `reply-threads on|off` (admins) say where replies go and how long
 * one may be; `source disable|enable <name>` (admins) stops and resumes taking deliveries.
 * `source list` shows every source. Not `shareable`: these answers hold secrets and must never be
 * posted in the channel.
 */
export const sourceCommand: Subcommand = {
  name: 'source',
  usage:
    'source add webhook <name> | list | rotate-secret <name> | set <name> reply-url|reply-limit|reply-threads <value> | disable|enable <name>',
  summary:
    'channels Earshot listens to; add a signed webhook channel, rotate its secret, say where and how replies go, pause it (admins)',
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
        const state = s.enabled ? '' : ' (disabled: deliveries get 404)';
        return `• *${safeMrkdwn(s.name, 40)}* (${s.kind})${where}${state}${s.kind === 'webhook' ? `\n   ${replyLine(s)}` : ''}`;
      });
      return { text: `${plural(sources.length, 'source')}\n${lines.join('\n')}`, responseType: 'ephemeral' };
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
      const [, name, setting, value] = words;
      if (!name || !setting || !value || words.length > 4) throw new AppError('invalid_input', USAGE);
      const what = setting.toLowerCase();
      let source: Source;
      if (what === 'reply-url') source = await setSourceReplyUrl(db, actor, name, unwrapUrl(value));
      else if (what === 'reply-limit') {
        const digits = value.replace(/,/g, '');
        const limit = /^\d+$/.test(digits) ? Number(digits) : Number.NaN;
        source = await setSourceReplyRules(db, actor, name, { limit });
      } else if (what === 'reply-threads') {
        const word = value.toLowerCase();
        if (word !== 'on' && word !== 'off') {
          throw new AppError('invalid_input', 'Say `reply-threads on` or `reply-threads off`.');
        }
        source = await setSourceReplyRules(db, actor, name, { threads: word === 'on' });
      } else throw new AppError('invalid_input', USAGE);
      return { text: `*${safeMrkdwn(source.name, 40)}*: ${replyLine(source)}`, responseType: 'ephemeral' };
    }
    if (verb === 'disable' || verb === 'enable') {
      requirePermission(actor, 'source.manage');
      if (!words[1] || words.length > 2) throw new AppError('invalid_input', USAGE);
      const source = await setSourceEnabled(db, actor, words[1], verb === 'enable');
      const name = `*${safeMrkdwn(source.name, 40)}*`;
      return {
        text: source.enabled
          ? `${name} takes deliveries again. What it refused while disabled is stored only if its sender sends it again.`
          : `${name} is disabled: its deliveries get 404 and nothing of them is stored, on every replica. Its open tickets and replies carry on. \`/earshot source enable ${safeMrkdwn(source.name, 40)}\` takes them again.`,
        responseType: 'ephemeral',
      };
    }
    throw new AppError('invalid_input', USAGE);
  },
};

/** Where a webhook source's replies go and how: `replies to https://… · at most 5,000 characters, one message`. */
function replyLine(source: Source): string {
  const rules = replyRulesFor(source);
  const url = typeof source.settings?.replyUrl === 'string' ? source.settings.replyUrl : null;
  const where = url
    ? `replies go to \`${safeMrkdwn(url, 300)}\``
    : 'replies go to each post’s own `reply_url` (no source reply URL set)';
  const how = rules.threads ? 'longer ones as a thread' : 'one message';
  return `${where} · at most ${rules.limit.toLocaleString('en')} characters, ${how}`;
}
