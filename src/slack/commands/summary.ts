import type { KnownBlock } from '@slack/types';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { AppError } from '../../errors.js';
import { buildLeadSummaryBlocks, buildSummaryCsv } from '../../reports/blocks.js';
import { chartUrl } from '../../reports/chart-link.js';
import { parseSummaryArgs } from '../../reports/period.js';
import { type SummaryFilter, summarize } from '../../reports/summarize.js';
import { getSourceByName } from '../../sources/sources.js';
import { escapeMrkdwn } from '../mrkdwn.js';
import type { ShareableSubcommand } from './dispatch.js';

const PERIODS = ['today', '7d', '30d'] as const;
export type SummaryPeriod = (typeof PERIODS)[number];

/** Reads `today`, `7d`, `30d` (default `today`); kept for callers of the basic summary. */
export function parsePeriod(args: string): SummaryPeriod {
  const word = args.trim().toLowerCase() || 'today';
  const period = PERIODS.find((p) => p === word);
  if (!period) throw new AppError('invalid_input', 'The period is `today`, `7d` or `30d`: `/earshot summary 7d`.');
  return period;
}

/** A word after the period: a source by name, a channel (`#name` or id), else a tag. */
export async function resolveSummaryFilter(
  db: Database,
  word: string | null,
): Promise<{ filter: SummaryFilter; label: string | null }> {
  if (!word) return { filter: {}, label: null };
  const source = await getSourceByName(db, word);
  if (source) return { filter: { sourceId: source.id }, label: `source ${source.name}` };
  const channel = /^<#([CG][A-Z0-9]+)(\|[^>]*)?>$/.exec(word)?.[1] ?? (/^[CG][A-Z0-9]{6,}$/.test(word) ? word : null);
  if (channel) return { filter: { channel }, label: `<#${channel}>` };
  if (word.startsWith('#')) return { filter: { channel: word.slice(1) }, label: `#${escapeMrkdwn(word.slice(1))}` };
  const tag = word.toLowerCase();
  return { filter: { tag }, label: `tag ${escapeMrkdwn(tag)}` };
}

function csvBlocks(csv: string): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  const lines = csv.trimEnd().split('\n');
  let chunk: string[] = [];
  const flush = () => {
    if (chunk.length)
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${escapeMrkdwn(chunk.join('\n'))}\`\`\`` } });
    chunk = [];
  };
  for (const line of lines) {
    if ([...chunk, line].join('\n').length > 2_400) flush();
    chunk.push(line);
    if (blocks.length >= 20) break;
  }
  flush();
  return blocks.slice(0, 20);
}

/** The full lead report for a period (see src/reports); what `/earshot summary` answers. */
export async function runSummary(db: Database, config: Config, args: string, now = new Date()) {
  const timeZone = config.EARSHOT_DIGEST_TIMEZONE;
  if (/^\d+[a-z]+$/i.test(args.trim().split(/\s+/)[0] ?? '') && !/^\d{1,3}d$/i.test(args.trim().split(/\s+/)[0]!)) {
    throw new AppError(
      'invalid_input',
      'The period is `today`, `7d` or `30d` (or `yesterday`, any `Nd`, or `2026-03-01..2026-03-07`).',
    );
  }
  const request = parseSummaryArgs(args, now, timeZone);
  const { filter, label } = await resolveSummaryFilter(db, request.filterWord);
  const summary = await summarize(db, { from: request.from, to: request.to, filter, timeZone, now });
  const secret = config.SLACK_SIGNING_SECRET;
  const url =
    config.EARSHOT_PUBLIC_URL && secret
      ? chartUrl(config.EARSHOT_PUBLIC_URL, secret, { from: request.from, to: request.to, timeZone, filter })
      : null;
  const message = buildLeadSummaryBlocks(summary, { title: request.label, chartUrl: url, filterLabel: label });
  if (!request.csv) return message;
  return { text: message.text, blocks: csvBlocks(buildSummaryCsv(summary)) };
}

/** `summary [today|yesterday|7d|30d|<from>..<to>] [source|#channel|tag] [csv]`: the lead report; sharing needs a lead. */
export const summaryCommand: ShareableSubcommand = {
  name: 'summary',
  usage: 'summary [today|7d|30d|<from>..<to>] [source|#channel|tag] [csv]',
  summary: 'the lead report: volume, response times, SLA, backlog, agents, crisis alerts',
  permission: 'report.view',
  sharePermission: 'report.share',
  run: async ({ db, config, args }) => runSummary(db, config, args),
};
