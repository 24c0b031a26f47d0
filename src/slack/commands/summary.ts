import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
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

/** A lead report ready to answer with, and its rows as a CSV file when `csv` was asked for. */
export interface PreparedSummary {
  message: { text: string; blocks: KnownBlock[] };
  csv: { filename: string; title: string; content: string } | null;
}

function fileDay(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone }).format(date);
}

/** The full lead report for a period (see src/reports); what `/earshot summary` answers. */
export async function prepareSummary(
  db: Database,
  config: Config,
  args: string,
  now = new Date(),
): Promise<PreparedSummary> {
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
  if (!request.csv) return { message, csv: null };
  const last = new Date(request.to.getTime() - 1);
  const span = `${fileDay(request.from, timeZone)}_${fileDay(last, timeZone)}`;
  const scope = request.filterWord ? `-${request.filterWord.replace(/[^\w-]+/g, '').slice(0, 40)}` : '';
  return {
    message,
    csv: {
      filename: `earshot-summary-${span}${scope}.csv`,
      title: `Earshot summary ${request.label}${label ? ` (${label.replace(/[<>*]/g, '')})` : ''}`,
      content: buildSummaryCsv(summary),
    },
  };
}

/** The report as `/earshot summary` answers it without `csv`. */
export async function runSummary(db: Database, config: Config, args: string, now = new Date()) {
  return (await prepareSummary(db, config, args, now)).message;
}

/**
 * Uploads the report's CSV into the user's DM with Earshot (files.uploadV2: upload URL, bytes,
 * complete), private like the answer itself, and returns the file's permalink.
 */
export async function uploadSummaryCsv(
  client: WebClient,
  userId: string,
  file: NonNullable<PreparedSummary['csv']>,
): Promise<string | null> {
  const dm = await client.conversations.open({ users: userId });
  const channel = dm.channel?.id;
  if (!channel) throw new AppError('upstream_failed', 'Slack did not open a DM to send the CSV to.');
  const uploaded = (await client.filesUploadV2({
    channel_id: channel,
    filename: file.filename,
    title: file.title,
    content: file.content,
    initial_comment: `${file.title}: the rows of the report, as CSV.`,
  })) as unknown as { files?: { files?: { permalink?: string }[] }[] };
  return uploaded.files?.[0]?.files?.[0]?.permalink ?? null;
}

/** `summary [today|yesterday|7d|30d|<from>..<to>] [source|#channel|tag] [csv]`: the lead report; sharing needs a lead. */
export const summaryCommand: ShareableSubcommand = {
  name: 'summary',
  usage: 'summary [today|7d|30d|<from>..<to>] [source|#channel|tag] [csv]',
  summary:
    'the lead report: volume, response times, SLA, backlog, agents, crisis alerts; `csv` sends the rows as a file',
  permission: 'report.view',
  sharePermission: 'report.share',
  run: async ({ db, config, args, client, userId }) => {
    const { message, csv } = await prepareSummary(db, config, args);
    if (!csv) return message;
    if (!client) throw new AppError('upstream_failed', 'The CSV is sent through Slack, which is not connected here.');
    const permalink = await uploadSummaryCsv(client, userId, csv);
    const link = permalink ? `<${permalink}|${escapeMrkdwn(csv.filename)}>` : `*${escapeMrkdwn(csv.filename)}*`;
    return {
      text: `:page_facing_up: ${message.text}
The CSV is in your DM with Earshot: ${link}`,
      responseType: 'ephemeral',
    };
  },
};
