import { readFileSync } from 'node:fs';
import { eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from '../../src/crisis/detector.js';
import { authors, items, tickets } from '../../src/db/schema/index.js';
import { webhookItemSchema } from '../../src/ingest/webhook.js';
import { demoDelayMs, demoWebhookBody, loadDemoPosts } from '../../src/sandbox/demo/feed.js';
import { DEMO_VIPS } from '../../src/sandbox/demo/vips.js';
import { SEED } from '../../src/sandbox/index.js';
import { KINDS, type SandboxApp, startSandboxApp } from './sandbox-helpers.js';

const posts = loadDemoPosts();

describe('the bundled demo posts', () => {
  it('are 60 to 100 posts with unique ids, labelled as written for Earshot', () => {
    expect(posts.length).toBeGreaterThanOrEqual(60);
    expect(posts.length).toBeLessThanOrEqual(100);
    expect(new Set(posts.map((p) => p.id)).size).toBe(posts.length);
    const readme = readFileSync(new URL('../../src/sandbox/demo/README.md', import.meta.url), 'utf8');
    expect(readme).toContain('were written for Earshot');
  });

  it('mix questions, complaints, bug reports, praise, suggestions, other languages and spam', () => {
    const count = (kind: string) => posts.filter((p) => p.kind === kind).length;
    for (const kind of ['question', 'complaint', 'bug', 'praise', 'suggestion', 'other-language'])
      expect(count(kind), kind).toBeGreaterThanOrEqual(5);
    expect(count('spam')).toBeGreaterThanOrEqual(1);
  });

  it('hold one burst, in a row, with a negative post by an account above the influencer threshold', () => {
    const first = posts.findIndex((p) => p.burst);
    const last = posts.findLastIndex((p) => p.burst);
    expect(posts.slice(first, last + 1).every((p) => p.burst)).toBe(true);
    expect(last - first + 1).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.minCount);
    const influencer = posts.filter((p) => p.influencer);
    expect(influencer).toHaveLength(1);
    expect(influencer[0]?.burst).toBe(true);
    expect(influencer[0]!.author.followers).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.influencerFollowers);
    // The burst comes at a pace the page can follow but fast enough to be one wave.
    expect(posts.slice(first, last + 1).every((p) => p.gap <= 5)).toBe(true);
  });

  it('become valid webhook bodies whose ids are unique per run, follow-ups threaded to their post', () => {
    const now = new Date('2026-01-01T10:00:00Z');
    const a = posts.map((p) => demoWebhookBody(p, { runId: 'r1', now }));
    const b = posts.map((p) => demoWebhookBody(p, { runId: 'r2', now }));
    for (const body of a) expect(webhookItemSchema.safeParse(JSON.parse(JSON.stringify(body))).success).toBe(true);
    expect(new Set(a.map((body) => body.id)).size).toBe(posts.length);
    expect(a.map((body) => body.id).filter((id) => b.some((other) => other.id === id))).toEqual([]);
    const followUp = a.find((body) => body.parent_id);
    expect(followUp?.parent_id).toMatch(/^demo-r1-p\d{3}$/);
    expect(a.some((body) => body.id === followUp?.parent_id)).toBe(true);
    // The webhook body carries only the documented fields.
    expect(JSON.stringify(a)).not.toMatch(/"(kind|gap|burst|influencer)"/);
  });

  it('name only VIPs who write in the demo', () => {
    for (const vip of DEMO_VIPS)
      expect(
        posts.some((p) => p.author.handle === vip.handle),
        vip.handle,
      ).toBe(true);
  });

  it('are paced by their gaps divided by the speed', () => {
    expect(demoDelayMs({ gap: 6 }, 1)).toBe(6000);
    expect(demoDelayMs({ gap: 6 }, 10)).toBe(600);
  });
});

if (!process.env.TEST_DATABASE_URL) {
  describe.skip('the demo feed in sandbox mode [postgres: set TEST_DATABASE_URL to run]', () => {
    it('runs against real PostgreSQL', () => {});
  });
}

describe.each(KINDS)('the demo feed in sandbox mode [%s]', (kind) => {
  let s: SandboxApp;

  beforeAll(async () => {
    s = await startSandboxApp({ kind, start: { demo: { speed: 500 } } });
    await s.sandbox.demo?.finished();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('posts every demo post through the signed webhook, under ids of this run', async () => {
    const stored = await s.app.context.db.select().from(items).where(like(items.externalId, 'demo-%'));
    expect(stored).toHaveLength(posts.length);
    const runs = new Set(stored.map((item) => /^demo-([^-]+)-p\d{3}$/.exec(item.externalId)?.[1]));
    expect(runs.size).toBe(1);
    expect(s.lines.some((line) => line.msg === 'demo post refused')).toBe(false);
  });

  it('lists the demo VIP, whose post arrives with the VIP points and nobody else’s does', async () => {
    const db = s.app.context.db;
    const scored = await db
      .select({ handle: authors.handle, vip: authors.vip, reasons: tickets.priorityReasons })
      .from(tickets)
      .innerJoin(authors, eq(authors.id, tickets.authorId));
    const vips = scored.filter((t) => t.reasons.includes('VIP'));
    expect(new Set(vips.map((t) => t.handle))).toEqual(new Set(DEMO_VIPS.map((v) => v.handle)));
    expect(vips.every((t) => t.vip)).toBe(true);
  });

  it('trips the crisis detector with the burst and checks at once, without waiting for the cron minute', async () => {
    const ws = s.sandbox.sandbox.workspace;
    const alert = await ws.waitForMessage(
      SEED.channels.oncall,
      (message) => JSON.stringify(message.blocks ?? []).includes('tomsavesmoney'),
      { timeoutMs: 30_000 },
    );
    expect(JSON.stringify(alert)).toContain(`<!subteam^${SEED.usergroups.oncall}`);
    const burst = s.lines.findIndex((line) => line.msg === 'demo burst sent; checking for a crisis now');
    expect(burst).toBeGreaterThanOrEqual(0);
    const check = s.lines
      .slice(burst)
      .find((line) => line.job === 'crisis-detection' && line.msg === 'job run succeeded');
    expect(Number(check?.signals)).toBeGreaterThanOrEqual(1);
  });
});
