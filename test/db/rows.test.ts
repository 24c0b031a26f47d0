import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { rowsOf } from '../../src/db/database.js';
import { insertInto, insertJsonRows, jsonText, rowOf } from '../../src/db/rows.js';
import { authors, items, tickets } from '../../src/db/schema/index.js';
import { storeItem } from '../../src/ingest/store-item.js';
import { describeEachDatabase } from '../helpers/database.js';
import { seedSource } from '../helpers/fixtures.js';

describeEachDatabase('raw inserts with drizzle’s column encoding', (handle) => {
  it('stores and reads back what the query builder would (timestamps, JSON, arrays, SQL values)', async () => {
    const { db } = handle();
    const source = await seedSource(db);
    const [author] = rowsOf<Record<string, unknown>>(
      await db.execute(
        sql`${insertInto(authors, { sourceId: source.id, externalId: 'rows-1', handle: null })} returning *`,
      ),
    );
    const authorRow = rowOf(authors, author!);
    const createdAt = new Date('2026-11-20T10:00:00.123Z');
    const [item] = rowsOf<Record<string, unknown>>(
      await db.execute(
        sql`${insertInto(items, {
          sourceId: source.id,
          externalId: 'rows-item',
          authorId: sql`(select id from authors where external_id = ${'rows-1'})`,
          text: 'it\'s "quoted", {braced}',
          raw: { nested: { list: [1, 'two'] } },
          tags: ['a b', 'c,"d"', '{e}'],
          createdAt,
        })} returning *`,
      ),
    );
    const [ticket] = rowsOf<Record<string, unknown>>(
      await db.execute(
        sql`${insertInto(tickets, {
          sourceId: source.id,
          authorId: authorRow.id,
          priority: 'P2',
          priorityReasons: ['vip'],
          sentimentScore: -0.5,
          topics: [],
          channel: 'support',
          lastCustomerMessageAt: createdAt,
        })} returning *`,
      ),
    );
    // Each row as returned equals the row as drizzle's own select reads it.
    expect(authorRow).toEqual((await db.select().from(authors).where(eq(authors.id, authorRow.id)))[0]);
    const itemRow = rowOf(items, item!);
    expect(itemRow).toEqual((await db.select().from(items).where(eq(items.id, itemRow.id)))[0]);
    expect(itemRow).toMatchObject({
      authorId: authorRow.id,
      raw: { nested: { list: [1, 'two'] } },
      tags: ['a b', 'c,"d"', '{e}'],
      createdAt,
      processedAt: null,
    });
    const ticketRow = rowOf(tickets, ticket!);
    expect(ticketRow).toEqual((await db.select().from(tickets).where(eq(tickets.id, ticketRow.id)))[0]);
    expect(ticketRow).toMatchObject({
      status: 'new',
      version: 1,
      priorityReasons: ['vip'],
      topics: [],
      sentimentScore: -0.5,
    });
  });

  it('decodes rows read back as JSON (row_to_json) exactly as drizzle’s select does', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'rows-json');
    const inbound = {
      sourceId: source.id,
      externalId: 'rows-json-1',
      author: { externalId: 'rows-json-author', handle: 'dana', followerCount: 12, verified: true },
      text: 'hello',
      createdAt: new Date('2026-11-20T10:00:00.123Z'),
      raw: { id: 'rows-json-1', nested: [1, { b: null }] },
      tags: ['x y', '"q"'],
    };
    const stored = await storeItem(db, inbound, { maxTextLength: 100 });
    expect(stored.duplicate).toBe(false);
    expect(stored.item).toEqual((await db.select().from(items).where(eq(items.id, stored.item.id)))[0]);
    expect(stored.author).toEqual((await db.select().from(authors).where(eq(authors.id, stored.author.id)))[0]);
    expect(stored.item).toMatchObject({ tags: ['x y', '"q"'], raw: inbound.raw, createdAt: inbound.createdAt });
    // A second delivery is answered as the stored item.
    const again = await storeItem(db, inbound, { maxTextLength: 100 });
    expect(again).toMatchObject({ duplicate: true, item: { id: stored.item.id } });
  });

  it('inserts many rows from one JSON value as drizzle’s builder would, ids drawn beforehand included', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'rows-many');
    const [author] = await db.insert(authors).values({ sourceId: source.id, externalId: 'rows-many-a' }).returning();
    const [drawn] = rowsOf<{ id: number }>(
      await db.execute(sql`select nextval(pg_get_serial_sequence('tickets', 'id'))::int as id`),
    );
    const at = new Date('2026-11-20T10:00:00.123Z');
    const rows = [
      {
        id: drawn!.id,
        sourceId: source.id,
        authorId: author!.id,
        priority: 'P1' as const,
        priorityReasons: ['refund', 'angry "customer"'],
        topics: ['order, late', '{braces}'],
        triage: { nested: { list: [1, 'two', null] } },
        channel: 'support',
        lastCustomerMessageAt: at,
      },
      {
        id: drawn!.id + 1_000,
        sourceId: source.id,
        authorId: author!.id,
        priority: 'P4' as const,
        priorityReasons: [],
        topics: [],
        triage: {},
        channel: 'support',
        lastCustomerMessageAt: at,
      },
    ];
    const inserted = rowsOf<Record<string, unknown>>(
      await db.execute(sql`${insertJsonRows(tickets, rows, { overridingSystemValue: true })} returning *`),
    ).map((row) => rowOf(tickets, row));
    expect(inserted.map((t) => t.id).sort((a, b) => a - b)).toEqual([drawn!.id, drawn!.id + 1_000]);
    for (const ticket of inserted) {
      expect(ticket).toEqual((await db.select().from(tickets).where(eq(tickets.id, ticket.id)))[0]);
    }
    expect(inserted.find((t) => t.id === drawn!.id)).toMatchObject({
      status: 'new',
      priorityReasons: ['refund', 'angry "customer"'],
      topics: ['order, late', '{braces}'],
      triage: { nested: { list: [1, 'two', null] } },
      lastCustomerMessageAt: at,
    });
    // Rows must agree on their columns: a row that sets fewer is refused before anything is sent.
    expect(() => insertJsonRows(tickets, [rows[0]!, { ...rows[1]!, topics: undefined }])).toThrow(/same columns/);
  });

  it('writes JSON PostgreSQL accepts when a string or key holds a lone surrogate or a NUL', async () => {
    const { db } = handle();
    const text = jsonText({ ok: 'café 😀', broken: 'a\ud800b', nul: 'c\u0000d', 'key\udfff': [1] });
    expect(JSON.parse(text)).toEqual({ ok: 'café 😀', broken: 'a\ufffdb', nul: 'c\ufffdd', 'key\ufffd': [1] });
    const [row] = rowsOf<{ value: Record<string, unknown> }>(await db.execute(sql`select ${text}::jsonb as value`));
    expect(row?.value).toEqual({ ok: 'café 😀', broken: 'a\ufffdb', nul: 'c\ufffdd', 'key\ufffd': [1] });
    // Well-formed input takes the fast path and comes out as JSON.stringify writes it.
    expect(jsonText({ ok: 'café 😀' })).toBe(JSON.stringify({ ok: 'café 😀' }));
  });
});
