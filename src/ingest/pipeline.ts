import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { authors, items, sources } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import { addLogContext, runWithLogContext } from '../observability/log-context.js';
import type { Metrics } from '../observability/metrics.js';
import type { Author, Item, Source } from '../tickets/types.js';
import type { Assessment } from '../triage/types.js';
import { type ProcessedItem, processItem } from './process-item.js';
import { type InboundItem, type StoredItem, storeItem } from './store-item.js';

/** Triage as the pipeline sees it: the triage engine's `assess`, injected. */
export type AssessFn = (item: Item, author: Author, source: Source) => Promise<Assessment>;

export type ProcessedListener = (result: ProcessedItem, context: { author: Author; source: Source }) => unknown;

export interface PipelineOptions {
  db: Database;
  /** Null stores items without triaging them (an import run where another process triages). */
  assess: AssessFn | null;
  logger: Logger;
  groupingWindowMinutes: number;
  maxTextLength: number;
  /** Items triaged at once by this process. */
  concurrency?: number;
  /** How often the sweep looks for items nobody processed (a crash, a failed triage). */
  sweepIntervalMs?: number;
  /** Items younger than this are left to the replica that received them. */
  sweepGraceMs?: number;
  sweepBatch?: number;
  /** Items ingested by source and outcome, triage time by provider; null records nothing. */
  metrics?: Metrics | null;
}

export interface IngestPipeline {
  /** The durable receipt: stores the item, then queues it for triage off the caller's path. */
  receive(inbound: InboundItem): Promise<StoredItem>;
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

/**
 * The ingest pipeline: `storeItem` is the durable receipt on the request path; triage and
 * `processItem` run in a bounded in-process queue, and a periodic sweep of `processed_at is null`
 * picks up whatever a crash or a failed triage left behind, so no stored item is ever lost.
 */
export function createIngestPipeline(options: PipelineOptions): IngestPipeline {
  const { db } = options;
  const log = options.logger.child({ component: 'ingest' });
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
  const defaultGraceMs = options.sweepGraceMs ?? 15_000;
  const sweepBatch = options.sweepBatch ?? 200;

  const pending: number[] = [];
  const known = new Set<number>();
  const listeners: ProcessedListener[] = [];
  let active = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = () => {
    if (active > 0 || pending.length > 0) return;
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

  /** Source names for the ingest counter's label, read once per source. */
  const sourceNames = new Map<number, string>();
  async function sourceName(sourceId: number): Promise<string> {
    let name = sourceNames.get(sourceId);
    if (name === undefined) {
      const [row] = await db.select({ name: sources.name }).from(sources).where(eq(sources.id, sourceId));
      name = row?.name ?? String(sourceId);
      sourceNames.set(sourceId, name);
    }
    return name;
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
      const triageStarted = performance.now();
      const assessment = await options.assess!(row.item, row.author, row.source);
      options.metrics?.triageSeconds.observe(
        { provider: assessment.triage.provider },
        (performance.now() - triageStarted) / 1000,
      );
      const result = await processItem(
        db,
        { itemId, assessment },
        { groupingWindowMinutes: options.groupingWindowMinutes },
      );
      addLogContext({ ticketId: result.ticket.id });
      if (result.outcome !== 'already_processed') {
        log.info({ itemId, ticketId: result.ticket.id, outcome: result.outcome }, 'item processed');
      }
      for (const listener of listeners) {
        try {
          await listener(result, { author: row.author, source: row.source });
        } catch (err) {
          log.error({ err, itemId }, 'an ingest listener failed');
        }
      }
    } catch (err) {
      // The item stays unprocessed; the sweep will try it again.
      log.error({ err, itemId }, 'processing an item failed; the sweep will retry it');
    }
  }

  const pipeline: IngestPipeline = {
    async receive(inbound) {
      const stored = await storeItem(db, inbound, { maxTextLength: options.maxTextLength });
      if (options.metrics) {
        const source = await sourceName(inbound.sourceId);
        options.metrics.itemsIngested.inc({ source, outcome: stored.duplicate ? 'duplicate' : 'new' });
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
      if (active === 0 && pending.length === 0) return Promise.resolve();
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
