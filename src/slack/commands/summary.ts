import { AppError } from '../../errors.js';
import { getBasicSummary, SUMMARY_PERIODS, type SummaryPeriod } from '../../reports/basic-summary.js';
import { buildSummaryMessage } from '../blocks/summary.js';
import type { ShareableSubcommand } from './dispatch.js';

/** Reads `today`, `7d`, `30d` (default `today`). */
export function parsePeriod(args: string): SummaryPeriod {
  const word = args.trim().toLowerCase() || 'today';
  const period = SUMMARY_PERIODS.find((p) => p === word);
  if (!period) throw new AppError('invalid_input', 'The period is `today`, `7d` or `30d`: `/earshot summary 7d`.');
  return period;
}

/** `summary [today|7d|30d]`: ticket counts and the median first response; sharing it needs a lead. */
export const summaryCommand: ShareableSubcommand = {
  name: 'summary',
  usage: 'summary [today|7d|30d]',
  summary: 'counts by status, category, sentiment; median first-response time',
  permission: 'report.view',
  sharePermission: 'report.share',
  run: async ({ db, args }) => buildSummaryMessage(await getBasicSummary(db, { period: parsePeriod(args) })),
};
