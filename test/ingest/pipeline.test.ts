import { eq, isNull } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { items } from '../../src/db/schema/index.js';
import { createIngestPipeline } from '../../src/ingest/pipeline.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { createSource } from '../../src/sources/sources.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, inboundFixture } from '../helpers/fixtures.js';
import { silentLogger } from './helpers.js';

describeEachDatabase('ingest pipeline', (handle) => {
  it('triages off the caller’s path with bounded concurrency', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'bounded', kind: 'webhook' });
    let inFlight = 0;
    let most = 0;
    const pipeline = createIngestPipeline({
      db,
      logger: silentLogger,
      concurrency: 2,
      groupingWindowMinutes: 0,
      maxTextLength: 1_000,
      assess: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        return assessmentFixture();
      },
    });
    const processed: number[] = [];
    pipeline.onProcessed((result) => {
      processed.push(result.item.id);
    });
    const stored = [];
    for (let i = 0; i < 8; i += 1) {
      stored.push(await pipeline.receive(inboundFixture(source.id, { author: { externalId: `bounded-${i}` } })));
    }
    expect(stored.every((s) => !s.duplicate)).toBe(true);
    await pipeline.idle();
    expect(most).toBe(2);
    expect(processed.sort()).toEqual(stored.map((s) => s.item.id).sort());
    await pipeline.stop();
  });

  it('picks up, at start, items a crash left untriaged, and retries a failed triage on the next sweep', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'crashy', kind: 'webhook' });
    // Stored by a process that died before triaging them.
    for (let i = 0; i < 3; i += 1) {
      await storeItem(db, inboundFixture(source.id, { author: { externalId: `crash-${i}` } }), {
        maxTextLength: 1_000,
      });
    }
    let failOnce = true;
    const pipeline = createIngestPipeline({
      db,
      logger: silentLogger,
      groupingWindowMinutes: 0,
      maxTextLength: 1_000,
      sweepIntervalMs: 60_000,
      assess: async () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('the model timed out');
        }
        return assessmentFixture();
      },
    });
    pipeline.start();
    const unprocessed = async () =>
      (await db.select().from(items).where(eq(items.sourceId, source.id))).filter((i) => !i.processedAt).length;
    for (let i = 0; i < 200 && (await unprocessed()) > 1; i += 1) await new Promise((r) => setTimeout(r, 10));
    await pipeline.idle();
    expect(await unprocessed()).toBe(1);
    expect(await pipeline.sweep({ graceMs: 0 })).toBe(1);
    await pipeline.idle();
    expect(await unprocessed()).toBe(0);
    expect(await db.select().from(items).where(isNull(items.processedAt))).toHaveLength(0);
    await pipeline.stop();
  });
});
