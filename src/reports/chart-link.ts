import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SummaryFilter } from './summarize.js';

/** What a chart URL names: a period, a filter, and the zone its buckets are laid out in. */
export interface ChartParams {
  from: Date;
  to: Date;
  timeZone: string;
  filter: SummaryFilter;
}

export const CHART_PATH = '/reports/chart.png';

function canonical(p: ChartParams): URLSearchParams {
  const q = new URLSearchParams();
  q.set('from', p.from.toISOString());
  q.set('to', p.to.toISOString());
  q.set('tz', p.timeZone);
  if (p.filter.sourceId !== undefined) q.set('source', String(p.filter.sourceId));
  if (p.filter.channel !== undefined) q.set('channel', p.filter.channel);
  if (p.filter.tag !== undefined) q.set('tag', p.filter.tag);
  return q;
}

function sign(query: string, secret: string): string {
  return createHmac('sha256', secret).update(`earshot-chart:${query}`).digest('base64url');
}

/**
 * A signed URL Slack can fetch the chart from: the image block points at the app itself, so no
 * upload is needed, and the signature keeps anyone else from reading report data through it.
 */
export function chartUrl(publicUrl: string, secret: string, params: ChartParams): string {
  const q = canonical(params);
  q.set('sig', sign(q.toString(), secret));
  return `${publicUrl.replace(/\/$/, '')}${CHART_PATH}?${q.toString()}`;
}

/** Reads and verifies a chart URL's query; null when the signature or a value is wrong. */
export function readChartQuery(search: URLSearchParams, secret: string): ChartParams | null {
  const sig = search.get('sig') ?? '';
  const from = new Date(search.get('from') ?? '');
  const to = new Date(search.get('to') ?? '');
  const timeZone = search.get('tz') ?? 'UTC';
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to <= from) return null;
  const source = search.get('source');
  const filter: SummaryFilter = {
    ...(source !== null && /^\d+$/.test(source) ? { sourceId: Number(source) } : {}),
    ...(search.get('channel') !== null ? { channel: search.get('channel')! } : {}),
    ...(search.get('tag') !== null ? { tag: search.get('tag')! } : {}),
  };
  const params = { from, to, timeZone, filter };
  const expected = Buffer.from(sign(canonical(params).toString(), secret));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return params;
}

/** A crisis alert's trend chart: counts per window of `stepMinutes`, oldest first. */
export interface TrendChartParams {
  trend: number[];
  stepMinutes: number;
}

const MAX_TREND_POINTS = 96;

function canonicalTrend(p: TrendChartParams): URLSearchParams {
  const q = new URLSearchParams();
  q.set('trend', p.trend.join(','));
  q.set('step', String(p.stepMinutes));
  return q;
}

function signTrend(query: string, secret: string): string {
  return createHmac('sha256', secret).update(`earshot-trend:${query}`).digest('base64url');
}

/**
 * A signed URL of a trend chart. The counts travel in the URL (they are all the chart needs), so
 * every new reading of a wave is a new URL and Slack fetches the image afresh instead of caching it.
 */
export function trendChartUrl(publicUrl: string, secret: string, params: TrendChartParams): string {
  const trend = params.trend.slice(-MAX_TREND_POINTS).map((n) => Math.max(0, Math.round(n)));
  const q = canonicalTrend({ trend, stepMinutes: params.stepMinutes });
  q.set('sig', signTrend(q.toString(), secret));
  return `${publicUrl.replace(/\/$/, '')}${CHART_PATH}?${q.toString()}`;
}

/** Reads and verifies a trend chart URL's query; null when it is not one, or is tampered with. */
export function readTrendQuery(search: URLSearchParams, secret: string): TrendChartParams | null {
  const raw = search.get('trend');
  const step = Number(search.get('step'));
  if (raw === null || !/^\d{1,7}(,\d{1,7}){0,95}$/.test(raw) || !Number.isInteger(step) || step <= 0) return null;
  const params = { trend: raw.split(',').map(Number), stepMinutes: step };
  const expected = Buffer.from(signTrend(canonicalTrend(params).toString(), secret));
  const given = Buffer.from(search.get('sig') ?? '');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return params;
}
