import type { KnownBlock } from '@slack/types';
import { sparkline } from '../crisis/detector.js';
import { formatMinutes } from '../sla/policy.js';
import { plural } from '../slack/blocks/format.js';
import { escapeMrkdwn, safeMrkdwn, truncate } from '../slack/mrkdwn.js';
import type { Change, Durations, LeadSummary, SlaAttainment } from './summarize.js';

function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${seconds}s`;
  return formatMinutes(seconds / 60);
}

function percent(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 1000) / 10}%`;
}

function delta(c: Pick<Change, 'change' | 'count' | 'previous'>): string {
  if (c.change === null) return c.count > 0 ? ' (new)' : '';
  const pct = Math.round(c.change * 100);
  return ` (${pct >= 0 ? '+' : ''}${pct}%)`;
}

/** Counts with their change; `compare` is false when the period before had no tickets to compare with. */
function changeLine(changes: readonly Change[], compare: boolean, limit = 6): string {
  if (changes.length === 0) return 'none';
  return changes
    .slice(0, limit)
    .map((c) => `${safeMrkdwn(c.label, 60)} *${c.count}*${compare ? delta(c) : ''}`)
    .join(' · ');
}

function durations(d: Durations): string {
  return `median *${duration(d.medianSeconds)}*, p90 ${duration(d.p90Seconds)} (${d.count})`;
}

function attainment(a: SlaAttainment): string {
  return `*${percent(a.attainment)}* (${a.met} met, ${a.breached} breached)`;
}

function mention(agent: string): string {
  return /^[UW][A-Z0-9]+$/.test(agent) ? `<@${agent}>` : safeMrkdwn(agent, 60);
}

/**
 * The lead report as Block Kit: volume and breakdowns against the previous period, response and
 * resolution times, SLA attainment, backlog, topics, the per-agent table, crisis alerts, and the
 * volume/sentiment chart (an image when a URL is given, a sparkline otherwise). Pure.
 */
export function buildLeadSummaryBlocks(
  s: LeadSummary,
  options: { title: string; chartUrl?: string | null; filterLabel?: string | null },
): { text: string; blocks: KnownBlock[] } {
  const scope = options.filterLabel ? ` · ${options.filterLabel}` : '';
  const header = truncate(`${options.title}${scope}`, 150);
  // With nothing the period before, every count would say "(new)": the first line says it once.
  const compare = s.volume.previous > 0;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${s.volume.count}* tickets${compare ? `${delta(s.volume)} vs ${s.volume.previous}` : ', none'} the period before · ${s.spam} spam left out\n*${s.customersAnswered}* of ${s.customers} customers received an answer`,
      },
    },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*First response*\n${durations(s.firstResponse)}` },
        { type: 'mrkdwn', text: `*Resolution*\n${durations(s.resolution)}` },
        {
          type: 'mrkdwn',
          text: `*Resolution rate*\n*${percent(s.resolutionRate)}* (${s.resolved} of ${s.volume.count})`,
        },
        {
          type: 'mrkdwn',
          text: `*SLA attainment*\nfirst response ${attainment(s.sla.firstResponse)}\nresolution ${attainment(s.sla.resolution)}`,
        },
      ],
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: [
          `*By category:* ${changeLine(s.byCategory, compare)}`,
          `*By sentiment:* ${changeLine(s.bySentiment, compare)}`,
          `*By source:* ${changeLine(s.bySource, compare)}`,
          `*Top topics:* ${changeLine(s.topTopics, compare, 8)}`,
        ].join('\n'),
      },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Backlog now:* ${s.backlog.total} open · ${s.backlog.buckets.map((b) => `${escapeMrkdwn(b.label)} *${b.count}*`).join(' · ')}`,
      },
    },
  ];
  if (s.agents.length > 0) {
    const rows = s.agents
      .slice(0, 15)
      .map(
        (a) =>
          `${mention(a.agent)} claimed *${a.claimed}* · replied *${a.replied}* · resolved *${a.resolved}* · median first response ${duration(a.medianFirstResponseSeconds)}`,
      );
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Agents*\n${rows.join('\n')}`, 2900) } });
  }
  const alerts =
    s.crisisAlerts.length === 0
      ? 'none'
      : s.crisisAlerts
          .slice(0, 8)
          .map(
            (a) =>
              `${safeMrkdwn(a.title, 120)} (${escapeMrkdwn(a.status)}, ${a.firstSeenAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
          )
          .join('\n');
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: `*Crisis alerts:* ${s.crisisAlerts.length}\n${alerts}` },
  });
  if (options.chartUrl) {
    blocks.push({
      type: 'image',
      image_url: options.chartUrl,
      alt_text: `Tickets per ${s.bucket}, by sentiment`,
      title: { type: 'plain_text', text: `Tickets per ${s.bucket}: negative, neutral, positive` },
    });
  } else if (s.timeline.length > 1) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Tickets per ${s.bucket}: \`${sparkline(s.timeline.map((p) => p.total))}\` · negative \`${sparkline(s.timeline.map((p) => p.negative))}\``,
        },
      ],
    });
  }
  const text = `${escapeMrkdwn(header)}: ${plural(s.volume.count, 'ticket')} · Median first response ${duration(s.firstResponse.medianSeconds)} · SLA attainment ${percent(s.sla.firstResponse.attainment)}`;
  return { text, blocks };
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  // Cells a spreadsheet would run as formulas are quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The report's rows as CSV: `section,key,label,value,previous`. */
export function buildSummaryCsv(s: LeadSummary): string {
  const rows: unknown[][] = [['section', 'key', 'label', 'value', 'previous']];
  const push = (section: string, changes: readonly Change[]) => {
    for (const c of changes) rows.push([section, c.key, c.label, c.count, c.previous]);
  };
  rows.push(['volume', 'total', 'Tickets', s.volume.count, s.volume.previous]);
  rows.push(['volume', 'spam', 'Spam', s.spam, '']);
  push('category', s.byCategory);
  push('sentiment', s.bySentiment);
  push('source', s.bySource);
  push('topic', s.topTopics);
  rows.push(['first_response', 'median_seconds', 'Median', s.firstResponse.medianSeconds, '']);
  rows.push(['first_response', 'p90_seconds', 'p90', s.firstResponse.p90Seconds, '']);
  rows.push(['resolution', 'median_seconds', 'Median', s.resolution.medianSeconds, '']);
  rows.push(['resolution', 'p90_seconds', 'p90', s.resolution.p90Seconds, '']);
  rows.push(['resolution', 'rate', 'Resolution rate', s.resolutionRate, '']);
  rows.push(['sla', 'first_response_attainment', 'First response', s.sla.firstResponse.attainment, '']);
  rows.push(['sla', 'resolution_attainment', 'Resolution', s.sla.resolution.attainment, '']);
  for (const b of s.backlog.buckets) rows.push(['backlog', b.label, b.label, b.count, '']);
  for (const a of s.agents) {
    rows.push(['agent_claimed', a.agent, a.agent, a.claimed, '']);
    rows.push(['agent_replied', a.agent, a.agent, a.replied, '']);
    rows.push(['agent_resolved', a.agent, a.agent, a.resolved, '']);
    rows.push(['agent_median_first_response_seconds', a.agent, a.agent, a.medianFirstResponseSeconds, '']);
  }
  rows.push(['customers', 'answered', 'Customers answered', s.customersAnswered, s.customers]);
  for (const a of s.crisisAlerts) rows.push(['crisis_alert', a.id, a.title, a.status, a.firstSeenAt]);
  for (const p of s.timeline) rows.push(['timeline', p.at, `negative ${p.negative}`, p.total, '']);
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}
