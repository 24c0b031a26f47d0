import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { type Database, rowsOf, sqlArray } from '../db/database.js';
import { rowOf } from '../db/rows.js';
import { authors, items, sources } from '../db/schema/index.js';
import { AppError, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { runWithLogContext } from '../observability/log-context.js';
import type { Metrics } from '../observability/metrics.js';
import type { Author, Item, Source } from '../tickets/types.js';
import type { Assessment } from '../triage/types.js';
import { createCoalescer } from './coalesce.js';
import { processBatch, type TriagedItem } from './process-batch.js';
import { type ProcessedItem, processItem } from './process-item.js';
import { type InboundItem, type StoredItem, type StoreRequest, storeItems, validateInbound } from './store-item.js';

/** What triage reads of a stored item. */
export type TriageSubject = Pick<Item, 'text' | 'tags' | 'language'>;

/** What triage reads of an author as stored. */
export type AuthorFacts = Pick<Author, 'followerCount' | 'verified' | 'vip' | 'handle'>;

/** What Earshot knows of an author's past, read with the item (the receipt's statement, or the queue's read back). */
export interface AuthorHistory {
  /** Their tickets so far. */
  previousContacts: number;
}

/** Triage as the pipeline sees it: the triage engine's `assess`, injected. */
export type AssessFn = (
  item: TriageSubject,
  author: AuthorFacts,
  source: Pick<Source, 'name' | 'kind'>,
  history: AuthorHistory,
) => Promise<Assessment>;

export type ProcessedListener = (result: ProcessedItem, context: { author: Author; source: Source }) => unknown;

export interface PipelineOptions {
  db: Database;
  /** Null stores items without triaging them (an import run where another process triages). */
  assess: AssessFn | null;
  logger: Logger;
  groupingWindowMinutes: number;
  maxTextLength: number;
  /** Items triaged at once by this process's queue. */
  concurrency?: number;
  /** Most triaged items made into tickets in one transaction. */
  batchSize?: number;
  /** Such transactions open at once in this process. */
  writers?: number;
  /**
   * Receipt statements in flight at once (2 by default); receipts arriving meanwhile are stored
   * together in the next. With one, every receipt waited for the statement before it, its commit and
   * the trip back, and four senders measured a third fewer items per second than with two, whose
   * commits overlap. Both statements upsert authors and insert items in key order, so they never
   * wait on each other in a cycle.
   */
  storesInFlight?: number;
  /**
   * A batch smaller than `batchSize` waits for more items while they keep arriving: until none has
   * come for `lingerGapMs`, and at most `lingerMs` after its first. A lone item (a quiet hour) waits
   * only the gap; under steady load a batch takes everything that came in up to `lingerMs`, and every
   * one of those items shares one commit and a handful of statements. Tens of milliseconds on a card
   * that then waits its turn at Slack's one message per second per channel.
   */
  lingerMs?: number;
  lingerGapMs?: number;
  /** How often the sweep looks for items nobody processed (a crash, a failed triage). */
  sweepIntervalMs?: number;
  /** Items younger than this are left to the replica that received them. */
  sweepGraceMs?: number;
  sweepBatch?: number;
  /** Items ingested by source and outcome, triage time by provider; null records nothing. */
  metrics?: Metrics | null;
}

export interface IngestPipeline {
  /**
   * The durable receipt: the item is stored (one statement), then queued for triage and processing
   * off the caller's path. `source` is the item's source when the caller has just read it. With
   * `confirmSource` the caller took `source` from a cache and decided on it (its secret, its
   * settings): the same statement stores nothing unless that row is unchanged (same secret, still
   * enabled, not updated since), and else `receive` throws `sourceChanged()`.
   */
  receive(inbound: InboundItem, context?: { source?: Source; confirmSource?: boolean }): Promise<StoredItem>;
  /** Queues a stored item for triage and processing; repeats are ignored. */
  enqueue(itemId: number): void;
  /**
   * Queues unprocessed items older than the grace period, or received before `receivedBefore`;
   * returns how many it queued.
   */
  sweep(options?: { graceMs?: number; receivedBefore?: Date }): Promise<number>;
  /** Called after each item becomes (part of) a ticket: SLA and crisis hooks. */
  onProcessed(listener: ProcessedListener): void;
  /** Resolves when nothing is being received (stored), queued or in flight. */
  idle(): Promise<void>;
  start(): void;
  /** Stops the sweep, refuses new work, and waits for in-flight items. */
  stop(): Promise<void>;
}

/** How long a source row read for triage is reused (its name and kind never change). */
const SOURCE_TTL_MS = 30_000;

/** What `receive` throws when a source the caller took from a cache changed since: check it again. */
export function sourceChanged(): AppError {
  return new AppError('conflict', 'The source changed since it was read; check the request against it again.', {
    details: { field: 'source' },
  });
}

/** Whether `receive` threw because the caller's cached source changed. */
export function isSourceChanged(err: unknown): boolean {
  return isAppError(err, 'conflict') && err.details.field === 'source';
}

/** A stored item on its way to a ticket, with what triage and the listeners read. */
interface Queued {
  item: Item;
  author: Author;
  source: Source;
  history: AuthorHistory;
}

type Triaged = Queued & TriagedItem;

/**
 * The ingest pipeline. `storeItems` is the durable receipt (one statement, answered as soon as it
 * commits); then, off the caller's path, a bounded in-process queue triages items (`concurrency`
 * at once) and makes whatever is triaged into tickets in batches (`processBatch`: up to `batchSize`
 * items a transaction, `writers` transactions at once), so a burst costs a commit per batch, not
 * per item. An item's receipt hands the queue its rows; the sweep's items are read back in one
 * statement per batch. A periodic sweep of `processed_at is null` picks up whatever a crash or a
 * failed triage left behind, so no stored item is ever lost.
 */
export function createIngestPipeline(options: PipelineOptions): IngestPipeline {
  const { db } = options;
  const log = options.logger.child({ component: 'ingest' });
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const writers = Math.max(1, options.writers ?? 2);
  const lingerMs = Math.max(0, options.lingerMs ?? 50);
  const lingerGapMs = Math.min(lingerMs, Math.max(0, options.lingerGapMs ?? 10));
  const sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
  const defaultGraceMs = options.sweepGraceMs ?? 15_000;
  const sweepBatch = options.sweepBatch ?? 200;

  const limits = { maxTextLength: options.maxTextLength };
  // Receipts arriving while others are being stored share the next statement (and its commit).
  const store = createCoalescer((requests: StoreRequest[]) => storeItems(db, requests, limits), {
    maxInFlight: Math.max(1, options.storesInFlight ?? 2),
    maxGroup: batchSize,
  });

  /** Every item in one of the three stages below or in flight, so none is queued twice. */
  const known = new Set<number>();
  /** Stored items known by id only (the sweep, a repeat of an unprocessed item): read back first. */
  const unread: number[] = [];
  /** Items waiting for triage. */
  const untriaged: Queued[] = [];
  /** Items triaged, waiting for a batch. */
  const triaged: Triaged[] = [];
  const listeners: ProcessedListener[] = [];
  let reading = false;
  let triaging = 0;
  let writing = 0;
  /** Receipts being stored: their items are not queued yet, but `idle()` must wait for them too. */
  let receiving = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** Set while triaged items wait for company (`lingerMs`); cleared when a batch takes them. */
  let linger: NodeJS.Timeout | undefined;
  let lingered = false;
  /** When the first of the waiting items, and the latest, became ready. */
  let firstReadyAt = 0;
  let lastReadyAt = 0;
  const lingerCheck = () => {
    linger = undefined;
    const now = performance.now();
    const wait = Math.min(lastReadyAt + lingerGapMs, firstReadyAt + lingerMs) - now;
    if (wait > 0) linger = setTimeout(lingerCheck, wait);
    else lingered = true;
    pump();
  };
  let idleWaiters: (() => void)[] = [];
  let pumpSoon: NodeJS.Immediate | undefined;

  const busy = () =>
    linger !== undefined ||
    reading ||
    triaging > 0 ||
    writing > 0 ||
    receiving > 0 ||
    unread.length > 0 ||
    untriaged.length > 0 ||
    triaged.length > 0;

  const settleIdle = () => {
    if (busy()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const forget = (itemIds: readonly number[]) => {
    for (const id of itemIds) known.delete(id);
  };

  // Each stage's unit of work is its own in the logs, whichever request or sweep queued it.
  const pump = () => {
    while (writing < writers && triaged.length > 0) {
      if (triaged.length < batchSize && !lingered && !stopped && lingerMs > 0) {
        linger ??= setTimeout(lingerCheck, lingerGapMs);
        break;
      }
      lingered = false;
      clearTimeout(linger);
      linger = undefined;
      const batch = triaged.splice(0, batchSize);
      writing += 1;
      void runWithLogContext({}, () => writeBatch(batch), { fresh: true }).finally(() => {
        writing -= 1;
        forget(batch.map((e) => e.item.id));
        pump();
      });
    }
    while (triaging < concurrency && untriaged.length > 0) {
      const queued = untriaged.shift()!;
      triaging += 1;
      void runWithLogContext({ itemId: queued.item.id }, () => triageQueued(queued), { fresh: true }).finally(() => {
        triaging -= 1;
        pump();
      });
    }
    if (!reading && unread.length > 0) {
      const ids = unread.splice(0, batchSize);
      reading = true;
      void readQueued(ids).finally(() => {
        reading = false;
        pump();
      });
    }
    settleIdle();
  };

  /**
   * Sources for triage and the ingest counter's label when the caller did not pass one. Both read
   * only the name and kind, which never change; the rest is at most `SOURCE_TTL_MS` old (listeners'
   * context).
   */
  const sourceRows = new Map<number, { source: Source; readAt: number }>();
  async function sourceById(sourceId: number): Promise<Source | null> {
    const cached = sourceRows.get(sourceId);
    if (cached && Date.now() - cached.readAt < SOURCE_TTL_MS) return cached.source;
    const [row] = await db.select().from(sources).where(eq(sources.id, sourceId));
    if (row) sourceRows.set(sourceId, { source: row, readAt: Date.now() });
    return row ?? null;
  }

  /** `assess`, timed into the triage-latency metric by provider. */
  async function triage(...args: Parameters<AssessFn>): Promise<Assessment> {
    const started = performance.now();
    const assessment = await options.assess!(...args);
    options.metrics?.triageSeconds.observe(
      { provider: assessment.triage.provider },
      (performance.now() - started) / 1000,
    );
    return assessment;
  }

  async function notify(result: ProcessedItem, context: { author: Author; source: Source }): Promise<void> {
    for (const listener of listeners) {
      try {
        await listener(result, context);
      } catch (err) {
        log.error({ err, itemId: result.item.id }, 'an ingest listener failed');
      }
    }
  }

  function countIngested(source: string, duplicate: boolean): void {
    options.metrics?.itemsIngested.inc({ source, outcome: duplicate ? 'duplicate' : 'new' });
  }

  /** Reads back stored items known by id, with their author, source and history, in one statement. */
  async function readQueued(ids: number[]): Promise<void> {
    try {
      const rows = rowsOf<{
        item: Record<string, unknown>;
        author: Record<string, unknown>;
        source: Record<string, unknown>;
        previous_contacts: number;
      }>(
        await db.execute(sql`
          select row_to_json(i) as item, row_to_json(a) as author, row_to_json(s) as source,
                 (select count(*)::int from tickets t where t.author_id = a.id) as previous_contacts
          from items i join authors a on a.id = i.author_id join sources s on s.id = i.source_id
          where i.id = any(${sqlArray(ids, 'bigint')}) and i.processed_at is null`),
      );
      const found = new Set<number>();
      for (const row of rows) {
        const item = rowOf(items, row.item);
        found.add(item.id);
        untriaged.push({
          item,
          author: rowOf(authors, row.author),
          source: rowOf(sources, row.source),
          history: { previousContacts: Number(row.previous_contacts) },
        });
      }
      // Gone, or processed meanwhile (another replica's sweep): nothing to do.
      forget(ids.filter((id) => !found.has(id)));
    } catch (err) {
      forget(ids);
      log.error({ err, items: ids.length }, 'reading queued items failed; the sweep will retry them');
    }
  }

  async function triageQueued(queued: Queued): Promise<void> {
    try {
      const assessment = await triage(queued.item, queued.author, queued.source, queued.history);
      lastReadyAt = performance.now();
      if (triaged.length === 0) firstReadyAt = lastReadyAt;
      triaged.push({ ...queued, assessment });
    } catch (err) {
      // The item stays unprocessed; the sweep will try it again.
      forget([queued.item.id]);
      log.error({ err, itemId: queued.item.id }, 'triaging an item failed; the sweep will retry it');
    }
  }

  /**
   * One transaction for the batch; if it fails, each item gets a transaction of its own, so one
   * item the database refuses does not hold back the rest (it stays for the sweep).
   */
  async function writeBatch(batch: Triaged[]): Promise<void> {
    const grouping = { groupingWindowMinutes: options.groupingWindowMinutes };
    let results: (ProcessedItem | null)[];
    try {
      results = await processBatch(db, batch, grouping);
    } catch (err) {
      log.warn({ err, items: batch.length }, 'processing a batch failed; processing its items one by one');
      results = [];
      for (const { item, assessment } of batch) {
        try {
          results.push(await processItem(db, { itemId: item.id, assessment }, grouping));
        } catch (itemErr) {
          results.push(null);
          log.error({ err: itemErr, itemId: item.id }, 'processing an item failed; the sweep will retry it');
        }
      }
    }
    for (const [index, result] of results.entries()) {
      const { author, source } = batch[index]!;
      if (!result || result.outcome === 'already_processed') continue;
      log.info({ itemId: result.item.id, ticketId: result.ticket.id, outcome: result.outcome }, 'item processed');
      await notify(result, { author, source });
    }
  }

  /** `receive` after its input was checked: store, count, and queue a new item for triage. */
  async function receiveValid(
    inbound: InboundItem,
    context: { source?: Source; confirmSource?: boolean },
  ): Promise<StoredItem> {
    const cached = context.confirmSource === true ? context.source : undefined;
    const stored = await store({ inbound, ...(cached ? { confirm: cached } : {}) });
    if ('refused' in stored) throw sourceChanged();
    const source = context.source ?? (await sourceById(inbound.sourceId));
    countIngested(source?.name ?? String(inbound.sourceId), stored.duplicate);
    if (!stored.item.processedAt) {
      // A new item's rows are at hand; a repeat of one a crash left unprocessed is read back.
      if (stored.duplicate || !source) pipeline.enqueue(stored.item.id);
      else
        queue({
          item: stored.item,
          author: stored.author,
          source,
          history: { previousContacts: stored.previousContacts },
        });
    }
    return { item: stored.item, author: stored.author, duplicate: stored.duplicate };
  }

  const pipeline: IngestPipeline = {
    async receive(inbound, context = {}) {
      // The caller's own error for bad input, before it joins other receipts' statement.
      validateInbound(inbound, limits);
      receiving += 1;
      try {
        return await receiveValid(inbound, context);
      } finally {
        receiving -= 1;
        settleIdle();
      }
    },
    enqueue(itemId) {
      if (stopped || !options.assess || known.has(itemId)) return;
      known.add(itemId);
      unread.push(itemId);
      pump();
    },
    async sweep(sweepOptions = {}) {
      const graceMs = sweepOptions.graceMs ?? defaultGraceMs;
      const cutoff = sweepOptions.receivedBefore
        ? sql`${sweepOptions.receivedBefore.toISOString()}::timestamptz`
        : sql`now() - (${graceMs} * interval '1 millisecond')`;
      const rows = await db
        .select({ id: items.id })
        .from(items)
        .where(and(isNull(items.processedAt), sql`${items.receivedAt} <= ${cutoff}`))
        .orderBy(asc(items.id))
        .limit(sweepBatch);
      let queued = 0;
      for (const { id } of rows) {
        if (known.has(id)) continue;
        pipeline.enqueue(id);
        queued += 1;
      }
      if (queued > 0) log.info({ queued }, 'sweep queued unprocessed items');
      return queued;
    },
    onProcessed(listener) {
      listeners.push(listener);
    },
    idle() {
      if (!busy()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    start() {
      stopped = false;
      const tick = () => {
        pipeline
          .sweep()
          .catch((err: unknown) => log.error({ err }, 'sweep failed'))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, sweepIntervalMs);
          });
      };
      // The first sweep takes everything a previous run left, whatever its age, and nothing received
      // since this start: those are this run's own receipts (or another replica's), already on
      // their way to triage, and a second triage of them would be wasted (an OpenAI call each).
      // `received_at` has microseconds and a Date milliseconds: the next millisecond takes in
      // everything stored before this line. (It is this host's clock against the database's: a skew
      // only moves items between this sweep and the periodic one, past its grace, or triages one twice.)
      const startedAt = new Date(Date.now() + 1);
      pipeline
        .sweep({ receivedBefore: startedAt })
        .catch((err: unknown) => log.error({ err }, 'start-up sweep failed'))
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, sweepIntervalMs);
        });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      // Items not yet in a batch stay unprocessed in the database; the next sweep takes them.
      const dropped = [
        ...unread.splice(0),
        ...untriaged.splice(0).map((q) => q.item.id),
        ...triaged.splice(0).map((t) => t.item.id),
      ];
      forget(dropped);
      clearTimeout(linger);
      linger = undefined;
      await pipeline.idle();
    },
  };

  /**
   * Queues a just-stored item with its rows (no read back). Triage starts on the next turn of the
   * event loop, after the caller has sent its answer: in-process triage is CPU work that would
   * otherwise run before the receipt's 202 is written.
   */
  function queue(queued: Queued): void {
    if (stopped || !options.assess || known.has(queued.item.id)) return;
    known.add(queued.item.id);
    untriaged.push(queued);
    if (pumpSoon) return;
    pumpSoon = setImmediate(() => {
      pumpSoon = undefined;
      pump();
    });
  }

  return pipeline;
}
