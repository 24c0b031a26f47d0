import { eq, inArray, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { authors, items, sources } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import { type ReceivedItem, type StoreOutcome, storeItem, storeItems } from '../../src/ingest/store-item.js';
import { createSource, rotateWebhookSecret } from '../../src/sources/sources.js';
import type { Actor } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';

const LIMITS = { maxTextLength: 2_000 };
const ADMIN: Actor = { kind: 'system', name: 'test' };

/** The outcome as a stored item; fails the test when the request was refused. */
function received(outcome: StoreOutcome | undefined): ReceivedItem {
  if (!outcome || 'refused' in outcome) throw new Error(`expected a stored item, got ${JSON.stringify(outcome)}`);
  return outcome;
}

async function itemsOf(db: Database, sourceId: number) {
  return db.select().from(items).where(eq(items.sourceId, sourceId)).orderBy(items.id);
}

async function authorsOf(db: Database, sourceId: number) {
  return db.select().from(authors).where(eq(authors.sourceId, sourceId)).orderBy(authors.id);
}

describeEachDatabase('storing inbound items (storeItems)', (handle) => {
  it('stores several new items in one call, answering rows equal to drizzle’s own select of them', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-many');
    const createdAt = new Date('2026-11-20T10:00:00.123Z');
    const requests = [
      inboundFixture(source.id, {
        author: { externalId: 'many-1', handle: 'one', displayName: 'One', followerCount: 3, verified: true },
        text: '  first\r\npost \u0007',
        url: 'https://example.com/1',
        conversationId: 'conv-many',
        raw: { id: 1, nested: { list: [1, 'two', null] } },
        tags: ['rule a', 'rule a', '"quoted"'],
        language: 'en',
        createdAt,
      }),
      inboundFixture(source.id, {
        author: { externalId: 'many-2' },
        parentExternalId: 'parent-post',
        archived: true,
        createdAt,
      }),
      inboundFixture(source.id, { author: { externalId: 'many-3', handle: 'three', language: 'de' } }),
    ].map((inbound) => ({ inbound }));
    const outcomes = (await storeItems(db, requests, LIMITS)).map(received);

    expect(outcomes.map((o) => o.duplicate)).toEqual([false, false, false]);
    expect(outcomes.map((o) => o.previousContacts)).toEqual([0, 0, 0]);
    expect(outcomes.map((o) => o.item.externalId)).toEqual(requests.map((r) => r.inbound.externalId));
    const storedItems = await itemsOf(db, source.id);
    expect(outcomes.map((o) => o.item)).toEqual(storedItems);
    expect(outcomes.map((o) => o.author)).toEqual(await authorsOf(db, source.id));
    expect(outcomes[0]).toMatchObject({
      item: {
        text: 'first\npost',
        url: 'https://example.com/1',
        conversationId: 'conv-many',
        raw: { id: 1, nested: { list: [1, 'two', null] } },
        tags: ['rule a', '"quoted"'],
        language: 'en',
        archived: false,
        createdAt,
        processedAt: null,
        ticketId: null,
      },
      author: { externalId: 'many-1', handle: 'one', displayName: 'One', followerCount: 3, verified: true },
    });
    expect(outcomes[1]).toMatchObject({
      item: { parentExternalId: 'parent-post', archived: true, raw: null, tags: [] },
      // A new author the source says nothing of starts with no followers and unverified.
      author: { externalId: 'many-2', followerCount: 0, verified: false, vip: false },
    });
    expect(outcomes[2]?.author).toMatchObject({ handle: 'three', language: 'de' });
    expect(outcomes.every((o, i) => o.item.authorId === outcomes[i]?.author.id)).toBe(true);
  });

  it('stores the same post given twice in one call once, answering the later copy as a duplicate of it', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-twice');
    const post = inboundFixture(source.id, { author: { externalId: 'twice-post' } });
    const other = inboundFixture(source.id, { author: { externalId: 'twice-other' } });
    const outcomes = (
      await storeItems(db, [{ inbound: post }, { inbound: other }, { inbound: { ...post, text: 'a resend' } }], LIMITS)
    ).map(received);
    expect(outcomes.map((o) => o.duplicate)).toEqual([false, false, true]);
    expect(outcomes[2]?.item.id).toBe(outcomes[0]?.item.id);
    expect(outcomes[2]?.item).toEqual(outcomes[0]?.item);
    // The first copy is the one stored.
    expect(outcomes[0]?.item.text).toBe(post.text);
    const stored = await itemsOf(db, source.id);
    expect(stored.map((i) => i.externalId)).toEqual([post.externalId, other.externalId]);
  });

  it('keeps one author row for an author given twice in one call, with the latest facts given', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-author');
    const earlier = inboundFixture(source.id, {
      author: { externalId: 'same', handle: 'old', displayName: 'Old', followerCount: 5, verified: false },
    });
    const later = inboundFixture(source.id, {
      author: {
        externalId: 'same',
        handle: 'new',
        displayName: 'New',
        followerCount: 9,
        verified: true,
        language: 'fr',
      },
    });
    const outcomes = (await storeItems(db, [{ inbound: earlier }, { inbound: later }], LIMITS)).map(received);
    const rows = await authorsOf(db, source.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      handle: 'new',
      displayName: 'New',
      followerCount: 9,
      verified: true,
      language: 'fr',
    });
    expect(outcomes.map((o) => o.author)).toEqual([rows[0], rows[0]]);
    expect(outcomes.map((o) => o.item.authorId)).toEqual([rows[0]?.id, rows[0]?.id]);

    // A source that says nothing of followers, verification, handle or name keeps what is stored.
    const silent = received(
      (await storeItems(db, [{ inbound: inboundFixture(source.id, { author: { externalId: 'same' } }) }], LIMITS))[0],
    );
    expect(silent.author).toMatchObject({ id: rows[0]?.id, handle: 'new', displayName: 'New', followerCount: 9 });
    expect(silent.author.verified).toBe(true);
    expect(await authorsOf(db, source.id)).toEqual([silent.author]);
  });

  it('answers an author given twice in one call as two calls one after the other would (facts the later copy omits)', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-author-omits');
    const told = { externalId: 'omits', handle: 'told', followerCount: 50, verified: true };
    const inOneCall = (
      await storeItems(
        db,
        [
          { inbound: inboundFixture(source.id, { author: told }) },
          { inbound: inboundFixture(source.id, { author: { externalId: 'omits' } }) },
        ],
        LIMITS,
      )
    ).map(received);
    const oneAfterOther = await seedSource(db, 'store-author-omits-2');
    await storeItem(db, inboundFixture(oneAfterOther.id, { author: told }), LIMITS);
    const second = await storeItem(db, inboundFixture(oneAfterOther.id, { author: { externalId: 'omits' } }), LIMITS);
    expect(second.author).toMatchObject({ handle: 'told', followerCount: 50, verified: true });
    // Receipts coalesced into one statement must not lose what the earlier one said.
    expect(inOneCall[1]?.author).toMatchObject({ handle: 'told', followerCount: 50, verified: true });
  });

  it('answers a repeat of a stored post with the stored item and author, never touching the author row', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-repeat');
    const post = inboundFixture(source.id, { author: { externalId: 'repeat', handle: 'dana', followerCount: 7 } });
    const first = await storeItem(db, post, LIMITS);
    // Erased since (`/earshot forget`): the resend still names them, and must not bring that back.
    await db
      .update(authors)
      .set({ handle: null, displayName: null, updatedAt: new Date('2026-01-01T00:00:00Z') })
      .where(eq(authors.id, first.author.id));
    const [erased] = await db.select().from(authors).where(eq(authors.id, first.author.id));
    const [again] = await storeItems(
      db,
      [
        {
          inbound: {
            ...post,
            author: { externalId: 'repeat', handle: 'dana', displayName: 'Dana', followerCount: 99 },
          },
        },
      ],
      LIMITS,
    );
    expect(again).toEqual({ item: first.item, author: erased, duplicate: true, previousContacts: 0 });
    expect(await authorsOf(db, source.id)).toEqual([erased]);
    expect(await itemsOf(db, source.id)).toEqual([first.item]);
  });

  it('refuses, and writes nothing for, a request whose confirmed source changed, storing the others of the call', async () => {
    const { db } = handle();
    const rotated = await createSource(db, ADMIN, { name: 'confirm-rotated', kind: 'webhook' }, null);
    const disabled = await createSource(db, ADMIN, { name: 'confirm-disabled', kind: 'webhook' }, null);
    const touched = await createSource(db, ADMIN, { name: 'confirm-touched', kind: 'webhook' }, null);
    const unchanged = await createSource(db, ADMIN, { name: 'confirm-unchanged', kind: 'webhook' }, null);
    // Each source as a cache read it, then changed behind the cache.
    await rotateWebhookSecret(db, ADMIN, rotated.name, null);
    await db.update(sources).set({ enabled: false }).where(eq(sources.id, disabled.id));
    await db
      .update(sources)
      .set({ updatedAt: new Date(touched.updatedAt.getTime() + 1_000) })
      .where(eq(sources.id, touched.id));

    const post = (sourceId: number, author: string) => inboundFixture(sourceId, { author: { externalId: author } });
    const requests = [
      { inbound: post(rotated.id, 'c-rotated'), confirm: rotated },
      { inbound: post(unchanged.id, 'c-unchanged'), confirm: unchanged },
      { inbound: post(disabled.id, 'c-disabled'), confirm: disabled },
      { inbound: post(rotated.id, 'c-unconfirmed') },
      { inbound: post(touched.id, 'c-touched'), confirm: touched },
    ];
    const outcomes = await storeItems(db, requests, LIMITS);
    expect(outcomes.map((o) => ('refused' in o ? 'refused' : 'stored'))).toEqual([
      'refused',
      'stored',
      'refused',
      'stored',
      'refused',
    ]);
    expect(outcomes[0]).toEqual({ refused: true });
    const stored = await db
      .select({ externalId: items.externalId })
      .from(items)
      .where(inArray(items.sourceId, [rotated.id, disabled.id, touched.id, unchanged.id]));
    expect(stored.map((i) => i.externalId).sort()).toEqual(
      [requests[1]!.inbound.externalId, requests[3]!.inbound.externalId].sort(),
    );
    const written = await db
      .select({ externalId: authors.externalId })
      .from(authors)
      .where(inArray(authors.externalId, ['c-rotated', 'c-disabled', 'c-touched', 'c-unchanged', 'c-unconfirmed']));
    expect(written.map((a) => a.externalId).sort()).toEqual(['c-unchanged', 'c-unconfirmed']);

    // Confirmed against the row as it is now, the same request is stored.
    const [current] = await db.select().from(sources).where(eq(sources.id, rotated.id));
    const retried = received((await storeItems(db, [{ inbound: requests[0]!.inbound, confirm: current! }], LIMITS))[0]);
    expect(retried.duplicate).toBe(false);
  });

  it('answers, for a new item, how many tickets its author has had', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-contacts');
    const regular = { externalId: 'regular' };
    // Two tickets of their own (no grouping window, no shared conversation).
    await ingestFixture(db, inboundFixture(source.id, { author: regular }), undefined, 0);
    await ingestFixture(db, inboundFixture(source.id, { author: regular }), undefined, 0);
    const repeat = inboundFixture(source.id, { author: regular });
    await storeItem(db, repeat, LIMITS);
    const outcomes = (
      await storeItems(
        db,
        [
          { inbound: inboundFixture(source.id, { author: regular }) },
          { inbound: inboundFixture(source.id, { author: { externalId: 'newcomer' } }) },
          { inbound: repeat },
        ],
        LIMITS,
      )
    ).map(received);
    expect(outcomes.map((o) => o.previousContacts)).toEqual([2, 0, 0]);
    expect(outcomes[2]?.duplicate).toBe(true);
  });

  it('stores a lone UTF-16 surrogate in text, handle or raw as U+FFFD rather than failing', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-surrogate');
    const outcomes = (
      await storeItems(
        db,
        [
          {
            inbound: inboundFixture(source.id, {
              author: { externalId: 'surrogate', handle: 'x\uDC00', displayName: '\uD800name' },
              text: 'broken \uD83D emoji, whole 😀',
              raw: { note: 'tail\uD800', list: ['\uDFFF'], fine: '😀' },
            }),
          },
          { inbound: inboundFixture(source.id, { author: { externalId: 'surrogate-neighbour' } }) },
        ],
        LIMITS,
      )
    ).map(received);
    expect(outcomes[0]).toMatchObject({
      item: { text: 'broken \uFFFD emoji, whole 😀', raw: { note: 'tail\uFFFD', list: ['\uFFFD'], fine: '😀' } },
      author: { handle: 'x\uFFFD', displayName: '\uFFFDname' },
    });
    expect(outcomes.map((o) => o.item)).toEqual(await itemsOf(db, source.id));
    expect(outcomes.map((o) => o.author)).toEqual(await authorsOf(db, source.id));
  });

  it('stores a lone surrogate in a key of raw (a JSON body can carry one) as U+FFFD rather than failing', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-surrogate-key');
    const raw = JSON.parse('{"id": 1, "bad\\ud800key": {"inner\\udfff": true}}') as unknown;
    const stored = await storeItem(
      db,
      inboundFixture(source.id, { author: { externalId: 'surrogate-key' }, raw }),
      LIMITS,
    );
    expect(stored.item.raw).toEqual({ id: 1, 'bad\uFFFDkey': { 'inner\uFFFD': true } });
  });

  it('runs two calls at once that share authors in opposite orders without a deadlock', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-two-at-once');
    const names = Array.from({ length: 12 }, (_, i) => `shared-${i}`);
    for (let round = 0; round < 10; round += 1) {
      // The second round on finds every author stored, so the upserts update rows the other call also locks.
      const call = (order: string[], side: string) =>
        storeItems(
          db,
          order.map((name) => ({
            inbound: inboundFixture(source.id, {
              externalId: `${side}-${round}-${name}`,
              author: { externalId: name, followerCount: round },
            }),
          })),
          LIMITS,
        );
      const [left, right] = await Promise.all([call(names, 'left'), call([...names].reverse(), 'right')]);
      expect([...left, ...right].map((o) => received(o).duplicate)).toEqual(new Array(24).fill(false));
    }
    expect(await authorsOf(db, source.id)).toHaveLength(names.length);
    expect(await itemsOf(db, source.id)).toHaveLength(10 * 2 * names.length);
  });

  it('throws the coded error for bad input before anything of the call is written', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'store-bad');
    const good = { inbound: inboundFixture(source.id, { author: { externalId: 'bad-good' }, text: 'short' }) };
    const empty = { inbound: inboundFixture(source.id, { author: { externalId: 'bad-empty' }, text: ' \u0007\r\n ' }) };
    const long = { inbound: inboundFixture(source.id, { author: { externalId: 'bad-long' }, text: 'x'.repeat(11) }) };
    const noId = { inbound: inboundFixture(source.id, { author: { externalId: 'bad-id' }, externalId: '  ' }) };

    const caught = async (promise: Promise<unknown>) =>
      promise.then(
        () => null,
        (err: unknown) => err,
      );
    const emptyErr = await caught(storeItems(db, [good, empty], LIMITS));
    expect(isAppError(emptyErr, 'invalid_input')).toBe(true);
    expect(emptyErr).toMatchObject({ details: { field: 'text' } });
    const longErr = await caught(storeItems(db, [good, long], { maxTextLength: 10 }));
    expect(isAppError(longErr, 'payload_too_large')).toBe(true);
    expect(longErr).toMatchObject({ details: { field: 'text', length: 11, limit: 10 } });
    expect(isAppError(await caught(storeItems(db, [good, noId], LIMITS)), 'invalid_input')).toBe(true);
    expect(isAppError(await caught(storeItem(db, empty.inbound, LIMITS)), 'invalid_input')).toBe(true);

    expect(await itemsOf(db, source.id)).toEqual([]);
    expect(await authorsOf(db, source.id)).toEqual([]);
    const [{ count } = { count: -1 }] = await db
      .select({ count: sql<number>`count(*)::int` })
      .from(authors)
      .where(inArray(authors.externalId, ['bad-good', 'bad-empty', 'bad-long', 'bad-id']));
    expect(count).toBe(0);
  });
});
