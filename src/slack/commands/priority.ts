import type { KnownBlock } from '@slack/types';
import { AppError } from '../../errors.js';
import { requirePermission } from '../../tickets/permissions.js';
import { actorId } from '../../tickets/types.js';
import { triageService } from '../../triage/module.js';
import { DEFAULT_PRIORITY_WEIGHTS, type PriorityWeights } from '../../triage/priority.js';
import {
  loadPriorityWeights,
  PRIORITY_WEIGHT_NAMES,
  resetPriorityWeights,
  savePriorityWeight,
} from '../../triage/priority-settings.js';
import type { Subcommand } from './types.js';

const USAGE =
  '`/earshot priority show`, `/earshot priority set <weight> <points>` (e.g. `urgency.outage 40`, `thresholds.P1 70`), `/earshot priority reset`.';

function weightOf(weights: PriorityWeights, name: string): number {
  const [key, sub] = name.split('.') as [keyof PriorityWeights, string | undefined];
  const value = weights[key];
  return sub ? (value as Record<string, number>)[sub]! : (value as number);
}

/** The weights in force, one line per group, with a mark on the ones changed from the defaults. */
export function buildPriorityWeights(weights: PriorityWeights, note?: string): { text: string; blocks: KnownBlock[] } {
  const line = (names: readonly string[]) =>
    names
      .map((name) => {
        const value = weightOf(weights, name);
        const changed = value !== weightOf(DEFAULT_PRIORITY_WEIGHTS, name);
        return `\`${name}\` ${value}${changed ? ` _(default ${weightOf(DEFAULT_PRIORITY_WEIGHTS, name)})_` : ''}`;
      })
      .join(' · ');
  const groups: [string, string[]][] = [
    ['Sentiment', ['negativeSentiment', 'anger']],
    ['Urgency signals', PRIORITY_WEIGHT_NAMES.filter((n) => n.startsWith('urgency.'))],
    ['Category', PRIORITY_WEIGHT_NAMES.filter((n) => n.startsWith('category.'))],
    ['Author', ['followersPerDecade', 'followersFloor', 'followersCap', 'verified', 'vip']],
    ['Repeat contact', ['repeatContact', 'repeatContactCap']],
    ['Thresholds', ['thresholds.P1', 'thresholds.P2', 'thresholds.P3']],
  ];
  const body = groups.map(([title, names]) => `*${title}*  ${line(names)}`).join('\n');
  const blocks: KnownBlock[] = [];
  if (note) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: note } });
  blocks.push(
    { type: 'section', text: { type: 'mrkdwn', text: `*Priority weights*\n${body}` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: 'Points add up per item (negative sentiment × intensity, signals, category, followers per ×10 above the floor, repeat contacts) and the total is cut at the thresholds into P1–P3; below P3 is P4. Spam is always P4.',
        },
      ],
    },
  );
  return { text: [note, 'Priority weights', body].filter(Boolean).join('\n'), blocks };
}

/**
 * `/earshot priority show|set|reset`: anyone who sees reports may look; changing a weight needs an
 * admin. Ingestion uses the new weights for the next items (this replica at once, others within 30 s).
 */
export const priorityCommand: Subcommand = {
  name: 'priority',
  usage: 'priority show | set <weight> <points> | reset',
  summary: 'the weights that score P1–P4 (changing them needs an admin)',
  permission: 'report.view',
  run: async ({ db, actor, args, services }) => {
    const words = args.trim().split(/\s+/).filter(Boolean);
    const verb = (words[0] ?? 'show').toLowerCase();
    if (verb === 'show') return buildPriorityWeights(await loadPriorityWeights(db));
    if (verb === 'set') {
      requirePermission(actor, 'triage.manage');
      const [name, raw] = [words[1], words[2]];
      const value = Number(raw);
      if (!name || raw === undefined || words.length !== 3 || !Number.isFinite(value)) {
        throw new AppError('invalid_input', `Usage: ${USAGE}`);
      }
      const weights = await savePriorityWeight(db, { name, value, updatedBy: actorId(actor) });
      triageService(services)?.invalidatePriorityWeights();
      return buildPriorityWeights(
        weights,
        `:white_check_mark: \`${name}\` is now ${value}. New items are scored with it.`,
      );
    }
    if (verb === 'reset') {
      requirePermission(actor, 'triage.manage');
      const weights = await resetPriorityWeights(db);
      triageService(services)?.invalidatePriorityWeights();
      return buildPriorityWeights(weights, ':white_check_mark: Back to the default weights.');
    }
    throw new AppError('invalid_input', `Usage: ${USAGE}`);
  },
};
