import { inflateSync } from 'node:zlib';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { outbox, tickets } from '../../src/db/schema/index.js';
import { buildLeadSummaryBlocks, buildSummaryCsv } from '../../src/reports/blocks.js';
import { renderTrendChart, renderVolumeChart } from '../../src/reports/chart.js';
import { chartUrl, readChartQuery, readTrendQuery, trendChartUrl } from '../../src/reports/chart-link.js';
import { postDigest } from '../../src/reports/digest.js';
import { parseSummaryArgs, startOfLocalDay } from '../../src/reports/period.js';
import type { LeadSummary } from '../../src/reports/summarize.js';
import { prepareSummary, runSummary } from '../../src/slack/commands/summary.js';
import { describeEachDatabase } from '../helpers/database.js';
import { seedSource } from '../helpers/fixtures.js';

const NOW = new Date('2026-03-10T15:30:00Z');

describe('summary arguments', () => {
  it('reads periods as whole local days, a filter word and csv', () => {
    expect(parseSummaryArgs('', NOW, 'UTC')).toMatchObject({
      from: new Date('2026-03-10T00:00:00Z'),
      to: NOW,
      label: 'Today',
    });
    expect(parseSummaryArgs('7d vip csv', NOW, 'UTC')).toMatchObject({
      from: new Date('2026-03-03T15:30:00Z'),
      filterWord: 'vip',
      csv: true,
    });
    expect(parseSummaryArgs('2026-03-01..2026-03-07 x', NOW, 'Europe/Berlin')).toMatchObject({
      from: new Date('2026-02-28T23:00:00Z'),
      to: new Date('2026-03-07T23:00:00Z'),
      filterWord: 'x',
    });
    expect(parseSummaryArgs('yesterday', NOW, 'America/New_York')).toMatchObject({
      from: new Date('2026-03-09T04:00:00Z'),
      to: new Date('2026-03-10T04:00:00Z'),
    });
    expect(() => parseSummaryArgs('2026-03-07..2026-03-01', NOW, 'UTC')).toThrow(/date range/);
    expect(() => parseSummaryArgs('7d a b', NOW, 'UTC')).toThrow(/Usage/);
    expect(startOfLocalDay(NOW, 'Asia/Tokyo')).toEqual(new Date('2026-03-10T15:00:00Z'));
  });
});

const summary: LeadSummary = {
  from: new Date('2026-03-02T00:00:00Z'),
  to: new Date('2026-03-03T00:00:00Z'),
  previousFrom: new Date('2026-03-01T00:00:00Z'),
  filter: {},
  volume: { key: 'total', label: 'Tickets', count: 5, previous: 2, change: 1.5 },
  byCategory: [{ key: 'complaint', label: 'Complaint', count: 2, previous: 1, change: 1 }],
  bySentiment: [{ key: 'negative', label: 'Negative', count: 3, previous: 1, change: 2 }],
  bySource: [{ key: '1', label: '<!channel> source', count: 5, previous: 2, change: 1.5 }],
  spam: 1,
  firstResponse: { count: 4, medianSeconds: 1200, p90Seconds: 5580 },
  resolution: { count: 2, medianSeconds: 9000, p90Seconds: 13320 },
  resolutionRate: 0.4,
  resolved: 2,
  sla: { firstResponse: { met: 3, breached: 1, attainment: 0.75 }, resolution: { met: 2, breached: 0, attainment: 1 } },
  backlog: { total: 3, buckets: [{ label: '< 1 h', count: 3 }] },
  topTopics: [{ key: 'checkout', label: 'checkout', count: 2, previous: 1, change: 1 }],
  agents: [{ agent: 'U1', claimed: 2, replied: 2, resolved: 2, medianFirstResponseSeconds: 3900 }],
  crisisAlerts: [
    { id: 1, kind: 'volume', title: 'Volume spike', status: 'resolved', firstSeenAt: new Date('2026-03-02T14:00:00Z') },
  ],
  customersAnswered: 2,
  customers: 4,
  timeline: [
    { at: new Date('2026-03-02T09:00:00Z'), total: 2, negative: 1, neutral: 1, positive: 0 },
    { at: new Date('2026-03-02T10:00:00Z'), total: 3, negative: 2, neutral: 0, positive: 1 },
  ],
  bucket: 'hour',
};

describe('report rendering', () => {
  it('builds Block Kit with every section, escaped names, and the chart image when there is a URL', () => {
    const { text, blocks } = buildLeadSummaryBlocks(summary, {
      title: 'Yesterday',
      chartUrl: 'https://e.example/c.png',
    });
    const json = JSON.stringify(blocks);
    expect(text).toBe('Yesterday: 5 tickets · Median first response 20m · SLA attainment 75%');
    expect(json).toContain('*5* tickets (+150%) vs 2 the period before');
    expect(json).toContain('*2* of 4 customers received an answer');
    expect(json).toContain('median *20m*, p90 1h 33m (4)');
    expect(json).toContain('*40%* (2 of 5)');
    expect(json).toContain('&lt;!channel&gt; source *5* (+150%)');
    expect(json).toContain('<@U1> claimed *2*');
    expect(json).toContain('"type":"image"');
    const noChart = JSON.stringify(buildLeadSummaryBlocks(summary, { title: 'Yesterday' }).blocks);
    expect(noChart).not.toContain('"type":"image"');
    expect(noChart).toContain('Tickets per hour');
  });

  it('says once that the period before had no tickets, instead of "(new)" after every count', () => {
    const first = buildLeadSummaryBlocks(
      {
        ...summary,
        volume: { ...summary.volume, previous: 0, change: null },
        byCategory: summary.byCategory.map((c) => ({ ...c, previous: 0, change: null })),
        topTopics: summary.topTopics.map((c) => ({ ...c, previous: 0, change: null })),
      },
      { title: 'Today' },
    );
    const json = JSON.stringify(first.blocks);
    expect(json).toContain('*5* tickets, none the period before');
    expect(json).not.toContain('(new)');
    expect(json).not.toContain('%)');
  });

  it('writes CSV rows, quoting and defusing formula-like cells', () => {
    const csv = buildSummaryCsv({
      ...summary,
      topTopics: [{ key: '=cmd()', label: '=cmd()', count: 1, previous: 0, change: null }],
    });
    expect(csv.split('\n')[0]).toBe('section,key,label,value,previous');
    expect(csv).toContain('volume,total,Tickets,5,2');
    expect(csv).toContain("topic,'=cmd(),'=cmd(),1,0");
    expect(csv).toContain('first_response,p90_seconds,p90,5580,');
  });

  it('renders the chart as a valid PNG of the requested size', () => {
    const png = renderVolumeChart(summary.timeline, { width: 300, height: 120 });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(300);
    expect(png.readUInt32BE(20)).toBe(120);
    const idatAt = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
    expect(raw.length).toBe((300 * 4 + 1) * 120);
    // Some pixel is the negative red of the bars.
    let red = false;
    for (let i = 0; i + 3 < raw.length; i++) if (raw[i] === 224 && raw[i + 1] === 30 && raw[i + 2] === 90) red = true;
    expect(red).toBe(true);
  });

  it('renders a crisis trend with the triggering window in red, and signs its links', () => {
    const png = renderTrendChart([1, 2, 1, 9], { width: 200, height: 80 });
    expect(png.readUInt32BE(16)).toBe(200);
    const idatAt = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
    let red = 0;
    for (let i = 0; i + 3 < raw.length; i++) if (raw[i] === 224 && raw[i + 1] === 30 && raw[i + 2] === 90) red += 1;
    expect(red).toBeGreaterThan(0);
    const url = new URL(trendChartUrl('https://e.example', 's3cret', { trend: [1, 2, 1, 9], stepMinutes: 15 }));
    expect(url.pathname).toBe('/reports/chart.png');
    expect(readTrendQuery(url.searchParams, 's3cret')).toEqual({ trend: [1, 2, 1, 9], stepMinutes: 15 });
    expect(readTrendQuery(url.searchParams, 'other')).toBeNull();
    url.searchParams.set('trend', '1,2,1,90');
    expect(readTrendQuery(url.searchParams, 's3cret')).toBeNull();
    url.searchParams.set('trend', 'x');
    expect(readTrendQuery(url.searchParams, 's3cret')).toBeNull();
  });

  it('signs chart links and refuses tampered ones', () => {
    const url = new URL(
      chartUrl('https://e.example/', 's3cret', {
        from: summary.from,
        to: summary.to,
        timeZone: 'UTC',
        filter: { tag: 'vip' },
      }),
    );
    expect(url.pathname).toBe('/reports/chart.png');
    expect(readChartQuery(url.searchParams, 's3cret')).toEqual({
      from: summary.from,
      to: summary.to,
      timeZone: 'UTC',
      filter: { tag: 'vip' },
    });
    url.searchParams.set('tag', 'other');
    expect(readChartQuery(url.searchParams, 's3cret')).toBeNull();
  });
});

describeEachDatabase(
  'summary command and digests',
  (handle) => {
    it('answers /earshot summary with a source filter and csv, and queues each digest once', async () => {
      const { db } = handle();
      const source = await seedSource(db, 'digest-src');
      const { authors } = await import('../../src/db/schema/index.js');
      const [author] = await db.insert(authors).values({ sourceId: source.id, externalId: 'd1' }).returning();
      await db.insert(tickets).values({
        sourceId: source.id,
        authorId: author!.id,
        channel: 'C1',
        lastCustomerMessageAt: new Date('2026-03-09T10:00:00Z'),
        createdAt: new Date('2026-03-09T10:00:00Z'),
      });
      const config = loadConfig({ EARSHOT_PUBLIC_URL: 'https://earshot.example', SLACK_SIGNING_SECRET: 'x' });
      const reply = await runSummary(db, config, '2026-03-09..2026-03-09 digest-src', NOW);
      expect(reply.text).toContain('2026-03-09 – 2026-03-09 · source digest-src: 1 ticket');
      expect(JSON.stringify(reply.blocks)).toContain('https://earshot.example/reports/chart.png?');
      const prepared = await prepareSummary(db, config, 'yesterday digest-src csv', NOW);
      expect(prepared.csv?.filename).toBe('earshot-summary-2026-03-09_2026-03-09-digest-src.csv');
      expect(prepared.csv?.content.split('\n')).toContain('volume,total,Tickets,1,0');
      expect((await prepareSummary(db, config, 'yesterday', NOW)).csv).toBeNull();
      await expect(runSummary(db, config, '1y', NOW)).rejects.toThrow('`today`, `7d` or `30d`');

      const options = { channel: 'C0LEADS', timeZone: 'UTC' };
      expect((await postDigest(db, 'daily', NOW, options)).queued).toBe(1);
      expect((await postDigest(db, 'daily', NOW, options)).queued).toBe(0);
      expect((await postDigest(db, 'weekly', NOW, options)).tickets).toBe(1);
      const rows = await db.select().from(outbox).where(eq(outbox.channel, 'C0LEADS'));
      expect(rows.map((r) => String(r.payload.text))).toEqual([
        'Daily digest: 2026-03-09: 1 ticket · Median first response – · SLA attainment –',
        'Weekly digest: 2026-03-03 – 2026-03-09: 1 ticket · Median first response – · SLA attainment –',
      ]);
    });
  },
  ['pglite'],
);
