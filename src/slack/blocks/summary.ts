import type { KnownBlock } from '@slack/types';
import type { BasicSummary } from '../../reports/basic-summary.js';
import { formatDuration, plural } from './format.js';

const PERIOD_LABEL: Record<BasicSummary['period'], string> = {
  today: 'Today (since 00:00 UTC)',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

function counts(record: Partial<Record<string, number>>): string {
  const entries = Object.entries(record)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0)
    .sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([key, n]) => `${key.replace(/_/g, ' ')}: *${n}*`).join(' · ') : 'none';
}

/** `/earshot summary`: counts by status, category and sentiment, and the median first-response time. */
export function buildSummaryMessage(summary: BasicSummary): { text: string; blocks: KnownBlock[] } {
  const median =
    summary.medianFirstResponseSeconds === null
      ? 'no replies yet'
      : formatDuration(summary.medianFirstResponseSeconds * 1000);
  const title = `${PERIOD_LABEL[summary.period]}: ${plural(summary.total, 'ticket')}`;
  const lines = [
    `*By status:* ${counts(summary.byStatus)}`,
    `*By category:* ${counts(summary.byCategory)}`,
    `*By sentiment:* ${counts(summary.bySentiment)}`,
    `*Median first response:* ${median} (${summary.answered} of ${summary.total} answered)`,
  ];
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
  ];
  if (summary.spam > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${plural(summary.spam, 'spam item')} left out.` }],
    });
  }
  return { text: `${title}. ${lines.join(' ').replace(/\*/g, '')}`, blocks };
}
