import { and, asc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/database.js';
import { authors, items, sources } from '../db/schema/index.js';
import { AppError, isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { addLogContext, runWithLogContext } from '../observability/log-context.js';
import type { Metrics } from '../observability/metrics.js';
import type { Author, Item, Source } from '../tickets/types.js';
import type { Assessment } from '../triage/types.js';
import { ingestItem, type ProcessedItem, processItem } from './process-item.js';
import { type InboundItem, type StoredItem, storeItem, validateInbound } from './store-item.js';

/** What triage reads of an item: a stored one, or one about to be stored. */
export type TriageSubject = Pick<Item, 'text' | 'tags' | 'language'>;

/** What triage reads of an author; `id` is null for one not stored yet. */
export type AuthorFacts = Pick<Author, 'followerCount' | 'verified' | 'vip' | 'handle'> & { id: number | null };

/** What Earshot knows of an author's past, read once with the author. */
export interface AuthorHistory {
  /** Their tickets so far. */
  previousContacts: number;
}

/**
 * Triage as the pipeline sees it: the triage engine's `assess`, injected. Without `history`, triage
 * reads it itself.
 */
export type AssessFn = (
  item: TriageSubject,
  author: AuthorFacts,
  source: Pick<Source, 'name' | 'kind'>,
  history?: AuthorHistory,
) => Promise<Assessment>;

export type ProcessedListener = (result: ProcessedItem, context: { author: Author; source: Source }) => unknown;

export interface PipelineOptions {
  db: Database;
  /** Null stores items without triaging them (an import run where another process triages). */
  assess: AssessFn | null;
  /**
   * Whether `assess` runs in-process right now (the embedded classifier: no network). Then `receive`
   * stores, triages and processes an item in one transaction before it answers; otherwise (OpenAI),
   * and whenever that transaction fails, the item is stored first and triaged by the queue.
   */
  inline?: () => boolean;
  logger: Logger;
  groupingWindowMinutes: number;
  maxTextLength: number;
  /** Items triaged at once by this process's queue. */
  concurrency?: number;
  /**
   * Items processed on receipt at once (in-process triage). When more arrive than that, and for as
   * long as the queue then has work, receipts only store the item and queue it: in a burst the
   * receipts stay fast and processing catches up at the queue's pace. Default: four times `concurrency`.
   */
  inlineConcurrency?: number;
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
   * The durable receipt. With in-process triage the item is stored, triaged and made (part of) a
   * ticket in one transaction; else it is stored, then queued for triage off the caller's path.
   * `source` is the item's source when the caller has just read it. With `confirmSource` the caller
   * took `source` from a cache and decided on it (its secret, its settings): before anything is
   * stored, receive confirms the row unchanged (`sourceIsCurrent`) and else throws `sourceChanged()`.
   */
  receive(inbound: InboundItem, context?: { source?: Source; confirmSource?: boolean }): Promise<StoredItem>;
  /** Queues a stored item for triage and processing; repeats are ignored. */
  enqueue(itemId: number): void;
  /** Queues unprocessed items older than the grace period; returns how many it queued. */
  sweep(options?: { graceMs?: number }): Promise<number>;
  /** Called after each item becomes (part of) a ticket: SLA and crisis hooks. */
  onProcessed(listener: ProcessedListener): void;
  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void>;
  start(): void;
  /** Stops the sweep, refuses new work, and waits for in-flight items. */
  stop(): Promise<void>;
}

/** How long a source row read for in-transaction triage is reused (its name and kind never change). */
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

/**
 * True while the source row is as the caller read it: same secret, still enabled, not updated
 * since (every change Earshot makes sets `updated_at`; compared at the millisecond a Date keeps).
 */
function sourceUnchanged(source: Source): SQL {
  return sql`exists (select 1 from sources where id = ${source.id} and enabled
    and secret is not distinct from ${source.secret}
    and date_trunc('milliseconds', updated_at) = ${source.updatedAt.toISOString()}::timestamptz)`;
}

/** One read: whether a source taken from a cache is still as it was read. */
export async function sourceIsCurrent(db: Database, source: Source): Promise<boolean> {
  const [row] = rowsOf<{ current: boolean }>(await db.execute(sql`select ${sourceUnchanged(source)} as current`));
  return row?.current === true;
}

/**
 * The ingest pipeline. With in-process triage, `ingestItem` is the receipt: one transaction stores,
 * triages and processes the item on the request path (one commit, the item never read back). With
 * triage over the network, `storeItem` is the durable receipt, and triage and `processItem` run in
 * a bounded in-process queue. Either way a periodic sweep of `processed_at is null` picks up
 * whatever a crash or a failed triage left behind, so no stored item is ever lost.
 */
export function createIngestPipeline(options: PipelineOptions): IngestPipeline {
  const { db } = options;
  const log = options.logger.child({ component: 'ingest' });
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const inlineConcurrency = Math.max(1, options.inlineConcurrency ?? 4 * concurrency);
  const sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
  const defaultGraceMs = options.sweepGraceMs ?? 15_000;
  const sweepBatch = options.sweepBatch ?? 200;

  const pending: number[] = [];
  const known = new Set<number>();
  const listeners: ProcessedListener[] = [];
  let active = 0;
  /** Items being ingested in one transaction on a caller's path, and their listeners (for idle()). */
  let inlineActive = 0;
  /** Of those, the ones not yet committed (for inlineConcurrency). */
  let inlineInFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (active > 0 || inlineActive > 0 || pending.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const pump = () => {
    while (active < concurrency && pending.length > 0) {
      const itemId = pending.shift()!;
      active += 1;
      void handle(itemId).finally(() => {
        active -= 1;
        known.delete(itemId);
        pump();
        settleIdle();
      });
    }
    settleIdle();
  };

  // Each item is its own unit of work in the logs, whichever request or sweep queued it.
  const handle = (itemId: number): Promise<void> =>
    runWithLogContext({ itemId }, () => handleItem(itemId), { fresh: true });

  /**
   * Sources for in-transaction triage and the ingest counter's label when the caller did not pass
   * one. Both read only the name and kind, which never change; the rest is at most `SOURCE_TTL_MS`
   * old (listeners' context).
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

  /**
   * Triages the item (one read first: whether it is a repeat, and its author as stored with their
   * ticket count), then stores and processes it in one transaction. Triage runs before the
   * transaction, so a triage that reads its settings from the database never waits for a connection
   * its own transaction holds. Answers null for a repeat, and when this failed for a reason other
   * than the item itself (triage threw, the database refused): the caller then takes the two-phase
   * path, and the queue and the sweep retry the item. With `confirm`, the same read confirms the
   * given source unchanged (no round trip of its own); `confirmed` tells the caller it did.
   */
  async function receiveInline(
    inbound: InboundItem,
    given: Source | undefined,
    confirm: boolean,
  ): Promise<{ stored: StoredItem | null; confirmed: boolean }> {
    const text = validateInbound(inbound, { maxTextLength: options.maxTextLength });
    inlineActive += 1;
    inlineInFlight += 1;
    let done: { result: Awaited<ReturnType<typeof ingestItem>>; source: Source } | null = null;
    let confirmed = false;
    let changed = false;
    try {
      const [known, source] = await Promise.all([
        readAuthorBeforeIngest(db, inbound, confirm && given ? given : null),
        given ? Promise.resolve(given) : sourceById(inbound.sourceId),
      ]);
      confirmed = confirm && known.sourceCurrent;
      changed = confirm && !known.sourceCurrent;
      if (!changed && !known.stored && source) {
        const assessment = await triage(
          { text, tags: [...new Set(inbound.tags ?? [])], language: inbound.language ?? null },
          known.author,
          source,
          known.history,
        );
        const result = await ingestItem(db, inbound, assessment, {
          groupingWindowMinutes: options.groupingWindowMinutes,
          maxTextLength: options.maxTextLength,
          unseen: true,
        });
        done = { result, source };
      }
    } catch (err) {
      log.warn(
        { err, externalId: inbound.externalId },
        'could not process the item on receipt; storing it for the triage queue',
      );
    } finally {
      inlineInFlight -= 1;
    }
    if (!done) {
      inlineActive -= 1;
      settleIdle();
      if (changed) throw sourceChanged();
      return { stored: null, confirmed };
    }
    // Committed: from here on the item is answered as processed, whatever a listener does.
    const { result, source } = done;
    countIngested(source.name, result.duplicate);
    addLogContext({ itemId: result.item.id, ticketId: result.ticket.id });
    if (result.outcome !== 'already_processed') {
      log.info({ itemId: result.item.id, ticketId: result.ticket.id, outcome: result.outcome }, 'item processed');
    }
    // Off the caller's path, so a listener never delays the receipt; idle() waits for it.
    const listeners =
      result.outcome === 'already_processed' ? Promise.resolve() : notify(result, { author: result.author, source });
    void listeners.finally(() => {
      inlineActive -= 1;
      settleIdle();
    });
    return { stored: { item: result.item, author: result.author, duplicate: result.duplicate }, confirmed };
  }

  async function handleItem(itemId: number): Promise<void> {
    try {
      const [row] = await db
        .select({ item: items, author: authors, source: sources })
        .from(items)
        .innerJoin(authors, eq(authors.id, items.authorId))
        .innerJoin(sources, eq(sources.id, items.sourceId))
        .where(eq(items.id, itemId));
      if (!row || row.item.processedAt) return;
      const assessment = await triage(row.item, row.author, row.source);
      const result = await processItem(
        db,
        { itemId, assessment },
        { groupingWindowMinutes: options.groupingWindowMinutes },
      );
      addLogContext({ ticketId: result.ticket.id });
      if (result.outcome !== 'already_processed') {
        log.info({ itemId, ticketId: result.ticket.id, outcome: result.outcome }, 'item processed');
      }
      await notify(result, { author: row.author, source: row.source });
    } catch (err) {
      // The item stays unprocessed; the sweep will try it again.
      log.error({ err, itemId }, 'processing an item failed; the sweep will retry it');
    }
  }

  const pipeline: IngestPipeline = {
    async receive(inbound, context = {}) {
      let confirm = context.confirmSource === true && context.source !== undefined;
      // Not after stop(): the item is stored and left to the next start's sweep, as queued ones are.
      // Not beyond inlineConcurrency, nor while the queue works: then the receipt alone is cheap
      // (a burst's receipts keep up), and the queue catches up.
      if (
        !stopped &&
        options.assess &&
        inlineInFlight < inlineConcurrency &&
        active === 0 &&
        pending.length === 0 &&
        options.inline?.()
      ) {
        const inline = await receiveInline(inbound, context.source, confirm);
        if (inline.stored) return inline.stored;
        confirm = confirm && !inline.confirmed;
      }
      // Nothing stored yet: a cached source not confirmed on the way gets its own read.
      if (confirm && context.source && !(await sourceIsCurrent(db, context.source))) throw sourceChanged();
      const stored = await storeItem(db, inbound, { maxTextLength: options.maxTextLength });
      if (options.metrics) {
        const source = context.source ?? (await sourceById(inbound.sourceId));
        countIngested(source?.name ?? String(inbound.sourceId), stored.duplicate);
      }
      if (!stored.item.processedAt) pipeline.enqueue(stored.item.id);
      return stored;
    },
    enqueue(itemId) {
      if (stopped || !options.assess || known.has(itemId)) return;
      known.add(itemId);
      pending.push(itemId);
      pump();
    },
    async sweep(sweepOptions = {}) {
      const graceMs = sweepOptions.graceMs ?? defaultGraceMs;
      const rows = await db
        .select({ id: items.id })
        .from(items)
        .where(
          and(isNull(items.processedAt), sql`${items.receivedAt} <= now() - (${graceMs} * interval '1 millisecond')`),
        )
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
      if (active === 0 && inlineActive === 0 && pending.length === 0) return Promise.resolve();
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
      // The first sweep takes everything a previous run left, whatever its age.
      pipeline
        .sweep({ graceMs: 0 })
        .catch((err: unknown) => log.error({ err }, 'start-up sweep failed'))
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, sweepIntervalMs);
        });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      // Queued items not yet started stay unprocessed in the database; the next sweep takes them.
      for (const itemId of pending.splice(0)) known.delete(itemId);
      await pipeline.idle();
    },
  };
  return pipeline;
}

/**
 * One statement before an item is ingested in one transaction: whether (source, external id) is
 * stored already, and the author as the receipt will store them (the source's facts over the stored
 * ones, Earshot's VIP flag kept) with their ticket count; with `confirm`, whether that source row is
 * unchanged since the caller read it.
 */
async function readAuthorBeforeIngest(
  db: Database,
  inbound: InboundItem,
  confirm: Source | null,
): Promise<{ stored: boolean; author: AuthorFacts; history: AuthorHistory; sourceCurrent: boolean }> {
  const [row] = rowsOf<{
    source_current: boolean;
    stored: boolean;
    id: number | null;
    handle: string | null;
    follower_count: number | null;
    verified: boolean | null;
    vip: boolean | null;
    previous_contacts: number | null;
  }>(
    await db.execute(sql`
      select ${confirm ? sourceUnchanged(confirm) : sql`true`} as source_current,
             exists (select 1 from items where source_id = ${inbound.sourceId} and external_id = ${inbound.externalId}) as stored,
             a.id, a.handle, a.follower_count, a.verified, a.vip,
             (select count(*)::int from tickets t where t.author_id = a.id) as previous_contacts
      from (select 1) as one
      left join authors a on a.source_id = ${inbound.sourceId} and a.external_id = ${inbound.author.externalId}`),
  );
  const given = inbound.author;
  return {
    sourceCurrent: row?.source_current === true,
    stored: row?.stored === true,
    author: {
      id: row?.id ?? null,
      handle: given.handle ?? row?.handle ?? null,
      followerCount: given.followerCount ?? row?.follower_count ?? 0,
      verified: given.verified ?? row?.verified ?? false,
      vip: row?.vip ?? false,
    },
    history: { previousContacts: Number(row?.previous_contacts ?? 0) },
  };
}
