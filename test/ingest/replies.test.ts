import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { outbox, replies } from '../../src/db/schema/index.js';
import { createSealer } from '../../src/db/sealed.js';
import { fixedXUserAuth } from '../../src/ingest/x/user-auth.js';
import { createReplyWorker, type ReplyWorker } from '../../src/replies/deliver.js';
import { retryReply } from '../../src/replies/retry.js';
import { splitReply, weighX, X_POST_LIMIT } from '../../src/replies/split.js';
import { createSource } from '../../src/sources/sources.js';
import { recordReply } from '../../src/tickets/actions.js';
import { getTimeline } from '../../src/tickets/queries.js';
import type { Source } from '../../src/tickets/types.js';
import { type FakeUser, FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, ingestFixture, userActor } from '../helpers/fixtures.js';
import { silentLogger, xClients } from './helpers.js';

const agent = userActor('UAGENT', 'agent');
const customer: FakeUser = { id: '2001', username: 'cust', name: 'Customer', followers: 10 };
let keys = 0;
// The webhook channel's secret is kept sealed, as with EARSHOT_SECRET_KEY set: the worker opens it to sign.
const sealer = createSealer([randomBytes(32)]);

describeEachDatabase('reply delivery', (handle) => {
  let x: FakeXServer;
  let xSource: Source;
  let hookSource: Source;
  let worker: ReplyWorker;
  let receiver: Server;
  let receiverUrl = '';
  const received: { url: string; headers: Record<string, string>; body: string }[] = [];
  const receiverAnswers: number[] = [];

  beforeAll(async () => {
    const { db } = handle();
    x = new FakeXServer();
    await x.start();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          url: req.url ?? '',
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString(),
        });
        const status = receiverAnswers.shift() ?? 200;
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(status === 302 ? { location: `${receiverUrl}/redirected` } : {}),
        });
        res.end(status === 200 ? JSON.stringify({ id: `delivered-${received.length}` }) : '{"error":"nope"}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/replies`;
    const system = { kind: 'system' as const, name: 'test' };
    xSource = await createSource(db, system, { name: 'x-replies', kind: 'x' }, null);
    hookSource = await createSource(
      db,
      system,
      {
        name: 'helpdesk',
        kind: 'webhook',
        settings: { replyUrl: receiverUrl, replyAllowLoopbackHttp: true },
      },
      sealer,
    );
    worker = createReplyWorker({
      sealer,
      db,
      logger: silentLogger,
      xUser: fixedXUserAuth(xClients(x.url).user),
      retry: { baseMs: 1, maxMs: 5, maxAttempts: 5 },
    });
  });
  afterAll(async () => {
    await worker.stop();
    await x.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  /** A customer's post on X, ingested into a ticket, and an agent's reply to it recorded. */
  const ticketWithReply = async (text: string, parts?: string[]) => {
    const { db } = handle();
    const post = x.publish({ text: 'my order is late', author: customer });
    const { ticket } = await ingestFixture(
      db,
      {
        sourceId: xSource.id,
        externalId: post.id,
        author: { externalId: customer.id, handle: customer.username },
        text: post.text,
        createdAt: new Date(),
        conversationId: post.id,
      },
      assessmentFixture(),
      0,
    );
    keys += 1;
    const { reply } = await recordReply(db, agent, {
      ticketId: ticket.id,
      text,
      parts: parts ?? splitReply(text, { limit: X_POST_LIMIT, weigh: weighX }),
      idempotencyKey: `reply-test-${keys}`,
    });
    return { post, ticket, reply };
  };

  const replyRow = async (id: number) => {
    const { db } = handle();
    const [row] = await db.select().from(replies).where(eq(replies.id, id));
    return row!;
  };

  const makeDue = async (id: number) => {
    const { db } = handle();
    await db.update(replies).set({ nextAttemptAt: sql`now()` }).where(eq(replies.id, id));
  };

  it('posts a reply on X as a reply to the customer’s post and records reply_sent', async () => {
    const { db } = handle();
    const { post, ticket, reply } = await ticketWithReply('Sorry about that! We are on it.');
    await worker.runOnce();
    const row = await replyRow(reply.id);
    expect(row.status).toBe('done');
    expect(row.externalIds).toHaveLength(1);
    const created = x.posts.find((p) => p.id === row.externalIds[0]);
    expect(created).toMatchObject({ text: 'Sorry about that! We are on it.' });
    expect(created?.referenced_tweets).toEqual([{ type: 'replied_to', id: post.id }]);
    const request = x.requests.findLast((r) => r.path === '/2/tweets');
    expect(request?.authorization).toMatch(/^OAuth /);
    const sent = (await getTimeline(db, ticket.id)).find((e) => e.type === 'reply_sent');
    expect(sent?.details).toMatchObject({ replyId: reply.id, externalIds: row.externalIds });
    const lines = await db.select().from(outbox).where(eq(outbox.eventId, sent!.id));
    expect(lines.map((l) => l.kind)).toEqual(['thread']);
  });

  it('threads a long reply, each part answering the previous one, within 280 weighted characters', async () => {
    const text = Array.from(
      { length: 12 },
      (_, i) => `Step ${i + 1}: open https://help.example.com/orders/${i} and check the status there.`,
    ).join(' ');
    const { post, reply } = await ticketWithReply(text);
    expect(reply.parts.length).toBeGreaterThanOrEqual(3);
    await worker.runOnce();
    const row = await replyRow(reply.id);
    expect(row.status).toBe('done');
    expect(row.externalIds).toHaveLength(reply.parts.length);
    const posted = row.externalIds.map((id) => x.posts.find((p) => p.id === id)!);
    posted.forEach((p, i) => {
      expect(weighX(p.text)).toBeLessThanOrEqual(X_POST_LIMIT);
      expect(p.referenced_tweets?.[0]?.id).toBe(i === 0 ? post.id : row.externalIds[i - 1]);
    });
  });

  it('resumes a thread after a transient failure without posting a part twice', async () => {
    const text = 'word '.repeat(150).trim();
    const { reply } = await ticketWithReply(text);
    expect(reply.parts.length).toBe(3);
    x.postFailures = [0, 503];
    await worker.runOnce();
    let row = await replyRow(reply.id);
    expect(row.status).toBe('pending');
    expect(row.externalIds).toHaveLength(1);
    expect(row.lastError).toContain('503');
    await makeDue(reply.id);
    await worker.runOnce();
    row = await replyRow(reply.id);
    expect(row.status).toBe('done');
    expect(new Set(row.externalIds).size).toBe(3);
    expect(x.posts.filter((p) => row.externalIds.includes(p.id))).toHaveLength(3);
  });

  it('marks a reply to a deleted post failed with X’s reason; retry sends it once the post is back', async () => {
    const { db } = handle();
    const { post, ticket, reply } = await ticketWithReply('Could you DM us your order number?');
    x.deleted.add(post.id);
    await worker.runOnce();
    let row = await replyRow(reply.id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('deleted or not visible');
    const failed = (await getTimeline(db, ticket.id)).find((e) => e.type === 'reply_failed');
    expect(failed?.details).toMatchObject({ replyId: reply.id });

    x.deleted.delete(post.id);
    const { retried } = await retryReply(db, agent, reply.id);
    expect(retried).toBe(true);
    await worker.runOnce();
    row = await replyRow(reply.id);
    expect(row.status).toBe('done');
    await expect(retryReply(db, agent, reply.id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(retryReply(db, userActor('UVIEW', 'viewer'), reply.id)).rejects.toMatchObject({ code: 'forbidden' });
    const types = (await getTimeline(db, ticket.id)).map((e) => e.type);
    expect(types).toEqual(['created', 'replied', 'reply_failed', 'reply_retried', 'reply_sent']);
  });

  it('marks a reply from a suspended account failed, and keeps a rate-limited one for later', async () => {
    const suspended = await ticketWithReply('Hello from a suspended account');
    x.suspended = true;
    await worker.runOnce();
    x.suspended = false;
    expect(await replyRow(suspended.reply.id)).toMatchObject({ status: 'failed' });
    expect((await replyRow(suspended.reply.id)).lastError).toContain('suspended');

    const limited = await ticketWithReply('Hello under a rate limit');
    x.postFailures = [429];
    await worker.runOnce();
    const row = await replyRow(limited.reply.id);
    expect(row.status).toBe('pending');
    expect(row.lastError).toContain('rate limit');
    // X said the window resets in 15 minutes; the reply waits for it.
    expect(row.nextAttemptAt.getTime() - Date.now()).toBeGreaterThan(10 * 60_000);
  });

  it('delivers webhook-channel replies signed per Standard Webhooks, retrying a 5xx', async () => {
    const { db } = handle();
    const { ticket } = await ingestFixture(
      db,
      {
        sourceId: hookSource.id,
        externalId: 'ticket-77',
        author: { externalId: 'c-77' },
        text: 'The export button does nothing',
        createdAt: new Date(),
        conversationId: 'conv-77',
      },
      assessmentFixture(),
      0,
    );
    const { reply } = await recordReply(db, agent, {
      ticketId: ticket.id,
      text: 'Fixed in 2.3.1, please update.',
      parts: ['Fixed in 2.3.1, please update.'],
      idempotencyKey: 'hook-reply-1',
    });
    received.length = 0;
    receiverAnswers.push(503);
    await worker.runOnce();
    expect(await replyRow(reply.id)).toMatchObject({ status: 'pending' });
    await makeDue(reply.id);
    await worker.runOnce();
    const row = await replyRow(reply.id);
    expect(row).toMatchObject({ status: 'done', externalIds: ['delivered-2'] });
    expect(received).toHaveLength(2);
    expect(received[0]!.headers['webhook-id']).toBe(received[1]!.headers['webhook-id']);
    const verified = new Webhook(hookSource.secret!).verify(received[1]!.body, received[1]!.headers) as Record<
      string,
      unknown
    >;
    expect(verified).toMatchObject({
      type: 'reply',
      ticket_id: ticket.id,
      in_reply_to: 'ticket-77',
      thread_id: 'conv-77',
      text: 'Fixed in 2.3.1, please update.',
    });

    const refused = await recordReply(db, agent, {
      ticketId: ticket.id,
      text: 'Second answer',
      parts: ['Second answer'],
      idempotencyKey: 'hook-reply-2',
    });
    receiverAnswers.push(410);
    await worker.runOnce();
    expect(await replyRow(refused.reply.id)).toMatchObject({ status: 'failed' });
    expect((await replyRow(refused.reply.id)).lastError).toContain('410');
  });

  it('refuses to deliver to a stored reply_url off the source’s host, and never follows a redirect', async () => {
    const { db } = handle();
    // Stored before the intake check existed: the delivery checks again.
    const { ticket } = await ingestFixture(
      db,
      {
        sourceId: hookSource.id,
        externalId: 'ticket-ssrf',
        author: { externalId: 'c-ssrf' },
        text: 'Please reply here',
        createdAt: new Date(),
        conversationId: 'conv-ssrf',
        raw: { reply_url: 'http://169.254.169.254/latest/meta-data' },
      },
      assessmentFixture(),
      0,
    );
    const { reply } = await recordReply(db, agent, {
      ticketId: ticket.id,
      text: 'Hello',
      parts: ['Hello'],
      idempotencyKey: 'hook-ssrf-1',
    });
    received.length = 0;
    await worker.runOnce();
    const row = await replyRow(reply.id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('reply_url must use https');
    expect(received).toHaveLength(0);

    const { ticket: other } = await ingestFixture(
      db,
      {
        sourceId: hookSource.id,
        externalId: 'ticket-redirect',
        author: { externalId: 'c-redirect' },
        text: 'Reply please',
        createdAt: new Date(),
        conversationId: 'conv-redirect',
      },
      assessmentFixture(),
      0,
    );
    const redirected = await recordReply(db, agent, {
      ticketId: other.id,
      text: 'Hi',
      parts: ['Hi'],
      idempotencyKey: 'hook-redirect-1',
    });
    receiverAnswers.push(302);
    await worker.runOnce();
    expect(await replyRow(redirected.reply.id)).toMatchObject({ status: 'failed' });
    expect((await replyRow(redirected.reply.id)).lastError).toContain('302');
    expect(received.map((r) => r.url)).toEqual(['/replies']);
  });
});
