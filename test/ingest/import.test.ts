import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { rowsOf } from '../../src/db/database.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { items, outbox, ticketEvents, tickets } from '../../src/db/schema/index.js';
import { conversationRoot, importFile, importRefusal, isHistory, normalizeId } from '../../src/ingest/import.js';
import { createSource } from '../../src/sources/sources.js';
import { describeEachDatabase } from '../helpers/database.js';
import { testPipeline } from './helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describeEachDatabase('import', (handle) => {
  it('imports the inbound rows of a support-tweets CSV into threaded tickets, and a second run adds nothing', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'twcs', kind: 'x' }, null);
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
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'legacy', kind: 'webhook' }, null);
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

  it('imports history as closed tickets without cards or SLA clocks; recent unanswered posts and --live stay live', async () => {
    const { db } = handle();
    const source = await createSource(db, { kind: 'system', name: 'test' }, { name: 'history', kind: 'x' }, null);
    const now = new Date();
    const recent = new Date(now.getTime() - 3_600_000).toISOString();
    const file = join(mkdtempSync(join(tmpdir(), 'earshot-import-')), 'mixed.csv');
    writeFileSync(
      file,
      [
        'tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id',
        `101,c1,True,${'Tue Oct 31 22:10:47 +0000 2017'},"old and unanswered",,`,
        `102,c2,True,${recent},"recent but already answered",103,`,
        `103,brand,False,${recent},"@c2 fixed it",,102`,
        `104,c3,True,${recent},"recent and still waiting",,`,
      ].join('\n'),
    );
    const pipeline = testPipeline(db);
    const summary = await importFile(pipeline, {
      path: file,
      sourceId: source.id,
      mode: { kind: 'archive', afterDays: 7, now },
    });
    await pipeline.idle();
    expect(summary).toMatchObject({ stored: 3, archived: 2, skipped: 1 });
    const rows = await db.select().from(items).where(eq(items.sourceId, source.id));
    const ticketOf = async (externalId: string) => {
      const item = rows.find((r) => r.externalId === externalId)!;
      return (await db.select().from(tickets).where(eq(tickets.id, item.ticketId!)))[0]!;
    };
    for (const id of ['101', '102']) {
      const ticket = await ticketOf(id);
      expect(ticket).toMatchObject({
        status: 'closed',
        firstResponseDueAt: null,
        resolutionDueAt: null,
        slackTs: null,
      });
      expect(ticket.createdAt.getTime()).toBe(rows.find((r) => r.externalId === id)!.createdAt.getTime());
      const events = await db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticket.id));
      expect(events.map((e) => e.type)).toEqual(['created']);
    }
    const live = await ticketOf('104');
    expect(live.status).toBe('new');
    expect(live.firstResponseDueAt).not.toBeNull();
    const archivedIds = [(await ticketOf('101')).id, (await ticketOf('102')).id];
    expect(await db.select().from(outbox).where(inArray(outbox.ticketId, archivedIds))).toEqual([]);
    expect(await db.select().from(outbox).where(eq(outbox.ticketId, live.id))).toHaveLength(1);

    // --live: the same history becomes live tickets (another source, so nothing is a repeat).
    const liveSource = await createSource(
      db,
      { kind: 'system', name: 'test' },
      { name: 'history-live', kind: 'x' },
      null,
    );
    const liveSummary = await importFile(pipeline, { path: file, sourceId: liveSource.id, mode: { kind: 'live' } });
    await pipeline.idle();
    expect(liveSummary).toMatchObject({ stored: 3, archived: 0 });
    const liveTickets = await db.select().from(tickets).where(eq(tickets.sourceId, liveSource.id));
    expect(liveTickets.map((t) => t.status)).toEqual(['new', 'new', 'new']);
    await pipeline.stop();
  });

  it('decides history by answer and age, and refuses importing into the live X source without --live', () => {
    const now = new Date('2026-05-01T00:00:00Z');
    const archive = { kind: 'archive' as const, afterDays: 7, now };
    expect(isHistory(archive, { createdAt: new Date('2026-04-30T00:00:00Z'), answered: false })).toBe(false);
    expect(isHistory(archive, { createdAt: new Date('2026-04-30T00:00:00Z'), answered: true })).toBe(true);
    expect(isHistory(archive, { createdAt: new Date('2026-04-20T00:00:00Z'), answered: false })).toBe(true);
    expect(isHistory({ kind: 'live' }, { createdAt: new Date('2020-01-01T00:00:00Z'), answered: true })).toBe(false);

    const ask = (over: Partial<Parameters<typeof importRefusal>[0]>) =>
      importRefusal({ sourceName: 'x', kind: 'x', existingKind: null, live: false, liveXSourceName: 'x', ...over });
    expect(ask({})).toContain('--live');
    expect(ask({ sourceName: 'X' })).toContain('--live');
    expect(ask({ live: true })).toBeNull();
    expect(ask({ sourceName: 'twcs-archive' })).toBeNull();
    // `--kind webhook` does not get around it when the name is the live X source.
    expect(ask({ kind: 'webhook', existingKind: 'x' })).toContain('--kind x');
    expect(ask({ kind: 'webhook', existingKind: null })).toBeNull();
  });

  it('the import command refuses --kind x into the live X source unless --live is given', async () => {
    const run = promisify(execFile);
    const result = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/import.ts', fixture('support-tweets.csv'), '--source', 'x', '--kind', 'x'],
      { env: { ...process.env, EARSHOT_DATA_DIR: 'memory://', DATABASE_URL: '' }, cwd: process.cwd() },
    ).catch((err: { code: number; stderr: string }) => err);
    expect((result as { code: number }).code).toBe(64);
    expect((result as { stderr: string }).stderr).toContain('live X source');
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

describe('import command', () => {
  it('the import command leaves the tables it filled analyzed, so the first reports plan on real row counts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'earshot-import-'));
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/import.ts', fixture('support-tweets.csv'), '--source', 'twcs', '--kind', 'x'],
      { env: { ...process.env, EARSHOT_DATA_DIR: dataDir, DATABASE_URL: '' }, cwd: process.cwd() },
    );
    const database = await openDatabase({ dataDir, migrationsFolder: MIGRATIONS_FOLDER });
    try {
      // PGlite never autovacuums: without the command's ANALYZE both estimates read -1 (never counted),
      // and the planner guesses from page counts.
      const estimates = rowsOf<{ relname: string; reltuples: number }>(
        await database.db.execute(
          sql`select relname, reltuples from pg_class where relname in ('items', 'tickets') order by relname`,
        ),
      );
      expect(estimates.map((row) => [row.relname, Number(row.reltuples)])).toEqual([
        ['items', 4],
        ['tickets', 2],
      ]);
    } finally {
      await database.close();
    }
  });
});
