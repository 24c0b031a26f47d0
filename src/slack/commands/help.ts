import type { KnownBlock } from '@slack/types';
import { can } from '../../tickets/permissions.js';
import type { Actor } from '../../tickets/types.js';
import { SLASH_COMMAND } from '../ids.js';
import type { CommandReply, Subcommand } from './types.js';

function shareableNames(subcommands: readonly Subcommand[]): string {
  const names = subcommands
    .filter((s) => s.shareable === true || (s as { sharePermission?: unknown }).sharePermission !== undefined)
    .map((s) => `\`${s.name}\``);
  return names.length > 0 ? names.join(', ') : 'a command';
}

/** The help text: what the user may run, then what needs a higher role. */
export function buildHelp(subcommands: readonly Subcommand[], actor: Actor, intro: string | null = null): CommandReply {
  const line = (s: Subcommand) => `\`${SLASH_COMMAND} ${s.usage}\` — ${s.summary}`;
  const allowed = subcommands.filter((s) => can(actor, s.permission));
  const others = subcommands.filter((s) => !can(actor, s.permission));
  const sections = [
    ...(intro ? [intro] : []),
    `*Earshot commands* (add \`share\` at the end of ${shareableNames(allowed)} to post the answer in the channel):\n${allowed.map(line).join('\n')}`,
    ...(others.length > 0 ? [`*Needs a higher role:*\n${others.map(line).join('\n')}`] : []),
  ];
  const blocks: KnownBlock[] = sections.map((text) => ({
    type: 'section',
    text: { type: 'mrkdwn', text: text.slice(0, 3000) },
  }));
  return { text: sections.join('\n\n').slice(0, 3000), blocks };
}

/** `help`: lists the commands; it reads the list lazily because the list includes it. */
export function helpSubcommand(list: () => readonly Subcommand[]): Subcommand {
  return {
    name: 'help',
    usage: 'help',
    summary: 'this list',
    permission: 'ticket.view',
    shareable: true,
    run: async (ctx) => buildHelp(list(), ctx.actor),
  };
}
