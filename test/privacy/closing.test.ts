import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { replies, sources, ticketEvents } from '../../src/db/schema/index.js';
import { createLogger } from '../../src/logger.js';
import { queueClosingMessages } from '../../src/privacy/closing.js';
import { createReplyWorker } from '../../src/replies/deliver.js';
import { summarize } from '../../src/reports/summarize.js';
import { dispatchCommand } from '../../src/slack/commands/dispatch.js';
import { SUBCOMMANDS } from '../../src/slack/commands/index.js';
import { createSource } from '../../src/sources/sources.js';
import { reopenTicket, resolveTicket } from '../../src/tickets/actions.js';
import type { Actor, Source } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, userActor } from '../helpers/fixtures.js';

const logger = createLogger({ level: 'silent' });
const config = loadConfig({});
const lead = userActor('U0LEAD', 'lead');
const agent = userActor('U0AGENT1', 'agent');

describeEachDatabase('closing messages', (handle) => {
  let receiver: Server;
  let receiverUrl = '';
  const received: Record<string, unknown>[] = [];
  let hook: Source;
  let x: Source;

  beforeAll(async () => {
    const { db } = handle();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `m-${received.length}` }));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/replies`;
    const system = { kind: 'system' as const, name: 'test' };
    hook = await createSource(
      db,
      system,
      {
        name: 'shop-chat',
        kind: 'webhook',
        settings: { replyUrl: receiverUrl, replyAllowLoopbackHttp: true },
      },
      null,
    );
    x = await createSource(db, system, { name: 'x-closing', kind: 'x' }, null);
    await createSource(db, system, { name: 'tiny-chat', kind: 'webhook', settings: { replyMaxLength: 40 } }, null);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const run = (actor: Actor, text: string) =>
    dispatchCommand(
      SUBCOMMANDS,
      { db: handle().db, config, logger, actor, channelId: 'C0LEADS', userId: 'U0LEAD', triggerId: 't' },
      text,
    );

  let customers = 0;
  const resolvedTicket = async (source: Source, at = new Date()) => {
    customers += 1;
    const { ticket } = await ingestFixture(
      handle().db,
      inboundFixture(source.id, {
        author: {
          externalId: `closing-${customers}`,
          handle: `cust${customers}`,
          displayName: `Customer ${customers}`,
        },
        createdAt: at,
      }),
      assessmentFixture(),
      0,
    );
    await resolveTicket(handle().db, agent, { ticketId: ticket.id, now: at });
    return ticket;
  };

  const closingRows = async (ticketId: number) =>
    handle()
      .db.select()
      .from(replies)
      .where(and(eq(replies.ticketId, ticketId), eq(replies.sentBy, 'system:closing')));

  it('is set, shown and switched off per source by leads, with its variables checked', async () => {
    expect((await run(agent, 'closing show shop-chat')).text).toContain('You need the lead role');
    expect((await run(lead, 'closing show shop-chat')).text).toContain('sends no closing message');
    expect((await run(lead, 'closing show x-closing')).text).toContain('off by default: replies on X are public');
    expect((await run(lead, 'closing set shop-chat Thanks {{nickname}}')).text).toContain(
      'Unknown variable {{nickname}}',
    );
    expect((await run(lead, `closing set tiny-chat Thanks {{author_name}}, ${'all good '.repeat(5)}`)).text).toContain(
      'too long for tiny-chat',
    );
    expect((await run(lead, `closing set shop-chat ${'x'.repeat(2001)}`)).text).toContain('at most 2000 characters');
    const set = await run(
      lead,
      'closing set shop-chat Thanks {{author_name}}, ticket #{{ticket_id}} is solved. <!channel>',
    );
    expect(set.text).toContain('now sends this when a ticket is resolved');
    expect(set.text).toContain('&lt;!channel&gt;');
    expect(set.responseType).toBe('ephemeral');
    const shown = await run(lead, 'closing show shop-chat');
    expect(shown.text).toContain('sends this closing message when a ticket is resolved');
    expect(shown.text).toContain('Thanks {{author_name}}');
    expect((await run(lead, 'closing off nowhere')).text).toContain('no source named');
    expect((await run(lead, 'closing')).text).toContain('Usage');
  });

  it('queues one message per resolve through the reply path, which delivers it and counts the customer as answered', async () => {
    const { db } = handle();
    const since = new Date(Date.now() - 3600_000);
    const ticket = await resolvedTicket(hook);
    const reopened = await resolvedTicket(hook);
    await reopenTicket(db, agent, { ticketId: reopened.id });
    expect(await queueClosingMessages(db, since)).toBe(1);
    expect(await queueClosingMessages(db, since)).toBe(0);
    const [row] = await closingRows(ticket.id);
    expect(row).toMatchObject({
      status: 'pending',
      text: `Thanks Customer ${customers - 1}, ticket #${ticket.id} is solved. <!channel>`,
    });
    expect(await closingRows(reopened.id)).toEqual([]);
    const events = await db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.ticketId, ticket.id), eq(ticketEvents.type, 'closing_message')));
    expect(events.map((e) => e.details)).toEqual([{ replyId: row!.id, via: 'webhook', source: 'shop-chat' }]);

    // Resolved again after the reopen: the last resolve sends, once.
    await resolveTicket(db, agent, { ticketId: reopened.id });
    expect(await queueClosingMessages(db, since)).toBe(1);
    expect(await closingRows(reopened.id)).toHaveLength(1);

    const before = await summarize(db, { from: since, to: new Date(Date.now() + 60_000) });
    const worker = createReplyWorker({
      sealer: null,
      db,
      logger,
      xUser: null,
      retry: { baseMs: 1, maxMs: 5, maxAttempts: 2 },
    });
    expect(await worker.runOnce()).toBe(2);
    await worker.stop();
    expect(received.map((r) => [r.ticket_id, r.sent_by])).toEqual([
      [ticket.id, 'system:closing'],
      [reopened.id, 'system:closing'],
    ]);
    expect((await closingRows(ticket.id))[0]!.status).toBe('done');
    const after = await summarize(db, { from: since, to: new Date(Date.now() + 60_000) });
    expect(after.customersAnswered).toBe(before.customersAnswered + 2);
  });

  it('sends nothing on X unless switched on, only for resolves after that, and nothing after `closing off`', async () => {
    const { db } = handle();
    const since = new Date(Date.now() - 3600_000);
    // A template stored without `enabled` (as an import might leave it) does not speak publicly.
    await db
      .update(sources)
      .set({ settings: { closingMessage: { template: 'Glad we could help!' } } })
      .where(eq(sources.id, x.id));
    const quiet = await resolvedTicket(x);
    expect(await queueClosingMessages(db, since)).toBe(0);
    expect(await closingRows(quiet.id)).toEqual([]);
    await run(lead, 'closing set x-closing Glad we could help, {{handle}}!');
    const loud = await resolvedTicket(x);
    // Only resolves from the moment it was switched on: the earlier X ticket is not written to now.
    expect(await queueClosingMessages(db, since)).toBe(1);
    expect(await closingRows(quiet.id)).toEqual([]);
    expect((await closingRows(loud.id))[0]!.text).toBe(`Glad we could help, @cust${customers}!`);

    await run(lead, 'closing off shop-chat');
    const off = await resolvedTicket(hook);
    expect(await queueClosingMessages(db, since)).toBe(0);
    expect(await closingRows(off.id)).toEqual([]);
  });
});
