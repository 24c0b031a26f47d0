import postgres from 'postgres';
import { ingestItem } from '../../src/ingest/process-item.js';
import { ensureSource } from '../../src/sources/sources.js';
import type { Assessment } from '../../src/triage/types.js';
import { openBenchDatabase } from '../lib/database.js';
import type { BenchRow } from '../lib/report.js';
import { repeat, runConcurrently, seededRandom, summarize } from '../lib/stats.js';
import { sampleText } from '../lib/texts.js';

export interface IngestThroughputOptions {
  itemsPerRun: number;
  repeats: number;
  concurrencies: readonly number[];
  /** Triage for one text; the embedded classifier in a full run. */
  assess: (text: string) => Promise<Assessment>;
}

/**
 * Items per second from an inbound item to a committed ticket with triage, its timeline event and
 * its outbox rows, beside the database's own limit for the same work: the three inserts (item,
 * ticket, event) as raw SQL in one transaction from a minimal client, in the same run.
 */
export async function benchIngestThroughput(options: IngestThroughputOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const concurrency of options.concurrencies) {
    const earshotRuns: number[] = [];
    const rawRuns: number[] = [];
    await repeat(options.repeats, async (run) => {
      const random = seededRandom(1000 * concurrency + run);
      const texts = Array.from({ length: options.itemsPerRun }, () => sampleText(random));
      rawRuns.push(await measureRaw(texts, concurrency));
      earshotRuns.push(await measureEarshot(texts, concurrency, options.assess));
      return 0;
    });
    rows.push({
      scenario: 'ingest throughput',
      metric: `${concurrency} concurrent sender${concurrency > 1 ? 's' : ''}`,
      unit: 'items/s',
      value: summarize(earshotRuns),
      reference: { label: 'raw SQL', value: summarize(rawRuns) },
      ratio: summarize(earshotRuns.map((v, i) => v / rawRuns[i]!)),
    });
  }
  return rows;
}

async function measureEarshot(
  texts: string[],
  concurrency: number,
  assess: IngestThroughputOptions['assess'],
): Promise<number> {
  const handle = await openBenchDatabase({ maxConnections: concurrency + 2 });
  try {
    const source = await ensureSource(handle.db, { name: 'bench', kind: 'webhook' });
    const ms = await runConcurrently(texts.length, concurrency, async (index) => {
      await ingestItem(
        handle.db,
        {
          sourceId: source.id,
          externalId: `bench-${index}`,
          author: {
            externalId: `author-${index % 500}`,
            handle: `customer${index % 500}`,
            followerCount: (index * 37) % 50_000,
          },
          text: texts[index]!,
          createdAt: new Date(),
        },
        assess,
        { groupingWindowMinutes: 0, maxTextLength: 20_000 },
      );
    });
    return (texts.length / ms) * 1000;
  } finally {
    await handle.close();
  }
}

async function measureRaw(texts: string[], concurrency: number): Promise<number> {
  const handle = await openBenchDatabase({ maxConnections: 2 });
  const sql = postgres(handle.url, { max: concurrency, onnotice: () => {} });
  try {
    const [source] = await sql`insert into sources (name, kind) values ('bench-raw', 'webhook') returning id`;
    const [author] = await sql`insert into authors (source_id, external_id) values (${source!.id}, 'raw') returning id`;
    const ms = await runConcurrently(texts.length, concurrency, async (index) => {
      await sql.begin(async (tx) => {
        const [item] = await tx`
          insert into items (source_id, external_id, author_id, text, created_at)
          values (${source!.id}, ${`raw-${index}`}, ${author!.id}, ${texts[index]!}, now()) returning id`;
        const [ticket] = await tx`
          insert into tickets (source_id, author_id, channel, last_customer_message_at)
          values (${source!.id}, ${author!.id}, 'C_BENCH', now()) returning id`;
        await tx`insert into ticket_events (ticket_id, actor, type, details)
          values (${ticket!.id}, 'system:bench', 'created', ${sql.json({ itemId: item!.id })})`;
      });
    });
    return (texts.length / ms) * 1000;
  } finally {
    await sql.end();
    await handle.close();
  }
}
