import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { authors, items, outbox, sources, tickets } from '../../src/db/schema/index.js';
import type { HttpServer } from '../../src/http/server.js';
import type { IngestPipeline } from '../../src/ingest/pipeline.js';
import { createLogger } from '../../src/logger.js';
import { createSource, rotateWebhookSecret, setSourceEnabled } from '../../src/sources/sources.js';
import type { Source } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, userActor } from '../helpers/fixtures.js';
import { signedHeaders } from '../helpers/webhooks.js';
import { startWebhookServer } from './helpers.js';

const logger = createLogger({ level: 'silent' });

function body(overrides: Record<string, unknown> = {}) {
  return {
    id: 'msg-1',
    author: { id: 'cust-1', handle: 'dana', name: 'Dana', followers: 120, verified: false },
    text: 'The app crashes when I open my invoices',
    url: 'https://support.example.com/m/1',
    created_at: '2026-11-20T10:00:00Z',
    thread_id: 'thread-1',
    language: 'en',
    ...overrides,
  };
}

function signed(secret: string, payload: string, options: { id?: string; at?: Date } = {}) {
  const id = options.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  return signedHeaders(secret, id, payload, options.at);
}

/**
 * The route keeps sources it read; a change made after that (here: a rotated secret, then the
 * source disabled behind Earshot's back, as another replica or an operator would) takes effect on
 * the next delivery, and the refused deliveries store nothing.
 */
async function expectSourceChangesSeenAtOnce(db: Database, url: string, name: string) {
  const source = await createSource(db, userActor('UADMIN', 'admin'), { name, kind: 'webhook' }, null);
  const post = (secret: string, id: string, overrides: Record<string, unknown> = {}) => {
    const payload = JSON.stringify(body({ id, ...overrides }));
    return fetch(`${url}/ingest/${name}`, { method: 'POST', body: payload, headers: signed(secret, payload) });
  };
  const enable = (enabled: boolean) => db.update(sources).set({ enabled }).where(eq(sources.id, source.id));
  const stored = async () => (await db.select().from(items).where(eq(items.sourceId, source.id))).length;
  expect((await post(source.secret!, `${name}-1`)).status).toBe(202);
  const rotated = await rotateWebhookSecret(db, userActor('UADMIN', 'admin'), name, null);
  expect((await post(source.secret!, `${name}-old-secret`)).status).toBe(401);
  expect(await stored()).toBe(1);
  expect((await post(rotated.secret!, `${name}-2`)).status).toBe(202);
  await enable(false);
  expect((await post(rotated.secret!, `${name}-disabled`)).status).toBe(404);
  // Refusals answer as before too: a gone source is a 404 ahead of a bad body or an oversize one.
  await enable(true);
  expect((await post(rotated.secret!, `${name}-3`)).status).toBe(202);
  await enable(false);
  expect((await post(rotated.secret!, `${name}-bad`, { text: '' })).status).toBe(404);
  await enable(true);
  expect((await post(rotated.secret!, `${name}-4`)).status).toBe(202);
  await enable(false);
  expect((await post(rotated.secret!, `${name}-big`, { text: 'z'.repeat(5_000) })).status).toBe(404);
  expect(await stored()).toBe(4);
  // The same through the admins' own way (`/earshot source enable|disable`).
  await setSourceEnabled(db, userActor('UADMIN', 'admin'), name, true);
  expect((await post(rotated.secret!, `${name}-5`)).status).toBe(202);
  await setSourceEnabled(db, userActor('UADMIN', 'admin'), name, false);
  expect((await post(rotated.secret!, `${name}-6`)).status).toBe(404);
  expect(await stored()).toBe(5);
}

describeEachDatabase('signed webhook ingestion', (handle) => {
  let http: HttpServer;
  let pipeline: IngestPipeline;
  let source: Source;

  beforeAll(async () => {
    const { db } = handle();
    source = await createSource(db, userActor('UADMIN', 'admin'), { name: 'app-feedback', kind: 'webhook' }, null);
    ({ pipeline, http } = await startWebhookServer(db, logger, {
      assess: async () => assessmentFixture({ priority: 'P2' }),
    }));
  });
  afterAll(async () => {
    await pipeline.stop();
    await http.close();
  });

  const post = (name: string, payload: string, headers: Record<string, string>) =>
    fetch(`${http.url}/ingest/${name}`, { method: 'POST', body: payload, headers });

  // Read once the queue is idle, so an earlier test's ticket being made meanwhile is not counted as this one's.
  const counts = async () => {
    await pipeline.idle();
    const { db } = handle();
    return {
      items: (await db.select().from(items)).length,
      authors: (await db.select().from(authors)).length,
      tickets: (await db.select().from(tickets)).length,
    };
  };

  it('accepts a signed post with 202, then triages it into a ticket off the request path', async () => {
    const payload = JSON.stringify(body());
    const res = await post('app-feedback', payload, signed(source.secret!, payload));
    expect(res.status).toBe(202);
    const result = await res.json();
    expect(result).toMatchObject({ status: 'accepted', id: 'msg-1' });
    await pipeline.idle();
    const { db } = handle();
    const [item] = await db.select().from(items).where(eq(items.externalId, 'msg-1'));
    expect(item).toMatchObject({ conversationId: 'thread-1', language: 'en', url: 'https://support.example.com/m/1' });
    expect(item?.processedAt).not.toBeNull();
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, item!.ticketId!));
    expect(ticket).toMatchObject({ priority: 'P2', sourceId: source.id });
    const [author] = await db.select().from(authors).where(eq(authors.id, item!.authorId));
    expect(author).toMatchObject({ handle: 'dana', displayName: 'Dana', followerCount: 120 });
  });

  it('answers a resend of the same id with 200 and the same result, storing nothing new', async () => {
    const payload = JSON.stringify(body({ id: 'msg-resend' }));
    const first = await post('app-feedback', payload, signed(source.secret!, payload));
    expect(first.status).toBe(202);
    const accepted = await first.json();
    // By the resend the item has its ticket; the answer is the same body all the same.
    await pipeline.idle();
    const before = await counts();
    const res = await post('app-feedback', payload, signed(source.secret!, payload));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(accepted);
    expect(accepted).toEqual({ status: 'accepted', id: 'msg-resend', itemId: expect.any(Number) });
    expect(await counts()).toEqual(before);
  });

  it('refuses a reply_url that could point Earshot at an internal host, storing nothing', async () => {
    const before = await counts();
    for (const replyUrl of [
      'http://169.254.169.254/latest/meta-data',
      'http://127.0.0.1:5432/',
      'ftp://files.example.com/x',
    ]) {
      const payload = JSON.stringify(body({ id: `ssrf-${before.items}-${replyUrl.length}`, reply_url: replyUrl }));
      const res = await post('app-feedback', payload, signed(source.secret!, payload));
      expect(res.status).toBe(400);
      const answer = (await res.json()) as { fields: { path: string; message: string }[] };
      expect(answer.fields).toEqual([{ path: 'reply_url', message: expect.stringContaining('https') }]);
    }
    expect(await counts()).toEqual(before);
  });

  it('accepts a reply_url override only on the host of the source’s own reply URL', async () => {
    const { db } = handle();
    const helpdesk = await createSource(
      db,
      userActor('UADMIN', 'admin'),
      {
        name: 'helpdesk-hooks',
        kind: 'webhook',
        settings: { replyUrl: 'https://helpdesk.example.com/earshot' },
      },
      null,
    );
    const elsewhere = JSON.stringify(body({ id: 'hd-1', reply_url: 'https://attacker.example.net/collect' }));
    const refused = await post('helpdesk-hooks', elsewhere, signed(helpdesk.secret!, elsewhere));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('helpdesk.example.com');
    const sameHost = JSON.stringify(body({ id: 'hd-2', reply_url: 'https://helpdesk.example.com/tickets/9/replies' }));
    expect((await post('helpdesk-hooks', sameHost, signed(helpdesk.secret!, sameHost))).status).toBe(202);
    await pipeline.idle();
  });

  it('refuses a forged signature with 401 and stores nothing', async () => {
    const before = await counts();
    const payload = JSON.stringify(body({ id: 'forged-1' }));
    const forged = signed(`whsec_${Buffer.from('not the secret at all, really').toString('base64')}`, payload);
    expect((await post('app-feedback', payload, forged)).status).toBe(401);
    const tampered = signed(source.secret!, payload);
    const other = JSON.stringify(body({ id: 'forged-1', text: 'changed after signing' }));
    expect((await post('app-feedback', other, tampered)).status).toBe(401);
    const { 'webhook-signature': _omit, ...unsigned } = signed(source.secret!, payload);
    expect((await post('app-feedback', payload, unsigned)).status).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it('refuses a stale timestamp with 401 and stores nothing', async () => {
    const before = await counts();
    const payload = JSON.stringify(body({ id: 'stale-1' }));
    const res = await post(
      'app-feedback',
      payload,
      signed(source.secret!, payload, { at: new Date(Date.now() - 10 * 60_000) }),
    );
    expect(res.status).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it('refuses a malformed body with 400 and field-level errors, storing nothing', async () => {
    const before = await counts();
    const payload = JSON.stringify({ id: 'bad-1', author: { followers: -3 }, text: '', url: 'not a url' });
    const res = await post('app-feedback', payload, signed(source.secret!, payload));
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { fields: { path: string }[] };
    expect(answer.fields.map((f) => f.path).sort()).toEqual(['author.followers', 'author.id', 'text', 'url']);
    const notJson = '{"id": ';
    expect((await post('app-feedback', notJson, signed(source.secret!, notJson))).status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('refuses an oversize body with 413 and stores nothing', async () => {
    const before = await counts();
    const payload = JSON.stringify(body({ id: 'big-1', text: 'x'.repeat(5_000) }));
    const res = await post('app-feedback', payload, signed(source.secret!, payload));
    expect(res.status).toBe(413);
    const longText = JSON.stringify(body({ id: 'big-2', text: 'y'.repeat(2_500) }));
    expect((await post('app-feedback', longText, signed(source.secret!, longText))).status).toBe(413);
    expect(await counts()).toEqual(before);
  });

  it('sees a rotated secret and a disabled source at once, storing nothing they refuse', async () => {
    await expectSourceChangesSeenAtOnce(handle().db, http.url, 'rotating-feedback');
    await pipeline.idle();
  });

  it('answers 404 for an unknown source and stores nothing', async () => {
    const before = await counts();
    const payload = JSON.stringify(body({ id: 'nowhere-1' }));
    expect((await post('no-such-source', payload, signed(source.secret!, payload))).status).toBe(404);
    expect(await counts()).toEqual(before);
  });
});

describeEachDatabase('signed webhook ingestion, then triage into a ticket', (handle) => {
  let http: HttpServer;
  let pipeline: IngestPipeline;
  let source: Source;

  beforeAll(async () => {
    const { db } = handle();
    source = await createSource(db, userActor('UADMIN', 'admin'), { name: 'triaged-feedback', kind: 'webhook' }, null);
    ({ pipeline, http } = await startWebhookServer(db, logger, {
      assess: async (_item, _author, itemSource) => assessmentFixture({ priority: 'P2', tags: [itemSource.name] }),
    }));
  });
  afterAll(async () => {
    await pipeline.stop();
    await http.close();
  });

  const post = (payload: string) =>
    fetch(`${http.url}/ingest/triaged-feedback`, {
      method: 'POST',
      body: payload,
      headers: signed(source.secret!, payload),
    });

  it('answers 202 once the item is stored, and its ticket with its card row follows', async () => {
    const payload = JSON.stringify(body({ id: 'triaged-1' }));
    const res = await post(payload);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', id: 'triaged-1', itemId: expect.any(Number) });
    const { db } = handle();
    await pipeline.idle();
    const [item] = await db.select().from(items).where(eq(items.externalId, 'triaged-1'));
    expect(item?.processedAt).not.toBeNull();
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, item!.ticketId!));
    // Triage was told the source the route had just read.
    expect(ticket).toMatchObject({ priority: 'P2', sourceId: source.id, tags: ['triaged-feedback'] });
    const rows = await db.select().from(outbox).where(eq(outbox.ticketId, ticket!.id));
    expect(rows.map((r) => r.kind)).toEqual(['card']);
    // A resend is answered 200 with the same body.
    const again = await post(payload);
    expect(again.status).toBe(200);
  });

  it('sees a rotated secret and a disabled source at once, storing nothing they refuse', async () => {
    await expectSourceChangesSeenAtOnce(handle().db, http.url, 'rotating-triaged');
    await pipeline.idle();
  });

  it('still refuses text over the limit with 413, storing nothing', async () => {
    const { db } = handle();
    const before = (await db.select().from(items)).length;
    const payload = JSON.stringify(body({ id: 'triaged-big', text: 'z'.repeat(2_500) }));
    expect((await post(payload)).status).toBe(413);
    expect(await db.select().from(items)).toHaveLength(before);
  });
});
