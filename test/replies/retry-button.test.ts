import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replies } from '../../src/db/schema/index.js';
import { fixedXUserAuth } from '../../src/ingest/x/user-auth.js';
import { createReplyWorker, type ReplyWorker } from '../../src/replies/deliver.js';
import { SEED } from '../../src/sandbox/index.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { ensureSource } from '../../src/sources/sources.js';
import { recordReply } from '../../src/tickets/actions.js';
import { getTicket } from '../../src/tickets/queries.js';
import { FakeXServer } from '../fakes/x-server.js';
import { assessmentFixture, ingestFixture, userActor } from '../helpers/fixtures.js';
import { silentLogger, xClients } from '../ingest/helpers.js';
import { type SlackHarness, startSlackHarness } from '../slack/harness.js';

const FEEDBACK = SEED.channels.feedback;
const { agent1 } = SEED.users;

/**
 * A reply X refuses for real (the post is gone), shown on the card; the Retry reply button pressed
 * through Bolt's real receiver; the reply worker posting it to the fake X once the post is back.
 */
describe('the Retry reply button, end to end through Bolt and the fake X', () => {
  let h: SlackHarness;
  let x: FakeXServer;
  let worker: ReplyWorker;

  beforeAll(async () => {
    x = new FakeXServer();
    await x.start();
    h = await startSlackHarness();
    worker = createReplyWorker({
      sealer: null,
      db: h.earshot.context.db,
      logger: silentLogger,
      xUser: fixedXUserAuth(xClients(x.url).user),
      retry: { baseMs: 1, maxMs: 5, maxAttempts: 3 },
    });
  });
  afterAll(async () => {
    await worker.stop();
    await h?.close();
    await x.close();
  });

  const actionIds = (ts: string) =>
    JSON.stringify(h.sandbox.workspace.message(FEEDBACK, ts).blocks)
      .match(/"action_id":"([a-z_]+)"/g)
      ?.map((m) => m.slice(13, -1)) ?? [];
  const threadLines = (ts: string) =>
    h.sandbox.workspace
      .thread(FEEDBACK, ts)
      .filter((m) => m.ts !== ts)
      .map((m) => m.text ?? '');

  it('retries a reply X refused, and the card follows it from failed to posted', async () => {
    const db = h.earshot.context.db;
    const source = await ensureSource(db, { name: 'x', kind: 'x' }, null);
    const customer = { id: '6001', username: 'rita', name: 'Rita' };
    const post = x.publish({ text: 'my card was charged twice', author: customer });
    const { ticket } = await ingestFixture(
      db,
      {
        sourceId: source.id,
        externalId: post.id,
        author: { externalId: customer.id, handle: customer.username, displayName: customer.name },
        text: post.text,
        createdAt: new Date(),
        conversationId: post.id,
      },
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const ts = (await getTicket(db, ticket.id))!.slackTs!;
    const { reply } = await recordReply(db, userActor(agent1), {
      ticketId: ticket.id,
      text: 'So sorry, the second charge is refunded.',
      parts: ['So sorry, the second charge is refunded.'],
      idempotencyKey: `retry-button-${ticket.id}`,
    });

    x.deleted.add(post.id);
    await worker.runOnce();
    expect((await db.select().from(replies).where(eq(replies.id, reply.id)))[0]?.status).toBe('failed');
    await h.drain();
    expect(actionIds(ts)).toContain(ACTIONS.retryReply);
    expect(threadLines(ts).at(-1)).toContain('deleted or not visible');

    // The post is visible again; the agent presses Retry reply on the card.
    x.deleted.delete(post.id);
    const postsBefore = x.createdPosts.length;
    await h.sandbox.as(agent1).clickButton({ channel: FEEDBACK, ts }, ACTIONS.retryReply);
    expect((await db.select().from(replies).where(eq(replies.id, reply.id)))[0]?.status).toBe('pending');
    await worker.runOnce();
    const [sent] = await db.select().from(replies).where(eq(replies.id, reply.id));
    expect(sent).toMatchObject({ status: 'done' });
    expect(x.createdPosts.length).toBe(postsBefore + 1);
    expect(x.createdPosts.at(-1)).toMatchObject({
      text: 'So sorry, the second charge is refunded.',
      referenced_tweets: [{ type: 'replied_to', id: post.id }],
    });
    await h.drain();
    expect(actionIds(ts)).not.toContain(ACTIONS.retryReply);
    expect(threadLines(ts).slice(-2)).toEqual([`<@${agent1}> retried the reply`, ':outbox_tray: The reply is posted']);
  });
});
