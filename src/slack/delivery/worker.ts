import type { WebClient } from '@slack/web-api';
import { desc, eq, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../../db/database.js';
import { crisisAlerts, items, replies, ticketEvents, tickets } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import { getTicketView } from '../../tickets/queries.js';
import { queueCardRefresh } from '../../tickets/timeline.js';
import { buildDigestCard } from '../blocks/digest-card.js';
import { maskPii, piiSpansOf } from '../blocks/format.js';
import { buildThreadLine, threadLineNeedsItem } from '../blocks/thread-line.js';
import { buildTicketCard } from '../blocks/ticket-card.js';
import { ChannelDirectory } from './channels.js';
import { classifySlackError, type DeliveryFailure } from './classify.js';
import { type BackoffOptions, backoffDelay, ChannelPacer, type PacerOptions } from './pacing.js';

export interface DeliveryOptions {
  /** How often an idle worker looks for rows (it is also woken when rows are queued here). */
  pollIntervalMs: number;
  /** Most rows claimed per round, and per channel per round. */
  batchSize: number;
  perChannelBatch: number;
  /** How long a claimed row is hidden from other replicas while this one delivers it. */
  leaseMs: number;
  pacing: PacerOptions;
  backoff: BackoffOptions;
  /** Fold a burst of new cards into one digest card; null turns digests off. */
  digest: { threshold: number; windowMinutes: number } | null;
  maskPii: boolean;
  /** A thread line whose card cannot be posted gives up after this many tries. */
  maxThreadWaits: number;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  pollIntervalMs: 1000,
  batchSize: 50,
  perChannelBatch: 3,
  leaseMs: 2 * 60_000,
  pacing: { ratePerSecond: 1, burst: 3 },
  backoff: { baseMs: 2000, maxMs: 5 * 60_000 },
  digest: { threshold: 20, windowMinutes: 5 },
  maskPii: true,
  maxThreadWaits: 30,
};

/** One claimed outbox row, as the claim query returns it. */
interface OutboxRow {
  id: number;
  kind: string;
  channel: string;
  ticket_id: number | null;
  event_id: number | null;
  payload: Record<string, unknown>;
  attempts: number;
}

type Outcome = { done: true } | { done: false; retryInMs: number; reason: string };

export interface DeliveryWorker {
  start: () => void;
  /** Stops polling and waits for the round in flight to finish. */
  stop: () => Promise<void>;
  /** New rows are waiting: look now rather than at the next poll. */
  wake: () => void;
  /** One round: fold bursts, claim due rows, deliver them. Returns how many rows it attempted. */
  runOnce: () => Promise<number>;
}

/**
 * Works off the outbox (see the contract in src/db/schema/delivery.ts and src/tickets/timeline.ts).
 *
 * - Claiming: due rows are selected `FOR UPDATE SKIP LOCKED` and leased (next_attempt_at moved past
 *   the lease) in one short transaction, so replicas never take the same row and no transaction is
 *   held open across a Slack call (PGlite has one connection).
 * - Order: per channel rows go oldest first and one at a time; per ticket the card goes before its
 *   thread lines and lines go in order. A row is not taken while an older row of its channel is in
 *   flight or waiting for a retry (on any replica), and a transient failure holds the whole channel
 *   (its rows move to the same retry time), so after an outage cards arrive in the order queued.
 * - Pace: a token bucket per channel (about one message a second, small burst); a 429 holds the
 *   channel for Retry-After.
 * - Coalescing: a card row renders the ticket as it is now and is marked done only if no newer
 *   version was queued meanwhile.
 * - Bursts: when a channel's backlog of new P3/P4 cards from the last few minutes passes the
 *   threshold, one digest card stands in for them (see foldBursts).
 */
export function createDeliveryWorker(deps: {
  db: Database;
  client: WebClient;
  logger: Logger;
  options?: Partial<DeliveryOptions>;
}): DeliveryWorker {
  const options = { ...DEFAULT_DELIVERY_OPTIONS, ...deps.options };
  const { db, client } = deps;
  const log = deps.logger.child({ component: 'slack-delivery' });
  const pacer = new ChannelPacer(options.pacing);
  const directory = new ChannelDirectory(client);

  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;

  async function claim(): Promise<{ rows: OutboxRow[]; nextWakeMs: number }> {
    const now = Date.now();
    let nextWakeMs = options.pollIntervalMs;
    const rows = await db.transaction(async (tx) => {
      const candidates = rowsOf<OutboxRow>(
        await tx.execute(sql`
        with pending as (
          select id, kind, channel, ticket_id, next_attempt_at from outbox where status = 'pending'
        ),
        per_ticket as (
          select ticket_id, bool_or(kind = 'card') as has_card, min(id) filter (where kind = 'thread') as first_thread
          from pending where ticket_id is not null group by ticket_id
        ),
        per_channel_message as (
          select channel, min(id) as first_message from pending where kind = 'message' group by channel
        ),
        per_channel_busy as (
          select channel, min(id) as first_busy from pending where next_attempt_at > now() group by channel
        ),
        eligible as (
          select p.id, row_number() over (partition by p.channel order by p.id) as rn
          from pending p
          left join per_ticket t on t.ticket_id = p.ticket_id
          left join per_channel_message m on m.channel = p.channel
          left join per_channel_busy b on b.channel = p.channel
          where p.next_attempt_at <= now()
            and (b.first_busy is null or p.id < b.first_busy)
            and (p.kind not in ('thread', 'message')
                 or (p.kind = 'thread' and not coalesce(t.has_card, false) and t.first_thread = p.id)
                 or (p.kind = 'message' and m.first_message = p.id))
        )
        select o.id, o.kind, o.channel, o.ticket_id, o.event_id, o.payload, o.attempts
        from outbox o
        where o.id in (select id from eligible where rn <= ${options.perChannelBatch})
          and o.status = 'pending' and o.next_attempt_at <= now()
        order by o.id
        limit ${options.batchSize}
        for update of o skip locked`),
      );
      const chosen: OutboxRow[] = [];
      const held = new Map<number, number[]>();
      for (const row of candidates) {
        const key = directory.cached(row.channel);
        const until = pacer.heldUntil(key, now);
        if (until !== null) {
          held.set(until, [...(held.get(until) ?? []), row.id]);
        } else if (pacer.tryTake(key, now)) {
          chosen.push(row);
        } else {
          nextWakeMs = Math.min(nextWakeMs, Math.max(20, pacer.waitMs(key, now)));
        }
      }
      if (chosen.length > 0) {
        await tx.execute(sql`
          update outbox set next_attempt_at = now() + make_interval(secs => ${options.leaseMs / 1000})
          where id in (${sql.join(
            chosen.map((r) => sql`${r.id}`),
            sql`, `,
          )})`);
      }
      for (const [until, ids] of held) {
        await tx.execute(sql`
          update outbox set next_attempt_at = ${new Date(until).toISOString()}::timestamptz
          where id in (${sql.join(
            ids.map((id) => sql`${id}`),
            sql`, `,
          )})`);
      }
      return chosen;
    });
    return { rows, nextWakeMs };
  }

  async function complete(row: OutboxRow, renderedVersion?: number): Promise<void> {
    if (renderedVersion === undefined) {
      await db.execute(sql`
        update outbox set status = 'done', delivered_at = now(), last_error = null where id = ${row.id}`);
      return;
    }
    // A newer version queued while this one was delivered keeps the row pending, due now.
    await db.execute(sql`
      update outbox set
        status = case when coalesce((payload->>'version')::int, 0) <= ${renderedVersion} then 'done' else 'pending' end::delivery_status,
        delivered_at = now(), next_attempt_at = now(), last_error = null
      where id = ${row.id}`);
  }

  async function reschedule(row: OutboxRow, delayMs: number, error: string, countAttempt: boolean): Promise<void> {
    await db.execute(sql`
      update outbox set
        next_attempt_at = now() + make_interval(secs => ${delayMs / 1000}),
        attempts = attempts + ${countAttempt ? 1 : 0},
        last_error = ${error}
      where id = ${row.id}`);
  }

  /**
   * Moves every due row of a channel, and the claimed rows of this round not yet tried, to the same
   * retry time, so they are retried in their original order.
   */
  async function holdChannel(
    channels: readonly string[],
    until: number,
    unsent: readonly number[] = [],
  ): Promise<void> {
    pacer.hold(directory.cached(channels[0]!), until);
    const at = new Date(until).toISOString();
    await db.execute(sql`
      update outbox set next_attempt_at = ${at}::timestamptz
      where status = 'pending'
        and ((next_attempt_at < ${at}::timestamptz and channel in (${sql.join(
          [...new Set(channels)].map((c) => sql`${c}`),
          sql`, `,
        )}))${
          unsent.length > 0
            ? sql` or id in (${sql.join(
                unsent.map((id) => sql`${id}`),
                sql`, `,
              )})`
            : sql``
        })`);
  }

  async function fail(row: OutboxRow, error: string): Promise<void> {
    await db.execute(sql`
      update outbox set status = 'failed', attempts = attempts + 1, last_error = ${error} where id = ${row.id}`);
  }

  async function postMessage(args: {
    channel: string;
    text: string;
    blocks?: unknown[];
    threadTs?: string | null;
  }): Promise<{ channel: string; ts: string }> {
    const result = await client.chat.postMessage({
      channel: args.channel,
      text: args.text,
      ...(args.blocks ? { blocks: args.blocks as never } : {}),
      ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!result.ts || !result.channel) throw new Error('chat.postMessage answered without channel or ts');
    return { channel: result.channel, ts: result.ts };
  }

  async function deliverCard(row: OutboxRow): Promise<{ outcome: Outcome; version?: number }> {
    if (row.ticket_id === null) return { outcome: { done: true } };
    const view = await getTicketView(db, row.ticket_id);
    const { ticket } = view;
    const [reply] = await db
      .select({
        id: replies.id,
        sentBy: replies.sentBy,
        status: replies.status,
        lastError: replies.lastError,
        parts: sql<number>`jsonb_array_length(${replies.parts})`,
      })
      .from(replies)
      .where(eq(replies.ticketId, ticket.id))
      .orderBy(desc(replies.id))
      .limit(1);
    const card = buildTicketCard(view, { now: new Date(), maskPii: options.maskPii, latestReply: reply ?? null });
    if (ticket.slackTs) {
      const channel = await directory.resolve(ticket.channel);
      try {
        await client.chat.update({ channel, ts: ticket.slackTs, text: card.text, blocks: card.blocks });
        return { outcome: { done: true }, version: ticket.version };
      } catch (err) {
        // Someone deleted the card in Slack: post it again rather than lose it.
        if ((err as { data?: { error?: string } }).data?.error !== 'message_not_found') throw err;
        log.warn({ ticketId: ticket.id }, 'card message was deleted in Slack; posting it again');
      }
    }
    const posted = await postMessage({ channel: await directory.resolve(ticket.channel), ...card });
    directory.remember(ticket.channel, posted.channel);
    await db.update(tickets).set({ slackTs: posted.ts, channel: posted.channel }).where(eq(tickets.id, ticket.id));
    return { outcome: { done: true }, version: ticket.version };
  }

  async function deliverThread(row: OutboxRow): Promise<Outcome> {
    const eventId = Number(row.payload.eventId ?? row.event_id);
    const [event] = await db.select().from(ticketEvents).where(eq(ticketEvents.id, eventId));
    if (!event) return { done: true };
    const [ticket] = await db.select().from(tickets).where(eq(tickets.id, event.ticketId));
    if (!ticket) return { done: true };
    if (!ticket.slackTs) {
      // The card is not in Slack (folded into a digest, or its post failed): ask for it, then wait.
      if (row.attempts >= options.maxThreadWaits)
        throw Object.assign(new Error('card_not_posted'), { permanent: true });
      await queueCardRefresh(db, ticket);
      return { done: false, retryInMs: 1000, reason: 'waiting for the card' };
    }
    let itemText: string | null = null;
    if (threadLineNeedsItem(event)) {
      const [item] = await db
        .select()
        .from(items)
        .where(eq(items.id, Number(event.details.itemId)));
      if (item) itemText = options.maskPii ? maskPii(item.text, piiSpansOf(item.triage)) : item.text;
    }
    const text = buildThreadLine(event, { itemText });
    await postMessage({ channel: await directory.resolve(ticket.channel), text, threadTs: ticket.slackTs });
    return { done: true };
  }

  async function deliverMessage(row: OutboxRow): Promise<Outcome> {
    const payload = row.payload as {
      text?: string;
      blocks?: unknown[];
      threadTs?: string;
      record?: { table?: string; id?: number };
      updateOf?: { table?: string; id?: number };
    };
    const text = typeof payload.text === 'string' && payload.text ? payload.text : ' ';
    const target = payload.updateOf ?? payload.record;
    if (target && target.table !== 'crisis_alerts') {
      throw Object.assign(new Error(`unknown_record_table:${String(target.table)}`), { permanent: true });
    }
    if (payload.updateOf?.id !== undefined) {
      const [alert] = await db.select().from(crisisAlerts).where(eq(crisisAlerts.id, payload.updateOf.id));
      if (alert?.slackTs && alert.channel) {
        await client.chat.update({
          channel: alert.channel,
          ts: alert.slackTs,
          text,
          ...(payload.blocks ? { blocks: payload.blocks as never } : {}),
        });
        return { done: true };
      }
    }
    const posted = await postMessage({
      channel: await directory.resolve(row.channel),
      text,
      ...(payload.blocks ? { blocks: payload.blocks } : {}),
      threadTs: payload.threadTs ?? null,
    });
    directory.remember(row.channel, posted.channel);
    if (target?.id !== undefined) {
      await db
        .update(crisisAlerts)
        .set({ channel: posted.channel, slackTs: posted.ts })
        .where(eq(crisisAlerts.id, target.id));
    }
    return { done: true };
  }

  async function deliverDm(row: OutboxRow): Promise<Outcome> {
    const payload = row.payload as { user?: string; text?: string; blocks?: unknown[] };
    const user = payload.user ?? row.channel;
    const opened = await client.conversations.open({ users: user });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open answered without a channel');
    await postMessage({ channel, text: payload.text || ' ', ...(payload.blocks ? { blocks: payload.blocks } : {}) });
    return { done: true };
  }

  async function deliver(row: OutboxRow): Promise<{ outcome: Outcome; version?: number }> {
    switch (row.kind) {
      case 'card':
        return deliverCard(row);
      case 'thread':
        return { outcome: await deliverThread(row) };
      case 'message':
        return { outcome: await deliverMessage(row) };
      case 'dm':
        return { outcome: await deliverDm(row) };
      default:
        throw Object.assign(new Error(`unknown_kind:${row.kind}`), { permanent: true });
    }
  }

  function failureOf(err: unknown): DeliveryFailure {
    if ((err as { permanent?: boolean }).permanent) return { kind: 'permanent', error: (err as Error).message };
    return classifySlackError(err);
  }

  /** Delivers one channel's rows in order; the first transient failure holds the rest of the channel. */
  async function deliverChannel(rows: OutboxRow[]): Promise<void> {
    for (const [index, row] of rows.entries()) {
      const context = { outboxId: row.id, kind: row.kind, ticketId: row.ticket_id, channel: row.channel };
      try {
        const { outcome, version } = await deliver(row);
        if (outcome.done) await complete(row, row.kind === 'card' ? version : undefined);
        else await reschedule(row, outcome.retryInMs, outcome.reason, true);
      } catch (err) {
        const failure = failureOf(err);
        if (failure.kind === 'permanent') {
          log.error({ ...context, err, error: failure.error }, 'Slack delivery failed permanently; row marked failed');
          await fail(row, failure.error);
          continue;
        }
        const delay =
          failure.kind === 'rate_limited' ? failure.retryAfterMs : backoffDelay(row.attempts + 1, options.backoff);
        log.warn(
          { ...context, error: failure.error, attempts: row.attempts + 1, retryInMs: delay },
          failure.kind === 'rate_limited'
            ? 'Slack rate limit: holding the channel'
            : 'Slack delivery failed; will retry',
        );
        await reschedule(row, delay, failure.error, failure.kind === 'transient');
        const rest = rows.slice(index + 1);
        await holdChannel(
          [row.channel, ...rest.map((r) => r.channel)],
          Date.now() + delay,
          rest.map((r) => r.id),
        );
        return;
      }
    }
  }

  /**
   * The burst digest. When a channel has at least `threshold` new P3/P4 cards queued within the
   * window that nobody has touched yet (ticket version 1), one digest card is posted for them and
   * their card rows are marked done with `foldedInto`. They stay tickets in every list and command;
   * a folded ticket's own card is posted the moment anything happens to it (every event queues a
   * card refresh, which posts when the ticket has no card yet). P1/P2 always get their own cards,
   * and a backlog older than the window (an outage) is delivered card by card, in order.
   */
  async function foldBursts(): Promise<number> {
    if (!options.digest) return 0;
    const { threshold, windowMinutes } = options.digest;
    const burst = sql`
      o.status = 'pending' and o.kind = 'card' and o.next_attempt_at <= now()
      and t.slack_ts is null and t.version = 1 and t.priority in ('P3', 'P4')
      and o.created_at > now() - make_interval(mins => ${windowMinutes})`;
    const channels = rowsOf<{ channel: string; n: number }>(
      await db.execute(sql`
        select o.channel, count(*)::int as n from outbox o join tickets t on t.id = o.ticket_id
        where ${burst} group by o.channel having count(*) >= ${threshold}`),
    );
    let folded = 0;
    for (const { channel } of channels) {
      const key = directory.cached(channel);
      if (!pacer.tryTake(key, Date.now())) continue;
      const claimed = await db.transaction(async (tx) => {
        const rows = rowsOf<{ id: number; ticket_id: number }>(
          await tx.execute(sql`
            select o.id, o.ticket_id from outbox o join tickets t on t.id = o.ticket_id
            where ${burst} and o.channel = ${channel}
            order by o.id limit 1000 for update of o skip locked`),
        );
        if (rows.length < threshold) return [];
        await tx.execute(sql`
          update outbox set next_attempt_at = now() + make_interval(secs => ${options.leaseMs / 1000})
          where id in (${sql.join(
            rows.map((r) => sql`${r.id}`),
            sql`, `,
          )})`);
        return rows;
      });
      if (claimed.length === 0) continue;
      const ids = sql.join(
        claimed.map((r) => sql`${r.id}`),
        sql`, `,
      );
      try {
        const folding = await db
          .select({ id: tickets.id, category: tickets.category, priority: tickets.priority, topics: tickets.topics })
          .from(tickets)
          .where(
            sql`${tickets.id} in (${sql.join(
              claimed.map((r) => sql`${r.ticket_id}`),
              sql`, `,
            )})`,
          );
        const digest = buildDigestCard({ tickets: folding, windowMinutes });
        const posted = await postMessage({ channel: await directory.resolve(channel), ...digest });
        directory.remember(channel, posted.channel);
        await db.execute(sql`
          update outbox set status = 'done', delivered_at = now(),
            payload = payload || ${JSON.stringify({ foldedInto: { channel: posted.channel, ts: posted.ts } })}::jsonb
          where id in (${ids})`);
        folded += claimed.length;
        log.info({ channel, folded: claimed.length }, 'burst folded into one digest card');
      } catch (err) {
        const failure = failureOf(err);
        const delay = failure.kind === 'rate_limited' ? failure.retryAfterMs : backoffDelay(1, options.backoff);
        log.warn({ channel, err, error: failure.error }, 'digest card failed; the burst stays queued');
        await db.execute(sql`update outbox set next_attempt_at = now() where id in (${ids})`);
        await holdChannel([channel], Date.now() + delay);
      }
    }
    return folded;
  }

  let nextWakeMs = options.pollIntervalMs;

  async function runOnce(): Promise<number> {
    const folded = await foldBursts();
    const claimed = await claim();
    nextWakeMs = claimed.nextWakeMs;
    const byChannel = new Map<string, OutboxRow[]>();
    for (const row of claimed.rows) {
      const key = directory.cached(row.channel);
      byChannel.set(key, [...(byChannel.get(key) ?? []), row]);
    }
    await Promise.all([...byChannel.values()].map((rows) => deliverChannel(rows)));
    if (claimed.rows.length > 0) nextWakeMs = Math.min(nextWakeMs, 50);
    return claimed.rows.length + folded;
  }

  async function run(): Promise<void> {
    while (running) {
      let wait = options.pollIntervalMs;
      try {
        const attempted = await runOnce();
        wait = attempted > 0 ? 0 : nextWakeMs;
      } catch (err) {
        log.error({ err }, 'delivery round failed; retrying at the next poll');
      }
      if (!running) break;
      if (woken) {
        woken = false;
        continue;
      }
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeUp = undefined;
        woken = false;
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },
    wake() {
      woken = true;
      wakeUp?.();
    },
    runOnce,
  };
}
