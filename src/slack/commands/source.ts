import { AppError } from '../../errors.js';
import { createSource, listSources } from '../../sources/sources.js';
import { requirePermission } from '../../tickets/permissions.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/earshot source add webhook <name>`, `source list`.';

/**
 * `source add webhook <name>` (admins) creates a signed webhook channel and shows its URL path and
 * signing secret, once: Earshot never prints the secret again. `source list` shows every source.
 */
export const sourceCommand: Subcommand = {
  name: 'source',
  usage: 'source add webhook <name> | list',
  summary: 'channels Earshot listens to; add a signed webhook channel (admins)',
  permission: 'ticket.view',
  run: async ({ db, actor, args }) => {
    const words = args.trim().split(/\s+/).filter(Boolean);
    const verb = words[0]?.toLowerCase();
    if (verb === undefined || verb === 'list') {
      const sources = await listSources(db);
      if (sources.length === 0) return { text: `No sources yet. ${USAGE}` };
      const lines = sources.map((s) => {
        const where = s.kind === 'webhook' ? ` — \`POST /ingest/${s.name}\`` : '';
        const state = s.enabled ? '' : ' (disabled)';
        return `• *${safeMrkdwn(s.name, 40)}* (${s.kind})${where}${state}`;
      });
      return { text: `${sources.length} sources\n${lines.join('\n')}` };
    }
    if (verb === 'add') {
      requirePermission(actor, 'source.manage');
      if (words[1]?.toLowerCase() !== 'webhook' || !words[2] || words.length > 3) {
        throw new AppError('invalid_input', USAGE);
      }
      const source = await createSource(db, actor, { name: words[2], kind: 'webhook' });
      return {
        text: [
          `Webhook source *${safeMrkdwn(source.name, 40)}* created.`,
          `URL: \`POST /ingest/${source.name}\` on Earshot's public address (the host Slack's Request URL uses).`,
          `Signing secret (Standard Webhooks), shown only this once: \`${source.secret}\``,
          'Sign each request with the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers; the body format is in the README.',
        ].join('\n'),
      };
    }
    throw new AppError('invalid_input', USAGE);
  },
};
