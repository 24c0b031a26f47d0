import { describe, expect, it } from 'vitest';
import { type CrisisPost, type CrisisSignal, DEFAULT_THRESHOLDS, detectCrises } from '../../src/crisis/detector.js';

/**
 * A replayable day: seven days of history and one replayed day of ordinary traffic (diurnal, two
 * sources, a handful of topics, a quarter negative), fed minute by minute through the pure detector
 * with explicit timestamps. A seeded generator makes every run identical.
 */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(random: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k += 1;
    p *= random();
  }
  return k;
}

const TOPICS = ['delivery', 'refund', 'app', 'login', 'pricing', 'shipping'];
const DAY0 = Date.UTC(2026, 2, 10); // the replayed day, 00:00 UTC
const MINUTE = 60_000;

function baselineTraffic(seed: number): CrisisPost[] {
  const random = mulberry32(seed);
  const posts: CrisisPost[] = [];
  for (let minute = -7 * 1440; minute < 1440; minute++) {
    const hour = (((minute % 1440) + 1440) % 1440) / 60;
    // Quiet at night, busiest mid-afternoon.
    const diurnal = 0.5 - 0.5 * Math.cos(((hour - 3) / 24) * 2 * Math.PI);
    for (const [sourceId, scale] of [
      [1, 1],
      [2, 0.5],
    ] as const) {
      const n = poisson(random, scale * (0.25 + 1.0 * diurnal));
      for (let i = 0; i < n; i++) {
        const roll = random();
        posts.push({
          at: new Date(DAY0 + minute * MINUTE + Math.floor(random() * MINUTE)),
          sourceId,
          sourceName: sourceId === 1 ? 'x' : 'webhook',
          topics: [TOPICS[Math.floor(random() * TOPICS.length)]!],
          sentiment: roll < 0.25 ? 'negative' : roll < 0.75 ? 'neutral' : 'positive',
          followers: Math.floor(random() * 5_000),
          text: 'my order is late again',
          author: `user${Math.floor(random() * 5000)}`,
        });
      }
    }
  }
  return posts.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The outage: 12 angry posts a minute about one topic on X for 40 minutes from 14:07. */
function spike(start: number): CrisisPost[] {
  const random = mulberry32(99);
  const posts: CrisisPost[] = [];
  for (let minute = 0; minute < 40; minute++) {
    for (let i = 0; i < 12; i++) {
      posts.push({
        at: new Date(start + minute * MINUTE + Math.floor(random() * MINUTE)),
        sourceId: 1,
        sourceName: 'x',
        topics: ['outage', 'app'],
        sentiment: 'negative',
        followers: Math.floor(random() * 3_000),
        text: `app is down again, cannot log in ${i}`,
        author: `angry${minute}-${i}`,
        ticketId: 1000 + minute * 12 + i,
      });
    }
  }
  return posts;
}

/** Runs the detector every minute of the replayed day; returns (minute, signals) for minutes with any. */
function replay(posts: CrisisPost[]): { at: number; signals: CrisisSignal[] }[] {
  const sorted = [...posts].sort((a, b) => a.at.getTime() - b.at.getTime());
  const fired: { at: number; signals: CrisisSignal[] }[] = [];
  let upTo = 0;
  let from = 0;
  for (let minute = 1; minute <= 1440; minute++) {
    const now = DAY0 + minute * MINUTE;
    while (upTo < sorted.length && sorted[upTo]!.at.getTime() < now) upTo++;
    while (from < upTo && sorted[from]!.at.getTime() < now - 7 * 1440 * MINUTE - 20 * MINUTE) from++;
    // The detector sees only what had arrived by `now`, and the first post ever seen (for its learning period).
    const visible = from > 0 ? [sorted[0]!, ...sorted.slice(from, upTo)] : sorted.slice(0, upTo);
    const signals = detectCrises(visible, new Date(now), DEFAULT_THRESHOLDS);
    if (signals.length > 0) fired.push({ at: now, signals });
  }
  return fired;
}

describe('crisis scenario: a day of traffic replayed through the detector', () => {
  const baseline = baselineTraffic(7);

  it('raises nothing on a day of ordinary traffic', () => {
    const fired = replay(baseline);
    expect(fired.map((f) => [new Date(f.at).toISOString(), f.signals.map((s) => s.title)])).toEqual([]);
  });

  it('alerts on an injected spike within 5 minutes of its start, as one wave per trigger', () => {
    const start = DAY0 + (14 * 60 + 7) * MINUTE;
    const fired = replay([...baseline, ...spike(start)]);
    expect(fired.length).toBeGreaterThan(0);
    const first = fired[0]!;
    expect(first.at).toBeGreaterThan(start);
    expect(first.at - start).toBeLessThanOrEqual(5 * MINUTE);
    const signal = first.signals.find((s) => s.kind === 'volume');
    expect(signal).toMatchObject({ groupKey: 'source:1', topic: 'outage' });
    expect(signal!.count).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.minCount);
    expect(signal!.samples.length).toBeGreaterThan(0);
    expect(signal!.topTerms.map((t) => t.term)).toContain('down');
    expect(signal!.ticketIds.length).toBe(signal!.count);
    // Every alert of the wave falls under a couple of group keys: one alert per key updates, not fifty.
    const keys = new Set(fired.flatMap((f) => f.signals.map((s) => s.groupKey)));
    expect([...keys].sort()).toEqual(['source:1']);
    // Nothing fires before the spike.
    expect(fired.every((f) => f.at > start)).toBe(true);
  });

  it('flags a negative post by a high-influence author at once', () => {
    const at = DAY0 + 10 * 60 * MINUTE;
    const post: CrisisPost = {
      at: new Date(at),
      sourceId: 1,
      topics: ['refund'],
      sentiment: 'negative',
      followers: 250_000,
      author: '@celebrity',
      text: 'Worst refund experience ever',
    };
    const signals = detectCrises([...baseline.filter((p) => p.at.getTime() < at), post], new Date(at + MINUTE));
    expect(signals.map((s) => [s.kind, s.groupKey])).toEqual([['influencer', 'influencer:1:@celebrity']]);
    expect(signals[0]!.title).toBe('Negative post by @celebrity (250k followers)');
    // One post's own words are not the wave's terms: the card quotes the post instead.
    expect(signals[0]!.topTerms).toEqual([]);
    expect(signals[0]!.samples.map((p) => p.text)).toEqual(['Worst refund experience ever']);
  });

  it('flags one topic spiking across several sources', () => {
    const at = DAY0 + 11 * 60 * MINUTE;
    const wave: CrisisPost[] = [];
    for (let i = 0; i < 30; i++) {
      for (const sourceId of [1, 2]) {
        wave.push({
          at: new Date(at - (i % 10) * MINUTE - 1000),
          sourceId,
          topics: ['recall'],
          sentiment: 'neutral',
          followers: 10,
          text: 'is the recall real?',
        });
      }
    }
    const signals = detectCrises([...baseline.filter((p) => p.at.getTime() < at), ...wave], new Date(at));
    expect(signals.map((s) => s.kind).sort()).toEqual(['cross_source', 'volume', 'volume']);
    expect(signals.find((s) => s.kind === 'cross_source')).toMatchObject({
      groupKey: 'topic:recall',
      sourceIds: [1, 2],
    });
  });
});
