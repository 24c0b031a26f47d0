import type { WebClient } from '@slack/web-api';
import { desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf, sqlArray, textArray } from '../../db/database.js';
import { crisisAlerts, items, outbox, replies, ticketEvents, tickets } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import { runWithLogContext } from '../../observability/log-context.js';
import type { Metrics } from '../../observability/metrics.js';
import type { SlaPolicies } from '../../sla/policy.js';
import { loadSlaPolicies } from '../../sla/settings.js';
import { getTicketView } from '../../tickets/queries.js';
import { queueCardRefresh } from '../../tickets/timeline.js';
import { buildDigestCard } from '../blocks/digest-card.js';
import { maskPii, piiSpansOf } from '../blocks/format.js';
import { buildThreadLine, threadLineNeedsItem } from '../blocks/thread-line.js';
import { buildTicketCard } from '../blocks/ticket-card.js';
import { readCardSla } from '../card-sla.js';
import { DIGEST_KIND, readDigestPayload } from '../digest.js';
import { MESSAGE_METADATA } from '../ids.js';
import { escapeMrkdwn } from '../mrkdwn.js';
import { ChannelDirectory, isChannelId } from './channels.js';
import { classifySlackError, type DeliveryFailure } from './classify.js';
import { findPostedMessage } from './find-posted.js';
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
  /**
   * Fold a burst of new cards into one digest card; null turns digests off. `spacingMs`: a channel
   * gets a digest at most this often (cards folded meanwhile join the digest waiting to go out), so
   * digests, which go ahead of the channel's cards, never take more than a sliver of its pace.
   */
  digest: { threshold: number; windowMinutes: number; spacingMs?: number } | null;
  maskPii: boolean;
  /** A thread line whose card cannot be posted gives up after this many tries. */
  maxThreadWaits: number;
  /**
   * Where a card goes when Slack refuses its channel for good (channel_not_found, not_in_channel,
   * is_archived), with a note saying so: EARSHOT_FEEDBACK_CHANNEL. Null: the card is not posted.
   */
  fallbackChannel: string | null;
  /** Where admins and leads hear of a card Slack refused (one line per ticket and refusal): EARSHOT_LEADS_CHANNEL. */
  alertChannel: string | null;
  /**
   * The worker's clock, in milliseconds since the epoch. Due times, leases and backoff in the
   * database are written and compared with it (not the database's now()), so a test can run an
   * hour-long outage in a second.
   */
  clock: () => number;
}

/** A channel's digests are at least this far apart; see DeliveryOptions.digest. */
export const DIGEST_SPACING_MS = 30_000;

/** Most tickets one digest stands for; a longer burst gets the next digest. */
export const DIGEST_MAX_TICKETS = 1000;

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  pollIntervalMs: 1000,
  batchSize: 50,
  perChannelBatch: 3,
  leaseMs: 2 * 60_000,
  // Slack allows about 1 per second per channel: a tenth less, so the jitter between a send and its
  // arrival at Slack never turns into a 429.
  pacing: { ratePerSecond: 0.9, burst: 3 },
  backoff: { baseMs: 2000, maxMs: 5 * 60_000 },
  digest: { threshold: 20, windowMinutes: 5, spacingMs: DIGEST_SPACING_MS },
  maskPii: true,
  maxThreadWaits: 30,
  fallbackChannel: null,
  alertChannel: null,
  clock: Date.now,
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
  /** As it was before this claim: null means no attempt was ever made. */
  last_error: string | null;
  created_at: string | Date;
}

type Outcome = { done: true } | { done: false; retryInMs: number; reason: string };

/** Written on a row when it is claimed and cleared when its delivery is settled: a crash leaves it behind. */
const OUTCOME_UNKNOWN = 'outcome_unknown';

/** Refusals a plain-text card gets past: the blocks were the problem. */
const BLOCKS_REFUSED = new Set(['invalid_blocks', 'invalid_blocks_format', 'msg_blocks_too_long']);
/** Refusals another channel gets past. */
const CHANNEL_REFUSED = new Set(['channel_not_found', 'not_in_channel', 'is_archived']);

function slackErrorOf(err: unknown): string | undefined {
  return (err as { data?: { error?: string } }).data?.error;
}

/**
 * Whether an earlier attempt of this row may have posted without the worker learning it: its answer
 * was lost (timeout, dropped connection, a 5xx after Slack did the work) or the process died before
 * the ts was saved. A 429 is Slack saying it did nothing, so it alone asks for no look.
 */
function mayHavePosted(row: Pick<OutboxRow, 'last_error'>): boolean {
  return row.last_error !== null && row.last_error !== 'ratelimited' && row.last_error !== WAITING_FOR_CARD;
}

/** A thread line's wait for its card: nothing was posted. */
const WAITING_FOR_CARD = 'waiting for the card';

/** What a post carries so a retry can find it, and how to tell it among the channel's messages. */
interface PostSpec {
  text: string;
  blocks?: unknown[];
  threadTs?: string | null;
  metadata: { event_type: string; event_payload: Record<string, string | number | boolean> };
  matches: (payload: Record<string, unknown>) => boolean;
}

interface Posted {
  channel: string;
  ts: string;
  /** Found in Slack (an earlier attempt posted it) rather than posted now. */
  adopted: boolean;
}

export interface DeliveryWorker {
  start: () => void;
  /** Stops polling and waits for the round in flight to finish. */
  stop: () => Promise<void>;
  /**
   * New rows are waiting: look now rather than at the next poll. Given their channel, look when it
   * may take a message (now, unless its pace says later), so a burst of wakes costs no extra rounds.
   */
  wake: (channel?: string) => void;
  /** One round: fold bursts, claim due rows, deliver them. Returns how many rows it attempted. */
  runOnce: () => Promise<number>;
}

/**
 * Works off the outbox (see the contract in src/db/schema/delivery.ts and src/tickets/timeline.ts).
 *
 * - Claiming: due rows are selected `FOR UPDATE SKIP LOCKED` and leased (next_attempt_at moved past
 *   the lease) in one short transaction, so replicas never take the same row and no transaction is
 *   held open across a Slack call (PGlite has one connection). Claims hold an advisory lock, so one
 *   replica's claim always sees the leases of the claims before it.
 * - Order: per channel rows go oldest first and one at a time; per ticket the card goes before its
 *   thread lines and lines go in order. A row is not taken while an older row of its channel is in
 *   flight or waiting for a retry (on any replica), and a transient failure holds the whole channel
 *   (its rows move to the same retry time), so after an outage cards arrive in the order queued.
 * - None twice: every post carries metadata naming its ticket or outbox row. A row whose earlier
 *   attempt may have posted (answer lost, or the process died before saving the ts; the claim marks
 *   the row `outcome_unknown` until its outcome is written) first looks for that post in the
 *   channel's history (or the card's thread) and adopts it instead of posting again.
 * - Pace: a token bucket per channel (about one message a second, small burst); a 429 holds the
 *   channel for Retry-After.
 * - Coalescing: a card row renders the ticket as it is now and is marked done only if no newer
 *   version was queued meanwhile.
 * - Bursts: when a channel's backlog of new P3/P4 cards from the last few minutes passes the
 *   threshold, one digest row stands in for them (see foldBursts); it stores their ticket ids.
 * - Refusals: a card whose channel Slack refuses goes to the fallback channel with a note; a card
 *   whose blocks Slack refuses goes out as plain text; either way the alert channel hears of it.
 */
export function createDeliveryWorker(deps: {
  db: Database;
  client: WebClient;
  logger: Logger;
  options?: Partial<DeliveryOptions>;
  /** Delivery latency by kind and Slack's 429s; null records nothing. */
  metrics?: Metrics | null;
}): DeliveryWorker {
  const options = { ...DEFAULT_DELIVERY_OPTIONS, ...deps.options };
  const { db, client } = deps;
  const clock = options.clock;
  const log = deps.logger.child({ component: 'slack-delivery' });
  const pacer = new ChannelPacer(options.pacing);
  const directory = new ChannelDirectory(client);

  let running = false;
  let loop: Promise<void> | undefined;
  /** The loop's sleep between rounds, which a wake shortens. */
  let sleeping: { until: number; timer: NodeJS.Timeout; resolve: () => void } | undefined;
  /** Set by a wake during a round: the next round starts by then (real time, ms). */
  let wakeBy: number | null = null;

  function wakeWithin(ms: number): void {
    const by = Date.now() + Math.max(0, ms);
    if (!sleeping) {
      wakeBy = wakeBy === null ? by : Math.min(wakeBy, by);
      return;
    }
    if (by >= sleeping.until) return;
    clearTimeout(sleeping.timer);
    sleeping.until = by;
    sleeping.timer = setTimeout(sleeping.resolve, Math.max(0, ms));
  }
  let policies: { value: SlaPolicies; loadedAt: number } | undefined;

  /** Outbox row ids (bigint) as one array parameter. */
  const idArray = (ids: readonly number[]): SQL => sqlArray(ids, 'bigint');
  /** The worker's now as a timestamptz parameter. */
  const nowSql = (ms: number = clock()): SQL => sql`${new Date(ms).toISOString()}::timestamptz`;

  async function slaPolicies(): Promise<SlaPolicies> {
    const now = clock();
    if (!policies || now - policies.loadedAt > 30_000) policies = { value: await loadSlaPolicies(db), loadedAt: now };
    return policies.value;
  }

  async function claim(): Promise<{ rows: OutboxRow[]; nextWakeMs: number }> {
    const now = clock();
    const at = nowSql(now);
    let nextWakeMs = options.pollIntervalMs;
    const rows = await db.transaction(async (tx) => {
      // Claims take turns across replicas. Without this, a claim whose snapshot predates another
      // replica's committed lease sees that channel's older rows as idle, skips them as locked, and
      // takes the next row of the channel, which can then reach Slack first. The claim is short,
      // and the statement after the lock sees every lease committed before it.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('earshot:outbox-claim'))`);
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
          select channel, min(id) as first_busy from pending
          where next_attempt_at > ${at} and kind <> ${DIGEST_KIND} group by channel
        ),
        eligible as (
          select p.id, row_number() over (partition by p.channel order by p.kind = ${DIGEST_KIND} desc, p.id) as rn
          from pending p
          left join per_ticket t on t.ticket_id = p.ticket_id
          left join per_channel_message m on m.channel = p.channel
          left join per_channel_busy b on b.channel = p.channel
          where p.next_attempt_at <= ${at}
            and (b.first_busy is null or p.id < b.first_busy or p.kind = ${DIGEST_KIND})
            and (p.kind not in ('thread', 'message')
                 or (p.kind = 'thread' and not coalesce(t.has_card, false) and t.first_thread = p.id)
                 or (p.kind = 'message' and m.first_message = p.id))
        )
        select o.id, o.kind, o.channel, o.ticket_id, o.event_id, o.payload, o.attempts, o.last_error, o.created_at
        from outbox o
        where o.id in (select id from eligible where rn <= ${options.perChannelBatch})
          and o.status = 'pending' and o.next_attempt_at <= ${at}
        order by o.kind = ${DIGEST_KIND} desc, o.id
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
        // The lease, and the mark a crash leaves behind: until its outcome is written, this attempt may have posted.
        await tx.execute(sql`
          update outbox set next_attempt_at = ${at} + make_interval(secs => ${options.leaseMs / 1000}),
            last_error = coalesce(last_error, ${OUTCOME_UNKNOWN})
          where id = any(${idArray(chosen.map((r) => r.id))})`);
      }
      for (const [until, ids] of held) {
        await tx.execute(sql`
          update outbox set next_attempt_at = ${nowSql(until)} where id = any(${idArray(ids)})`);
      }
      return chosen;
    });
    return { rows, nextWakeMs };
  }

  async function complete(row: OutboxRow, renderedVersion?: number): Promise<void> {
    const at = nowSql();
    if (renderedVersion === undefined) {
      await db.execute(sql`
        update outbox set status = 'done', delivered_at = ${at}, last_error = null where id = ${row.id}`);
      return;
    }
    // A newer version queued while this one was delivered keeps the row pending, due now.
    await db.execute(sql`
      update outbox set
        status = case when coalesce((payload->>'version')::int, 0) <= ${renderedVersion} then 'done' else 'pending' end::delivery_status,
        delivered_at = ${at}, next_attempt_at = ${at}, last_error = null
      where id = ${row.id}`);
  }

  async function reschedule(row: OutboxRow, delayMs: number, error: string, countAttempt: boolean): Promise<void> {
    await db.execute(sql`
      update outbox set
        next_attempt_at = ${nowSql(clock() + delayMs)},
        attempts = attempts + ${countAttempt ? 1 : 0},
        last_error = ${error}
      where id = ${row.id} and status = 'pending'`);
  }

  /**
   * Moves every due row of a channel, and the claimed rows of this round not yet tried, to the same
   * retry time, so they are retried in their original order. Rows not tried lose the claim's mark.
   */
  async function holdChannel(
    channels: readonly string[],
    until: number,
    unsent: readonly OutboxRow[] = [],
  ): Promise<void> {
    pacer.hold(directory.cached(channels[0]!), until);
    const at = nowSql(until);
    const ids = unsent.map((r) => r.id);
    await db.execute(sql`
      update outbox set next_attempt_at = ${at}
      where status = 'pending'
        and ((next_attempt_at < ${at} and channel = any(${textArray([...new Set(channels)])}))
             or id = any(${idArray(ids)}))`);
    const fresh = unsent.filter((r) => r.last_error === null).map((r) => r.id);
    if (fresh.length > 0) {
      await db.execute(sql`
        update outbox set last_error = null where id = any(${idArray(fresh)}) and last_error = ${OUTCOME_UNKNOWN}`);
    }
  }

  async function fail(row: OutboxRow, error: string): Promise<void> {
    await db.execute(sql`
      update outbox set status = 'failed', attempts = attempts + 1, last_error = ${error} where id = ${row.id}`);
  }

  async function postMessage(args: {
    channel: string;
    text: string;
    blocks?: unknown[] | undefined;
    threadTs?: string | null | undefined;
    metadata?: PostSpec['metadata'];
  }): Promise<{ channel: string; ts: string }> {
    const waitMs = pacer.sendWaitMs(args.channel, clock());
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    pacer.sent(args.channel, clock());
    const result = await client.chat.postMessage({
      channel: args.channel,
      text: args.text,
      ...(args.blocks ? { blocks: args.blocks as never } : {}),
      ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
      ...(args.metadata ? { metadata: args.metadata } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    if (!result.ts || !result.channel) throw new Error('chat.postMessage answered without channel or ts');
    return { channel: result.channel, ts: result.ts };
  }

  /** Looks for the post an earlier attempt of `row` may have made; a refusal to look (scopes) is logged, not fatal. */
  async function findEarlierPost(row: OutboxRow, channel: string, spec: PostSpec): Promise<string | null> {
    try {
      return await findPostedMessage(client, {
        channel,
        threadTs: spec.threadTs ?? null,
        eventType: spec.metadata.event_type,
        matches: spec.matches,
        since: new Date(row.created_at),
      });
    } catch (err) {
      const failure = classifySlackError(err);
      if (failure.kind !== 'permanent') throw err;
      log.warn(
        { outboxId: row.id, channel, error: failure.error },
        'could not look for an earlier post (does the app have channels:history, groups:history and im:history?); posting',
      );
      return null;
    }
  }

  /** Posts unless an earlier attempt of the row already did (then that post is adopted). */
  async function postOnce(row: OutboxRow, channel: string, spec: PostSpec): Promise<Posted> {
    if (mayHavePosted(row)) {
      const ts = await findEarlierPost(row, channel, spec);
      if (ts) {
        log.info(
          { outboxId: row.id, kind: row.kind, ticketId: row.ticket_id, channel, ts },
          'found the post an earlier attempt made; not posting it again',
        );
        return { channel, ts, adopted: true };
      }
    }
    return { ...(await postMessage({ channel, ...spec })), adopted: false };
  }

  function channelLabel(channel: string): string {
    return isChannelId(channel) ? `<#${channel}>` : `#${escapeMrkdwn(channel.replace(/^#/, '').slice(0, 80))}`;
  }

  /** One line in the alert channel per ticket (or row) and refusal, however often the refusal repeats. */
  async function alertRefusal(row: OutboxRow, what: string, channel: string, refusal: string, outcome: string) {
    if (!options.alertChannel) return;
    const dedupeKey = `refused:${row.ticket_id !== null ? `ticket:${row.ticket_id}` : `row:${row.id}`}:${refusal}`;
    const [seen] = await db.select({ id: outbox.id }).from(outbox).where(eq(outbox.dedupeKey, dedupeKey)).limit(1);
    if (seen) return;
    await db
      .insert(outbox)
      .values({
        kind: 'message',
        channel: options.alertChannel,
        ticketId: row.ticket_id,
        dedupeKey,
        payload: {
          text: `:warning: Slack refused ${what} in ${channelLabel(channel)} (\`${escapeMrkdwn(refusal)}\`); ${outcome}.`,
        },
      })
      .onConflictDoNothing();
    deps.logger.info({ outboxId: row.id, refusal, channel }, 'told the alert channel about a refused post');
  }

  /**
   * Posts a card or digest to its channel, once. When Slack refuses it for good, falls back: refused
   * blocks → the same message as plain text; a refused channel → the fallback channel, with a note.
   * Either way the alert channel hears of it; anything else is thrown for the caller to classify.
   */
  async function postWithFallback(row: OutboxRow, target: string, spec: PostSpec, what: string): Promise<Posted> {
    const channel = await directory.resolve(target);
    try {
      const posted = await postOnce(row, channel, spec);
      directory.remember(target, posted.channel);
      return posted;
    } catch (err) {
      const refusal = slackErrorOf(err);
      if (refusal && BLOCKS_REFUSED.has(refusal) && spec.blocks) {
        const posted = await postMessage({
          channel,
          text: plainFallback(spec.text, what, refusal),
          metadata: spec.metadata,
        });
        directory.remember(target, posted.channel);
        log.error(
          { outboxId: row.id, ticketId: row.ticket_id, refusal },
          'Slack refused the blocks; posted as plain text',
        );
        await alertRefusal(
          row,
          what,
          target,
          refusal,
          'it was posted as plain text instead (a bug in Earshot: please report it)',
        );
        return { ...posted, adopted: false };
      }
      const fallbackName = options.fallbackChannel;
      if (refusal && CHANNEL_REFUSED.has(refusal) && fallbackName) {
        const fallback = await directory.resolve(fallbackName);
        if (fallback !== channel) {
          const note = `:warning: Routed to ${channelLabel(target)}, but Slack refused that channel (\`${escapeMrkdwn(refusal)}\`); posted here instead.`;
          const posted = await postOnce(row, fallback, {
            ...spec,
            text: spec.blocks ? spec.text : `${note}\n${spec.text}`,
            ...(spec.blocks
              ? { blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: note }] }, ...spec.blocks] }
              : {}),
          });
          directory.remember(fallbackName, posted.channel);
          log.warn(
            { outboxId: row.id, ticketId: row.ticket_id, refusal, channel: target },
            'Slack refused the channel; posted to the fallback channel',
          );
          await alertRefusal(row, what, target, refusal, `it was posted in ${channelLabel(fallbackName)} instead`);
          return posted;
        }
      }
      throw err;
    }
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
    const now = new Date(clock());
    const slaClocks = await readCardSla(db, ticket, now, await slaPolicies());
    const card = buildTicketCard(view, { now, maskPii: options.maskPii, latestReply: reply ?? null, slaClocks });
    const metadata = { event_type: MESSAGE_METADATA.ticketCard, event_payload: { ticket_id: ticket.id } };
    const what = `ticket #${ticket.id}'s card`;
    if (ticket.slackTs) {
      const channel = await directory.resolve(ticket.channel);
      try {
        await client.chat.update({ channel, ts: ticket.slackTs, text: card.text, blocks: card.blocks, metadata });
        return { outcome: { done: true }, version: ticket.version };
      } catch (err) {
        const refusal = slackErrorOf(err);
        if (refusal && BLOCKS_REFUSED.has(refusal)) {
          await client.chat.update({
            channel,
            ts: ticket.slackTs,
            text: plainFallback(card.text, what, refusal),
            blocks: [],
            metadata,
          });
          log.error({ ticketId: ticket.id, refusal }, 'Slack refused the card update; showing it as plain text');
          await alertRefusal(
            row,
            what,
            ticket.channel,
            refusal,
            'it shows as plain text instead (a bug in Earshot: please report it)',
          );
          return { outcome: { done: true }, version: ticket.version };
        }
        // Someone deleted the card (or its channel) in Slack: post it again rather than lose it.
        if (refusal !== 'message_not_found' && !(refusal && CHANNEL_REFUSED.has(refusal))) throw err;
        log.warn({ ticketId: ticket.id, refusal }, 'card message is gone from Slack; posting it again');
      }
    }
    const posted = await postWithFallback(
      row,
      ticket.channel,
      { text: card.text, blocks: card.blocks, metadata, matches: (payload) => payload.ticket_id === ticket.id },
      what,
    );
    await db.update(tickets).set({ slackTs: posted.ts, channel: posted.channel }).where(eq(tickets.id, ticket.id));
    // An adopted post shows the ticket as it was then: keep the row pending, so the next round updates it.
    return { outcome: { done: true }, version: posted.adopted ? 0 : ticket.version };
  }

  /** Metadata naming the outbox row, for posts other than cards. */
  function rowSpec(row: OutboxRow, content: { text: string; blocks?: unknown[]; threadTs?: string | null }): PostSpec {
    return {
      ...content,
      metadata: { event_type: MESSAGE_METADATA.delivery, event_payload: { outbox_id: row.id } },
      matches: (payload) => payload.outbox_id === row.id,
    };
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
      return { done: false, retryInMs: 1000, reason: WAITING_FOR_CARD };
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
    await postOnce(row, await directory.resolve(ticket.channel), rowSpec(row, { text, threadTs: ticket.slackTs }));
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
    const posted = await postOnce(
      row,
      await directory.resolve(row.channel),
      rowSpec(row, { text, ...(payload.blocks ? { blocks: payload.blocks } : {}), threadTs: payload.threadTs ?? null }),
    );
    directory.remember(row.channel, posted.channel);
    if (target?.id !== undefined) {
      await db
        .update(crisisAlerts)
        .set({ channel: posted.channel, slackTs: posted.ts })
        .where(eq(crisisAlerts.id, target.id));
    }
    return { done: true };
  }

  /** A digest row: the card standing in for a burst, its button pointing at this row (which stores the ticket ids). */
  async function deliverDigest(row: OutboxRow): Promise<Outcome> {
    const digest = readDigestPayload(row.payload);
    const folded =
      digest.ticketIds.length === 0
        ? []
        : await db
            .select({ id: tickets.id, category: tickets.category, priority: tickets.priority, topics: tickets.topics })
            .from(tickets)
            .where(inArray(tickets.id, digest.ticketIds));
    const card = buildDigestCard({ digestId: row.id, tickets: folded, windowMinutes: digest.windowMinutes });
    await postWithFallback(row, row.channel, rowSpec(row, card), 'a burst digest');
    return { done: true };
  }

  /** A DM (an SLA alert to the assignee); a retry after a lost answer looks in the DM first (im:history). */
  async function deliverDm(row: OutboxRow): Promise<Outcome> {
    const payload = row.payload as { user?: string; text?: string; blocks?: unknown[] };
    const user = payload.user ?? row.channel;
    const opened = await client.conversations.open({ users: user });
    const channel = opened.channel?.id;
    if (!channel) throw new Error('conversations.open answered without a channel');
    await postOnce(
      row,
      channel,
      rowSpec(row, { text: payload.text || ' ', ...(payload.blocks ? { blocks: payload.blocks } : {}) }),
    );
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
      case DIGEST_KIND:
        return { outcome: await deliverDigest(row) };
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
        const { outcome, version } = await runWithLogContext(
          { ticketId: row.ticket_id ?? undefined, outboxId: row.id },
          () => deliver(row),
          { fresh: true },
        );
        if (outcome.done) {
          await complete(row, row.kind === 'card' ? version : undefined);
          const waitedMs = clock() - new Date(row.created_at).getTime();
          deps.metrics?.deliverySeconds.observe({ kind: row.kind }, Math.max(0, waitedMs) / 1000);
        } else {
          // Nothing was posted: an earlier unknown outcome stays unknown.
          await reschedule(row, outcome.retryInMs, mayHavePosted(row) ? row.last_error! : outcome.reason, true);
        }
      } catch (err) {
        const failure = failureOf(err);
        if (failure.kind === 'permanent') {
          log.error({ ...context, err, error: failure.error }, 'Slack delivery failed permanently; row marked failed');
          await fail(row, failure.error);
          if (row.kind === 'card' || row.kind === DIGEST_KIND) {
            const what = row.kind === 'card' ? `ticket #${row.ticket_id}'s card` : 'a burst digest';
            await alertRefusal(
              row,
              what,
              row.channel,
              failure.error,
              'it is not in Slack (`/earshot ticket <id>` still shows it)',
            );
          }
          continue;
        }
        if (failure.kind === 'rate_limited') deps.metrics?.rateLimited.inc({ service: 'slack' });
        const delay =
          failure.kind === 'rate_limited' ? failure.retryAfterMs : backoffDelay(row.attempts + 1, options.backoff);
        log.warn(
          { ...context, error: failure.error, attempts: row.attempts + 1, retryInMs: delay },
          failure.kind === 'rate_limited'
            ? 'Slack rate limit: holding the channel'
            : 'Slack delivery failed; will retry',
        );
        // A 429 says Slack did nothing: the row keeps what it knew before (an earlier unknown outcome stays unknown).
        const error = failure.kind === 'rate_limited' && mayHavePosted(row) ? row.last_error! : failure.error;
        await reschedule(row, delay, error, failure.kind === 'transient');
        const rest = rows.slice(index + 1);
        await holdChannel([row.channel, ...rest.map((r) => r.channel)], clock() + delay, rest);
        return;
      }
    }
  }

  /**
   * The burst digest. When a channel has at least `threshold` new P3/P4 cards queued within the
   * window that nobody has touched yet (ticket version 1), a digest row stands in for them (it
   * stores their ticket ids, for the modal behind its button) and their card rows are marked done
   * with `foldedInto`, in one transaction. They stay tickets in every list and command; a folded
   * ticket's own card is posted the moment anything happens to it (every event queues a card
   * refresh, which posts when the ticket has no card yet). P1/P2 always get their own cards, and a
   * backlog older than the window (an outage) is delivered card by card, in order.
   *
   * A digest goes ahead of its channel's waiting cards (it summarises what they are part of), so a
   * channel gets one at most every `spacingMs`: while one waits for its turn (and until Slack took
   * it), cards of the continuing burst join it rather than start another.
   */
  async function foldBursts(): Promise<number> {
    if (!options.digest) return 0;
    const { threshold, windowMinutes } = options.digest;
    const spacingMs = options.digest.spacingMs ?? DIGEST_SPACING_MS;
    const now = clock();
    const at = nowSql(now);
    // The ticket is read by its key, one per card row, in a subquery PostgreSQL keeps per row: as a
    // join, a plan made while the tables were small ran a scan of all tickets for every card row of
    // a burst (10,000 rows: 14 s a query, against 30 ms this way).
    const burst = sql`
      o.status = 'pending' and o.kind = 'card' and o.next_attempt_at <= ${at}
      and (select t.slack_ts is null and t.version = 1 and t.priority in ('P3', 'P4')
           from tickets t where t.id = o.ticket_id)
      and o.created_at > ${at} - make_interval(mins => ${windowMinutes})`;
    // A digest not yet sent (a 429 says Slack did nothing) can take more tickets.
    const open = sql`d.kind = ${DIGEST_KIND} and d.status = 'pending' and (d.last_error is null or d.last_error = 'ratelimited')`;
    const channels = rowsOf<{ channel: string; n: number }>(
      await db.execute(sql`
        select o.channel, count(*)::int as n from outbox o
        where ${burst} group by o.channel
        having count(*) >= ${threshold}
            or exists (select 1 from outbox d where ${open} and d.channel = o.channel)`),
    );
    let folded = 0;
    for (const { channel } of channels) {
      const count = await db.transaction(async (tx) => {
        const rows = rowsOf<{ id: number; ticket_id: number }>(
          await tx.execute(sql`
            select o.id, o.ticket_id from outbox o
            where ${burst} and o.channel = ${channel}
            order by o.id limit ${DIGEST_MAX_TICKETS} for update skip locked`),
        );
        if (rows.length === 0) return 0;
        // Waits for a claim of it in flight, then sees it leased (no longer open).
        const [waiting] = rowsOf<{ id: number; n: number }>(
          await tx.execute(sql`
            select d.id, jsonb_array_length(coalesce(d.payload->'ticketIds', '[]'::jsonb))::int as n from outbox d
            where ${open} and d.channel = ${channel} order by d.id desc limit 1 for update`),
        );
        let digestId: number;
        let taken = rows;
        if (waiting && waiting.n < DIGEST_MAX_TICKETS) {
          taken = rows.slice(0, DIGEST_MAX_TICKETS - waiting.n);
          digestId = waiting.id;
          await tx.execute(sql`
            update outbox set payload = jsonb_set(payload, '{ticketIds}',
              coalesce(payload->'ticketIds', '[]'::jsonb) || ${JSON.stringify(taken.map((r) => r.ticket_id))}::jsonb)
            where id = ${digestId}`);
        } else {
          if (!waiting && rows.length < threshold) return 0;
          const postAt = Math.max(now, (await lastDigestAt(tx, channel)) + spacingMs);
          const [digest] = await tx
            .insert(outbox)
            .values({
              kind: DIGEST_KIND,
              channel,
              payload: { ticketIds: taken.map((r) => r.ticket_id), windowMinutes, postAt },
              nextAttemptAt: new Date(postAt),
            })
            .returning({ id: outbox.id });
          digestId = digest!.id;
        }
        await tx.execute(sql`
          update outbox set status = 'done', delivered_at = ${at},
            payload = payload || ${JSON.stringify({ foldedInto: { digestId } })}::jsonb
          where id = any(${idArray(taken.map((r) => r.id))})`);
        return taken.length;
      });
      if (count === 0) continue;
      folded += count;
      log.info({ channel, folded: count }, 'burst folded into a digest card');
    }
    return folded;
  }

  /** When the channel's latest digest went out, or is due to (0 when it never had one). */
  async function lastDigestAt(tx: Database, channel: string): Promise<number> {
    const [last] = rowsOf<{
      status: string;
      delivered_at: string | Date | null;
      post_at: string | null;
      created_at: string | Date;
    }>(
      await tx.execute(sql`
        select status, delivered_at, payload->>'postAt' as post_at, created_at from outbox
        where kind = ${DIGEST_KIND} and channel = ${channel} and status <> 'failed'
        order by id desc limit 1`),
    );
    if (!last) return 0;
    if (last.status === 'done' && last.delivered_at) return new Date(last.delivered_at).getTime();
    return last.post_at ? Number(last.post_at) : new Date(last.created_at).getTime();
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
      if (wakeBy !== null) {
        wait = Math.min(wait, Math.max(0, wakeBy - Date.now()));
        wakeBy = null;
      }
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          sleeping = { until: Date.now() + wait, timer: setTimeout(resolve, wait), resolve };
        });
        sleeping = undefined;
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
      if (sleeping) {
        clearTimeout(sleeping.timer);
        sleeping.resolve();
      }
      await loop;
    },
    wake(channel) {
      wakeWithin(channel === undefined ? 0 : pacer.waitMs(directory.cached(channel), clock()));
    },
    runOnce,
  };
}

/** A card or digest as plain text, for when Slack refused its blocks: what it is, and where to see all of it. */
function plainFallback(text: string, what: string, refusal: string): string {
  const note = `_Slack refused the layout of ${what} (\`${escapeMrkdwn(refusal)}\`), so it shows as plain text. \`/earshot ticket <id>\` shows a ticket in full._`;
  return `${text.slice(0, 2500)}\n${note}`;
}
