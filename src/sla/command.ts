import type { KnownBlock } from '@slack/types';
import { AppError } from '../errors.js';
import type { Subcommand } from '../slack/commands/types.js';
import { requirePermission } from '../tickets/permissions.js';
import { PRIORITIES, type Priority } from '../tickets/types.js';
import { type BusinessHours, describeBusinessHours, parseBusinessHours } from './business-hours.js';
import { formatMinutes, parseDuration, type SlaPolicies, type SlaTarget } from './policy.js';
import { loadSlaPolicies, saveSlaPolicies } from './settings.js';

const USAGE =
  '`/earshot sla show`, `/earshot sla set P1 1h 8h` (first response, resolution), `/earshot sla hours [P1..P4] mon-fri 09:00-17:00 Europe/Berlin` or `/earshot sla hours [P1..P4] off`.';

/** The policies as a Block Kit table, one line per priority. */
export function buildSlaPolicyBlocks(policies: SlaPolicies, note?: string): { text: string; blocks: KnownBlock[] } {
  const lines = PRIORITIES.map((p) => {
    const t = policies[p];
    return `*${p}*  first response ${formatMinutes(t.firstResponseMinutes)} · resolution ${formatMinutes(t.resolutionMinutes)} · ${describeBusinessHours(t.businessHours)}`;
  });
  const blocks: KnownBlock[] = [];
  if (note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: note } });
  blocks.push(
    { type: 'section', text: { type: 'mrkdwn', text: `*SLA policies*\n${lines.join('\n')}` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Warning at 75% of a target, breach at 100%. Waiting on the customer pauses the clock.',
        },
      ],
    },
  );
  return { text: [note, 'SLA policies', ...lines].filter(Boolean).join('\n'), blocks };
}

function parsePriority(word: string | undefined): Priority | null {
  const upper = word?.toUpperCase();
  return PRIORITIES.find((p) => p === upper) ?? null;
}

/** What `/earshot sla …` asks to change; null for `show`. Throws `invalid_input` with usage on nonsense. */
export function parseSlaCommand(args: string): Partial<Record<Priority, Partial<SlaTarget>>> | null {
  const words = args.trim().split(/\s+/).filter(Boolean);
  const verb = (words[0] ?? 'show').toLowerCase();
  if (verb === 'show') return null;
  if (verb === 'set') {
    const priority = parsePriority(words[1]);
    const firstResponse = parseDuration(words[2] ?? '');
    const resolution = parseDuration(words[3] ?? '');
    if (!priority || !firstResponse || !resolution || words.length !== 4) {
      throw new AppError('invalid_input', `Usage: ${USAGE}`);
    }
    if (resolution < firstResponse) {
      throw new AppError('invalid_input', 'The resolution target cannot be shorter than the first-response target.');
    }
    return { [priority]: { firstResponseMinutes: firstResponse, resolutionMinutes: resolution } };
  }
  if (verb === 'hours') {
    const scoped = parsePriority(words[1]);
    const rest = words.slice(scoped ? 2 : 1).join(' ');
    let hours: BusinessHours | null;
    if (rest.toLowerCase() === 'off') hours = null;
    else {
      const parsed = parseBusinessHours(rest);
      if ('error' in parsed) throw new AppError('invalid_input', `${parsed.error}\nUsage: ${USAGE}`);
      hours = parsed;
    }
    const targets = scoped ? [scoped] : PRIORITIES;
    return Object.fromEntries(targets.map((p) => [p, { businessHours: hours }]));
  }
  throw new AppError('invalid_input', `Usage: ${USAGE}`);
}

/** `/earshot sla show|set|hours`: anyone who sees reports may look; changing needs `sla.manage` (admins). */
export const slaCommand: Subcommand = {
  name: 'sla',
  usage: 'sla show | set <P1..P4> <first-response> <resolution> | hours [P1..P4] <mon-fri 09:00-17:00> <tz>|off',
  summary: 'SLA targets per priority and business hours (changing them needs an admin)',
  permission: 'report.view',
  run: async ({ db, actor, args }) => {
    const changes = parseSlaCommand(args);
    if (!changes) return buildSlaPolicyBlocks(await loadSlaPolicies(db));
    requirePermission(actor, 'sla.manage');
    const by = actor.kind === 'user' ? actor.userId : `system:${actor.name}`;
    const policies = await saveSlaPolicies(db, changes, by);
    return buildSlaPolicyBlocks(
      policies,
      ':white_check_mark: SLA policy saved. Open tickets follow it from the next sweep.',
    );
  },
};
