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
