import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crisisAlerts,
  outbox,
  replies,
  ticketEvents,
  tickets,
  triageCache,
  vipAuthors,
} from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import { CANCELLED_REPLY } from '../../src/privacy/erase.js';
import { AUTHOR_ERASED_EVENT, forgetAuthor } from '../../src/privacy/forget.js';
import { summarize } from '../../src/reports/summarize.js';
import { SEED } from '../../src/sandbox/index.js';
import { SLASH_COMMAND } from '../../src/slack/ids.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from '../slack/harness.js';
import { seedCustomerStory, tablesContaining } from './helpers.js';

const routing = { channel: 'C0ONCALL', oncallGroup: null, maskPii: true, chart: null };
const admin = userActor('U0ADMIN', 'admin');
const AT = new Date('2026-05-04T10:00:00Z');

describeEachDatabase('forgetting one author', (handle) => {
  it('erases the author everywhere, records it on their tickets without the data, and leaves others alone', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'forget-src');
    const zed = await seedCustomerStory(db, { sourceId: source.id, name: 'Zed', at: AT, resolve: false });
    const quinn = await seedCustomerStory(db, { sourceId: source.id, name: 'Quinn', at: AT });
    // A reply to Zed still waiting to go out, and a volume alert sampling both customers, posted in Slack.
    await db.insert(replies).values({
      ticketId: zed.ticket.id,
      sourceId: source.id,
      sentBy: 'U0AGENT1',
      text: 'One more thing, Zed',
      parts: ['One more thing, Zed'],
      idempotencyKey: 'zed-pending',
    });
    const [wave] = await db
      .insert(crisisAlerts)
      .values({
        kind: 'volume',
        groupKey: `source:${source.id}`,
        status: 'open',
        channel: 'C0ONCALL',
        slackTs: '1700000000.000300',
        details: {
          title: 'Volume spike on forget-src',
          kinds: ['volume'],
          topic: null,
          sourceIds: [source.id],
          sourceNames: ['forget-src'],
          count: 9,
          mean: 1,
          ratio: 9,
          z: 5,
          peakCount: 9,
          windowMinutes: 15,
          topTopics: [],
          topTerms: [],
          samples: [
            {
              text: zed.itemText,
              author: '@zed_handle',
              url: null,
              followers: 99,
              sentiment: 'negative',
              ticketId: null,
            },
            {
              text: quinn.itemText,
              author: '@Quinn_handle',
              url: null,
              followers: 99,
              sentiment: 'negative',
              ticketId: quinn.ticket.id,
            },
          ],
          ticketIds: [zed.ticket.id, quinn.ticket.id],
          trend: [1, 9],
        },
      })
      .returning();
    // Both customers are on the VIP list: Zed on this source and on every source.
    await db.insert(vipAuthors).values([
      { handle: 'zed_handle', sourceId: source.id, note: 'Zed Displayname, key account', createdBy: 'U0LEAD' },
      { handle: 'zed_handle', sourceId: null, createdBy: 'U0LEAD' },
      { handle: 'quinn_handle', sourceId: source.id, createdBy: 'U0LEAD' },
    ]);
    // The card as first delivered, with Zed's post on it.
    await db.insert(outbox).values({
      kind: 'message',
      channel: 'C0ONCALL',
      status: 'done',
      payload: {
        text: 'Volume spike',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: zed.itemText } }],
        record: { table: 'crisis_alerts', id: wave!.id },
      },
    });
    const before = await summarize(db, {
      from: new Date(AT.getTime() - 3600_000),
      to: new Date(AT.getTime() + 86_400_000),
    });

    await expect(
      forgetAuthor(db, userActor('U0LEAD', 'lead'), { source: 'forget-src', author: 'Zed_handle', routing }),
    ).rejects.toSatisfy((e) => isAppError(e, 'forbidden'));
    await expect(forgetAuthor(db, admin, { source: 'nope', author: 'x', routing })).rejects.toSatisfy((e) =>
      isAppError(e, 'not_found'),
    );

    const result = await forgetAuthor(db, admin, { source: 'forget-src', author: '@zed_HANDLE', routing, now: AT });
    expect(result).toEqual({
      found: true,
      source: 'forget-src',
      authors: 1,
      items: 1,
      tickets: 1,
      replies: 2,
      alerts: 2,
      vipEntries: 2,
    });

    for (const secret of zed.secrets)
      expect({ secret, tables: await tablesContaining(db, secret) }).toEqual({ secret, tables: [] });
    expect(await tablesContaining(db, 'One more thing, Zed')).toEqual([]);
    // Quinn is untouched, including her sample on the shared alert.
    expect(await tablesContaining(db, quinn.itemText)).toEqual(['items', 'crisis_alerts']);
    expect(await tablesContaining(db, 'Quinn_handle')).toContain('authors');
    expect(await tablesContaining(db, 'Quinn_handle')).toContain('vip_authors');

    const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, zed.ticket.id));
    const erased = events.filter((e) => e.type === AUTHOR_ERASED_EVENT);
    expect(erased.map((e) => [e.actor, e.details])).toEqual([['U0ADMIN', {}]]);
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, zed.ticket.id));
    expect(ticket!.version).toBeGreaterThan(zed.ticket.version);
    expect(ticket!.triage.anonymizedAt).toBe(AT.toISOString());
    const [pending] = await db.select().from(replies).where(eq(replies.idempotencyKey, 'zed-pending'));
    expect(pending).toMatchObject({ status: 'failed', lastError: CANCELLED_REPLY, text: '' });
    expect(await db.select().from(triageCache)).toHaveLength(1);

    // The shared alert's card is updated in Slack without Zed's post; the influencer alert is renamed.
    const [alert] = await db.select().from(crisisAlerts).where(eq(crisisAlerts.id, wave!.id));
    expect((alert!.details.samples as unknown[]).length).toBe(1);
    const [update] = await db
      .select()
      .from(outbox)
      .where(eq(outbox.dedupeKey, `crisis:${wave!.id}:update`));
    expect(JSON.stringify(update!.payload)).toContain('Quinn_handle');
    const influencer = await db.select().from(crisisAlerts).where(eq(crisisAlerts.kind, 'influencer'));
    expect(influencer.map((a) => a.details.title).sort()).toEqual([
      'Negative post by @Quinn_handle (99 followers)',
      'Negative post by an erased author (99 followers)',
    ]);

    // Counts, categories and timings are what they were.
    const after = await summarize(db, {
      from: new Date(AT.getTime() - 3600_000),
      to: new Date(AT.getTime() + 86_400_000),
    });
    expect({ ...after, crisisAlerts: [] }).toEqual({ ...before, crisisAlerts: [] });

    // Idempotent: the identity is gone, so a repeat finds nobody and changes nothing.
    const again = await forgetAuthor(db, admin, { source: 'forget-src', author: 'zed_handle', routing });
    expect(again.found).toBe(false);
    const eventsAfter = await db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.ticketId, zed.ticket.id), eq(ticketEvents.type, AUTHOR_ERASED_EVENT)));
    expect(eventsAfter).toHaveLength(1);
  });
});

describe('/earshot forget through Bolt and the sandbox Slack', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await startSlackHarness();
    await setAgentRole(h.earshot.context.db, admin, { slackUserId: SEED.users.admin, role: 'admin' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers the admin privately, refreshes the card without the post, and says so in its thread', async () => {
    const db = h.earshot.context.db;
    const source = await seedSource(db, 'forget-slack');
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, {
        author: { externalId: 'olga-1', handle: 'olga', displayName: 'Olga' },
        text: 'Olga here, reach me at olga.secret@example.com',
      }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const posted = await db.select().from(tickets).where(eq(tickets.id, ticket.id));
    const ts = posted[0]!.slackTs!;
    const card = () => JSON.stringify(h.sandbox.workspace.message(SEED.channels.feedback, ts).blocks);
    expect(card()).toContain('Olga here');

    const agent = h.sandbox.as(SEED.users.agent1);
    await agent.runCommand(SLASH_COMMAND, 'forget forget-slack olga', { channel: SEED.channels.feedback });
    expect(agent.lastEphemeral(SEED.channels.feedback)?.text).toContain('You need the admin role');

    const session = h.sandbox.as(SEED.users.admin);
    const messages = h.sandbox.workspace.channelMessages(SEED.channels.feedback).length;
    await session.runCommand(SLASH_COMMAND, 'forget forget-slack @olga', { channel: SEED.channels.feedback });
    expect(session.lastEphemeral(SEED.channels.feedback)?.text).toBe(
      ":wastebasket: Erased the data of *@olga* on *forget-slack*: 1 post, 1 ticket, 0 replies. Each ticket's timeline records the erasure, without the data.",
    );
    expect(h.sandbox.workspace.channelMessages(SEED.channels.feedback)).toHaveLength(messages);
    await h.drain();
    expect(card()).not.toContain('Olga here');
    expect(card()).not.toContain('olga.secret');
    const thread = h.sandbox.workspace.thread(SEED.channels.feedback, ts).map((m) => m.text);
    expect(thread).toContain(
      `:wastebasket: <@${SEED.users.admin}> erased the customer's personal data: their posts, the replies and the notes are gone from this ticket; counts and timings stay`,
    );

    await session.runCommand(SLASH_COMMAND, 'forget forget-slack @olga', { channel: SEED.channels.feedback });
    expect(session.lastEphemeral(SEED.channels.feedback)?.text).toContain('Nothing to erase');
  });
});
