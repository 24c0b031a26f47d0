import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replies, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { ingestModule } from '../../src/ingest/module.js';
import { repliesModule } from '../../src/replies/module.js';
import { SEED } from '../../src/sandbox/index.js';
import { SLASH_COMMAND } from '../../src/slack/ids.js';
import { createSource, ensureSource } from '../../src/sources/sources.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import type { Source } from '../../src/tickets/types.js';
import { triageModule } from '../../src/triage/module.js';
import { assessmentFixture, inboundFixture, ingestFixture, userActor } from '../helpers/fixtures.js';
import { postUntilTicket } from '../helpers/webhooks.js';
import { waitFor } from '../ingest/helpers.js';
import { type SlackHarness, startSlackHarness } from '../slack/harness.js';

const { feedback: FEEDBACK, leads: LEADS } = SEED.channels;
const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

if (!process.env.TEST_DATABASE_URL) {
  describe.skip('webhook → triage → routing rule → Slack [postgres: set TEST_DATABASE_URL to run]', () => {
    it('runs against real PostgreSQL', () => {});
  });
}

/** A customer system's reply endpoint: records what Earshot POSTs. */
async function startReplyEndpoint() {
  const received: { text: string; ticket_id: number }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: `sent-${received.length}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(KINDS)('webhook → triage → routing rule → Slack [%s]', (kind) => {
  let h: SlackHarness;
  let endpoint: Awaited<ReturnType<typeof startReplyEndpoint>>;
  let forms: Source;

  beforeAll(async () => {
    endpoint = await startReplyEndpoint();
    h = await startSlackHarness({
      database: kind,
      env: { EARSHOT_FEEDBACK_CHANNEL: 'earshot-feedback' },
      modules: { before: [triageModule], after: [ingestModule, repliesModule] },
    });
    const db = h.earshot.context.db;
    await setAgentRole(db, userActor(SEED.users.admin, 'admin'), { slackUserId: SEED.users.lead, role: 'lead' });
    await setAgentRole(db, userActor(SEED.users.admin, 'admin'), { slackUserId: SEED.users.admin, role: 'admin' });
    forms = await createSource(
      db,
      userActor(SEED.users.admin, 'admin'),
      {
        name: 'forms',
        kind: 'webhook',
        settings: {
          replyUrl: endpoint.url,
          replyAllowLoopbackHttp: true,
          autoAck: { enabled: true, template: 'Thanks {{author_name}}, ticket {{ticket_id}} is with our team.' },
        },
      },
      null,
    );
    // The rule goes in the way a lead adds it, so the running triage service learns of it at once.
    const added = await h.sandbox
      .as(SEED.users.lead)
      .runCommand(
        SLASH_COMMAND,
        `route add <#${LEADS}|earshot-leads> urgency=payment sentiment=negative add-tags=billing notify=<!subteam^${SEED.usergroups.oncall}|@oncall> name="Refunds"`,
        { channel: FEEDBACK },
      );
    expect(added.status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await endpoint?.close();
  });

  const post = (id: string, text: string, author = 'cust-1') =>
    postUntilTicket({ url: h.earshot.http.url, db: h.earshot.context.db }, forms, {
      id,
      author: { id: author, name: 'Robin Customer' },
      text,
    });

  it('posts the card in the rule channel and mentions the rule group right after it', async () => {
    const ticket = await post('r-1', 'I was charged twice for my order and I still have no refund. Disgraceful.');
    expect(ticket).toMatchObject({ channel: LEADS, sentiment: 'negative' });
    expect(ticket.tags).toContain('billing');
    await h.drain();
    const [posted] = await h.earshot.context.db.select().from(tickets).where(eq(tickets.id, ticket.id));

    const messages = h.sandbox.workspace.channelMessages(LEADS);
    const cardAt = messages.findIndex((m) => m.ts === posted?.slackTs);
    expect(cardAt).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(messages[cardAt]?.blocks)).toContain('charged twice');
    const notice = messages.find((m) => m.text.startsWith(`<!subteam^${SEED.usergroups.oncall}>`));
    expect(notice?.text).toContain(`ticket #${ticket.id}, routed by rule “Refunds”`);
    expect(messages.indexOf(notice!)).toBeGreaterThan(cardAt);
    // Nothing of it reached the default channel.
    expect(h.sandbox.workspace.channelMessages(FEEDBACK).some((m) => m.text.includes(`#${ticket.id}`))).toBe(false);
  });

  it('acknowledges a new ticket once through the reply path, as Earshot, without starting the SLA response', async () => {
    const db = h.earshot.context.db;
    const ticket = await post('r-2', 'Hello, the export button in your dashboard does nothing', 'cust-2');
    await waitFor(() => endpoint.received.some((r) => r.ticket_id === ticket.id), 'auto-acknowledgement sent');
    const sent = endpoint.received.filter((r) => r.ticket_id === ticket.id);
    expect(sent.map((r) => r.text)).toEqual([`Thanks Robin Customer, ticket ${ticket.id} is with our team.`]);
    await waitFor(async () => {
      const [row] = await db.select().from(replies).where(eq(replies.ticketId, ticket.id));
      return row?.status === 'done';
    }, 'reply marked sent');
    const [row] = await db.select().from(replies).where(eq(replies.ticketId, ticket.id));
    expect(row).toMatchObject({ sentBy: 'system:auto-ack', idempotencyKey: `auto-ack:ticket:${ticket.id}` });

    const [after] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(after).toMatchObject({ firstResponseAt: null, assignee: null, status: 'new' });
    expect(after?.firstResponseDueAt).not.toBeNull();
    const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticket.id));
    expect(events.find((e) => e.type === 'replied')).toMatchObject({
      actor: 'system:auto-ack',
      details: { auto: true },
    });

    // The same customer writing again joins the ticket: no second acknowledgement.
    const again = await post('r-3', 'Any news on the export button?', 'cust-2');
    expect(again.id).toBe(ticket.id);
    await h.drain();
    expect(await db.select().from(replies).where(eq(replies.ticketId, ticket.id))).toHaveLength(1);
    const [posted] = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(posted?.slackTs).toBeTruthy();
    const thread = h.sandbox.workspace.thread(FEEDBACK, posted!.slackTs!).map((m) => m.text);
    expect(thread.join('\n')).toContain(
      `Earshot replied:\n>Thanks Robin Customer, ticket ${ticket.id} is with our team.`,
    );
  });

  it('scores ingested items with the stored priority weights an admin set', async () => {
    const text = 'Where can I download last month invoice?';
    const before = await post('p-1', text, 'cust-3');
    expect(before.priority).not.toBe('P1');
    const set = await h.sandbox
      .as(SEED.users.admin)
      .runCommand(SLASH_COMMAND, 'priority set category.question 90', { channel: FEEDBACK });
    expect(set.status).toBe(200);
    const after = await post('p-2', text, 'cust-4');
    expect(after.priority).toBe('P1');
    expect(Number((after.triage as { priorityScore?: number }).priorityScore)).toBeCloseTo(
      Number((before.triage as { priorityScore?: number }).priorityScore) + 85,
      5,
    );
    await h.sandbox.as(SEED.users.admin).runCommand(SLASH_COMMAND, 'priority reset', { channel: FEEDBACK });
  });

  it('never acknowledges on X unless public replies were turned on too', async () => {
    const db = h.earshot.context.db;
    const template = 'Thanks, we are looking into it.';
    const x = await ensureSource(
      db,
      {
        name: 'x-brand',
        kind: 'x',
        settings: { autoAck: { enabled: true, template } },
      },
      null,
    );
    const quiet = await ingestFixture(db, inboundFixture(x.id), assessmentFixture({ channel: FEEDBACK }));
    expect(await db.select().from(replies).where(eq(replies.ticketId, quiet.ticket.id))).toHaveLength(0);

    const loud = await ensureSource(
      db,
      {
        name: 'x-brand-public',
        kind: 'x',
        settings: { autoAck: { enabled: true, template, publicPosts: true } },
      },
      null,
    );
    const acked = await ingestFixture(db, inboundFixture(loud.id), assessmentFixture({ channel: FEEDBACK }));
    const rows = await db.select().from(replies).where(eq(replies.ticketId, acked.ticket.id));
    expect(rows.map((r) => r.text)).toEqual([template]);
  });
});
