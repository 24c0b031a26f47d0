import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { items, tickets } from '../../src/db/schema/index.js';
import { conversationRoot, importFile, normalizeId } from '../../src/ingest/import.js';
import { createSource } from '../../src/sources/sources.js';
import { describeEachDatabase } from '../helpers/database.js';
import { testPipeline } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describeEachDatabase('import', (handle) => {
  it('imports the inbound rows of a support-tweets CSV into threaded tickets, and a second run adds nothing', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'twcs', kind: 'x' });
    const pipeline = testPipeline(db);
    const progress: number[] = [];
    const first = await importFile(pipeline, {
      path: fixture('support-tweets.csv'),
      sourceId: source.id,
      onProgress: (done) => progress.push(done),
    });
    await pipeline.idle();
    expect(first).toMatchObject({ read: 7, skipped: 2, stored: 4, duplicates: 0, invalid: 1 });
    expect(first.errors[0]).toMatch(/^row 8: .*no text/);
    expect(progress.at(-1)).toBe(7);

    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    const byId = new Map(rows.map((r) => [r.externalId, r]));
    expect(byId.get('6')?.text).toBe('@AppleSupport my phone says "no service", again,\nand restarting does nothing');
    // 5 → (brand 4) → 3 → (brand 2) → 1: one conversation rooted at 5, one ticket.
    expect(byId.get('1')).toMatchObject({ conversationId: '5', parentExternalId: '3' });
    expect(new Set(['1', '3', '5'].map((id) => byId.get(id)?.ticketId)).size).toBe(1);
    expect(rows.every((r) => r.processedAt)).toBe(true);
    const ticketCount = (await db.select().from(tickets).where(eq(tickets.sourceId, source.id))).length;
    expect(ticketCount).toBe(2);

    const second = await importFile(pipeline, { path: fixture('support-tweets.csv'), sourceId: source.id });
    await pipeline.idle();
    expect(second).toMatchObject({ read: 7, skipped: 2, stored: 0, duplicates: 4, invalid: 1 });
    expect(await db.select().from(items).where(eq(items.sourceId, source.id))).toHaveLength(4);
    expect(await db.select().from(tickets).where(eq(tickets.sourceId, source.id))).toHaveLength(ticketCount);
    await pipeline.stop();
  });

  it('imports JSON lines in the webhook body format, reporting bad lines by number', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'legacy', kind: 'webhook' });
    const pipeline = testPipeline(db);
    const summary = await importFile(pipeline, { path: fixture('webhook-export.jsonl'), sourceId: source.id });
    await pipeline.idle();
    expect(summary).toMatchObject({ read: 4, stored: 2, duplicates: 0, invalid: 2 });
    expect(summary.errors).toEqual([
      expect.stringMatching(/^line 4: author\.id/),
      expect.stringMatching(/^line 5: invalid JSON/),
    ]);
    const again = await importFile(pipeline, { path: fixture('webhook-export.jsonl'), sourceId: source.id });
    expect(again).toMatchObject({ stored: 0, duplicates: 2, invalid: 2 });
    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    expect(new Set(rows.map((r) => r.ticketId)).size).toBe(1);
    await pipeline.stop();
  });

  it('follows reply links to the first post and reads float-formatted ids', () => {
    const parents = new Map([
      ['3', '2'],
      ['2', '1'],
      ['9', '9'],
    ]);
    expect(conversationRoot('3', parents)).toBe('1');
    expect(conversationRoot('9', parents)).toBe('9');
    expect(normalizeId(' 119237.0 ')).toBe('119237');
  });
});
