import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { streamRules } from '../../src/db/schema/index.js';
import { isAppError } from '../../src/errors.js';
import { addStreamRule, listStreamRules, ownedRuleIds, removeStreamRule } from '../../src/ingest/x/rules.js';
import { createSource } from '../../src/sources/sources.js';
import type { Source } from '../../src/tickets/types.js';
import { FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';
import { xClients } from './helpers.js';

const lead = userActor('ULEAD', 'lead');

describeEachDatabase('X monitoring rules', (handle) => {
  let x: FakeXServer;
  let source: Source;
  let count = 0;

  beforeAll(async () => {
    x = new FakeXServer();
    await x.start();
  });
  afterAll(async () => {
    await x.close();
  });
  beforeEach(async () => {
    count += 1;
    source = await createSource(
      handle().db,
      { kind: 'system', name: 'test' },
      { name: `rules-${count}`, kind: 'x' },
      null,
    );
    x.rules.clear();
    x.streamAccess = true;
  });

  const ruleCalls = () => x.requests.filter((r) => r.path.startsWith('/2/tweets/search/stream')).length;

  it('in polling mode keeps rules in Postgres only, checked by a search dry run, on a tier without the stream', async () => {
    const { db } = handle();
    const client = xClients(x.url).app;
    x.streamAccess = false;
    const before = ruleCalls();
    const { rule, outcome } = await addStreamRule(db, client, lead, {
      sourceId: source.id,
      value: '"acme app" -is:retweet',
      tag: 'app',
      mode: 'poll',
    });
    expect(outcome).toBe('added');
    expect(rule).toMatchObject({ value: '"acme app" -is:retweet', tag: 'app', externalId: null });
    const check = x.requests.findLast((r) => r.path === '/2/tweets/search/recent');
    expect(check?.query.query).toBe('"acme app" -is:retweet');

    const refused = await addStreamRule(db, client, lead, {
      sourceId: source.id,
      value: 'refund nosuch:op',
      mode: 'poll',
    }).catch((e: unknown) => e);
    expect(isAppError(refused, 'invalid_input')).toBe(true);
    expect((refused as Error).message).toContain("invalid operator 'nosuch'");

    await removeStreamRule(db, client, lead, { sourceId: source.id, id: rule.id, mode: 'poll' });
    expect(await listStreamRules(db, source.id)).toEqual([]);
    expect(ruleCalls()).toBe(before);
  });

  it('in stream mode on a tier without the stream says to switch to polling, and keeps nothing', async () => {
    const { db } = handle();
    x.streamAccess = false;
    const refused = await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'acme' }).catch(
      (e: unknown) => e,
    );
    expect(isAppError(refused, 'invalid_input')).toBe(true);
    expect((refused as Error).message).toContain('X_INGEST_MODE=poll');
    expect(await listStreamRules(db, source.id)).toEqual([]);
  });

  it('keeps one row when the same rule is added twice at once, and a second add with a new tag retags it on X', async () => {
    const { db } = handle();
    const client = xClients(x.url).app;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => addStreamRule(db, client, lead, { sourceId: source.id, value: 'acme outage' })),
    );
    expect(new Set(results.map((r) => r.rule.id)).size).toBe(1);
    const rows = await db.select().from(streamRules).where(eq(streamRules.sourceId, source.id));
    expect(rows).toHaveLength(1);
    expect([...x.rules.values()]).toHaveLength(1);

    const retagged = await addStreamRule(db, client, lead, { sourceId: source.id, value: 'acme outage', tag: 'p1' });
    expect(retagged.outcome).toBe('retagged');
    expect([...x.rules.values()]).toEqual([{ id: retagged.rule.externalId, value: 'acme outage', tag: 'p1' }]);
    expect(await ownedRuleIds(db, source.id)).toEqual(new Set([retagged.rule.externalId]));
    const again = await addStreamRule(db, client, lead, { sourceId: source.id, value: 'acme outage', tag: 'p1' });
    expect(again.outcome).toBe('unchanged');
    expect(await db.select().from(streamRules).where(eq(streamRules.sourceId, source.id))).toHaveLength(1);
  });

  it('leaves a rule another deployment made on X when removing its twin here', async () => {
    const { db } = handle();
    // The other deployment added `shared` first; adding it here gets X's DuplicateRule and its id.
    x.rules.set('777', { id: '777', value: 'shared', tag: 'theirs' });
    const { rule } = await addStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, value: 'shared' });
    expect(rule.externalId).toBe('777');
    expect(await ownedRuleIds(db, source.id)).toEqual(new Set());
    await removeStreamRule(db, xClients(x.url).app, lead, { sourceId: source.id, id: rule.id });
    expect(x.rules.get('777')).toMatchObject({ value: 'shared' });
  });
});
