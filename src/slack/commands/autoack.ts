import { AppError } from '../../errors.js';
import { autoAckSettingsOf, autoAckTemplateFor, setAutoAck } from '../../replies/auto-ack.js';
import { listSources } from '../../sources/sources.js';
import type { Source } from '../../tickets/types.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { Subcommand } from './types.js';

const USAGE =
  'Usage: `/earshot autoack show`, `/earshot autoack set <source> <text>` (X sources: `set <source> public <text>`), `/earshot autoack set <source> off`. Variables: {{author_name}}, {{handle}}, {{ticket_id}}, {{source}}.';

function describe(source: Source): string {
  const settings = autoAckSettingsOf(source);
  const on = autoAckTemplateFor(source);
  const name = `*${safeMrkdwn(source.name, 40)}* (${source.kind})`;
  if (!on) return `• ${name}: off${settings?.template ? ` (last text: “${safeMrkdwn(settings.template, 200)}”)` : ''}`;
  return `• ${name}: on${source.kind === 'x' ? ', public replies' : ''}: “${safeMrkdwn(on, 500)}”`;
}

/**
 * `/earshot autoack show|set`: an acknowledgement sent once to every new ticket of a source, through
 * the source's reply path. Off by default; on X it also needs `public`, since an X reply is public.
 * It is Earshot's reply, not the agent's: the first-response SLA still waits for a person.
 */
export const autoAckCommand: Subcommand = {
  name: 'autoack',
  usage: 'autoack show | set <source> [public] <text> | set <source> off',
  summary: 'automatic acknowledgement of new tickets, per source (leads and admins)',
  permission: 'rules.manage',
  run: async ({ db, actor, args }) => {
    const match = /^(\S+)\s*(\S*)\s*([\s\S]*)$/.exec(args.trim());
    const verb = (match?.[1] ?? 'show').toLowerCase();
    if (verb === 'show') {
      const sources = await listSources(db);
      if (sources.length === 0) return { text: `No sources yet. ${USAGE}` };
      return { text: `*Auto-acknowledgement*\n${sources.map(describe).join('\n')}` };
    }
    const name = match?.[2] ?? '';
    let rest = (match?.[3] ?? '').trim();
    if (verb === 'off' && name) {
      const source = await setAutoAck(db, actor, { source: name, enabled: false });
      return { text: `Auto-acknowledgement is off for ${safeMrkdwn(source.name, 40)}.` };
    }
    if (verb !== 'set' || !name || !rest) throw new AppError('invalid_input', USAGE);
    if (rest.toLowerCase() === 'off') {
      const source = await setAutoAck(db, actor, { source: name, enabled: false });
      return { text: `Auto-acknowledgement is off for ${safeMrkdwn(source.name, 40)}.` };
    }
    const publicPosts = /^public\s+/i.test(rest);
    if (publicPosts) rest = rest.replace(/^public\s+/i, '');
    const source = await setAutoAck(db, actor, { source: name, enabled: true, template: rest, publicPosts });
    return {
      text: `:white_check_mark: New tickets from ${safeMrkdwn(source.name, 40)} get this reply once, from Earshot:\n>${safeMrkdwn(rest, 1000)}\nIt does not count as the team's first response.`,
    };
  },
};
