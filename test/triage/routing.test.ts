import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { isAppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import { type RoutingInput, type RoutingRule, routeItem } from '../../src/triage/routing.js';
import {
  addRoutingRule,
  listRoutingRules,
  removeRoutingRule,
  reorderRoutingRules,
  setRoutingRuleEnabled,
} from '../../src/triage/routing-rules.js';
import { createTriage } from '../../src/triage/triage-service.js';

const input: RoutingInput = {
  triage: { category: 'complaint', sentiment: 'negative', language: 'en', topics: ['refund'], urgency: ['payment'] },
  priority: 'P2',
  source: { name: 'X mentions', kind: 'x' },
  tags: ['existing'],
  author: { handle: 'Alice', vip: false },
};

let nextId = 1;
function rule(conditions: Record<string, unknown>, channel: string, extra: Partial<RoutingRule> = {}): RoutingRule {
  const id = nextId++;
  return { id, position: id, name: channel, conditions, channel, addTags: [], notify: null, enabled: true, ...extra };
}

describe('routeItem', () => {
  it('falls to the default channel when no rule matches', () => {
    expect(routeItem([rule({ category: ['praise'] }, 'kudos')], input, 'feedback')).toEqual({
      channel: 'feedback',
      tags: ['existing'],
      notify: null,
      rule: null,
    });
  });

  it('takes the first matching rule in position order and adds its tags and notify', () => {
    const rules = [
      rule({ sentiment: ['negative'] }, 'second', { position: 2 }),
      rule({ topics: ['REFUND'], minPriority: 'P2' }, 'first', {
        position: 1,
        addTags: ['billing'],
        notify: 'S0BILLING',
      }),
    ];
    expect(routeItem(rules, input, 'feedback')).toMatchObject({
      channel: 'first',
      tags: ['existing', 'billing'],
      notify: 'S0BILLING',
    });
  });

  it.each([
    [{ category: ['complaint', 'bug_report'] }, true],
    [{ category: ['question'] }, false],
    [{ priority: ['P1'] }, false],
    [{ minPriority: 'P3' }, true],
    [{ minPriority: 'P1' }, false],
    [{ language: ['es', 'EN'] }, true],
    [{ source: ['x'] }, true],
    [{ source: ['x mentions'] }, true],
    [{ source: ['webhook'] }, false],
    [{ tags: ['existing'] }, true],
    [{ urgency: ['outage', 'payment'] }, true],
    [{ author: ['@alice'] }, true],
    [{ author: ['bob'] }, false],
    [{ vip: true }, false],
    [{ category: ['complaint'], sentiment: ['positive'] }, false],
    [{}, true],
  ])('conditions %j match: %s', (conditions, matches) => {
    expect(routeItem([rule(conditions, 'hit')], input, 'default').channel).toBe(matches ? 'hit' : 'default');
  });

  it('skips disabled rules and rules whose stored conditions no longer parse', () => {
    const rules = [
      rule({}, 'disabled', { position: 1, enabled: false }),
      rule({ colour: ['red'] }, 'broken', { position: 2 }),
      rule({ category: ['complaint'] }, 'ok', { position: 3 }),
    ];
    expect(routeItem(rules, input, 'default').channel).toBe('ok');
  });
});

describe('routing rules in the database, and assess end to end', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase({ dataDir: 'memory://', migrationsFolder: MIGRATIONS_FOLDER });
    await handle.migrate();
  });
  afterAll(async () => {
    await handle.close();
  });

  it('adds, lists, inserts at a position, reorders, disables and removes rules', async () => {
    const { db } = handle;
    const billing = await addRoutingRule(db, {
      name: 'billing',
      conditions: { urgency: ['payment'] },
      channel: 'billing-support',
      addTags: ['billing'],
      createdBy: 'U1',
    });
    const bugs = await addRoutingRule(db, {
      name: 'bugs',
      conditions: { category: ['bug_report'] },
      channel: 'eng-triage',
      createdBy: 'U1',
    });
    const vip = await addRoutingRule(db, {
      name: 'vip',
      conditions: { vip: true },
      channel: 'vip',
      notify: 'S0VIP',
      createdBy: 'U1',
      position: 1,
    });
    expect((await listRoutingRules(db)).map((r) => [r.name, r.position])).toEqual([
      ['vip', 1],
      ['billing', 2],
      ['bugs', 3],
    ]);

    await reorderRoutingRules(db, { ids: [bugs.id, billing.id, vip.id] });
    expect((await listRoutingRules(db)).map((r) => r.name)).toEqual(['bugs', 'billing', 'vip']);

    await setRoutingRuleEnabled(db, { id: bugs.id, enabled: false });
    await removeRoutingRule(db, { id: billing.id });
    const rules = await listRoutingRules(db);
    expect(rules.map((r) => [r.name, r.position, r.enabled])).toEqual([
      ['bugs', 1, false],
      ['vip', 2, true],
    ]);
  });

  it('rejects invalid conditions, unknown ids and incomplete orders with coded errors', async () => {
    const { db } = handle;
    await expect(
      addRoutingRule(db, { name: 'bad', conditions: { category: ['rant'] } as never, channel: 'x', createdBy: 'U1' }),
    ).rejects.toSatisfy((err) => isAppError(err, 'invalid_input'));
    await expect(removeRoutingRule(db, { id: 9999 })).rejects.toSatisfy((err) => isAppError(err, 'not_found'));
    await expect(reorderRoutingRules(db, { ids: [1] })).rejects.toSatisfy((err) => isAppError(err, 'invalid_input'));
  });

  it('triages, scores and routes a post into the channel its rule names', async () => {
    const { db } = handle;
    for (const r of await listRoutingRules(db)) await removeRoutingRule(db, { id: r.id });
    await addRoutingRule(db, {
      name: 'refunds',
      conditions: { urgency: ['payment'], sentiment: ['negative'] },
      channel: 'billing-support',
      addTags: ['refund'],
      notify: 'S0BILLING',
      createdBy: 'U1',
    });
    await addRoutingRule(db, {
      name: 'praise',
      conditions: { category: ['praise'] },
      channel: 'kudos',
      createdBy: 'U1',
    });

    const triage = createTriage({
      config: loadConfig({ EARSHOT_FEEDBACK_CHANNEL: 'feedback' }),
      logger: createLogger({ level: 'silent' }),
      db,
      model: loadEmbeddedModel(),
    });
    const angry = await triage.assess('Three weeks and STILL no refund. This is a scam, absolutely furious.', {
      author: { followerCount: 120_000, verified: false, vip: false, handle: 'loud' },
      source: { name: 'X mentions', kind: 'x' },
    });
    expect(angry).toMatchObject({ channel: 'billing-support', tags: ['refund'], notify: 'S0BILLING', priority: 'P1' });
    expect(angry.priorityReasons).toEqual(expect.arrayContaining(['refund', '120k followers']));

    const happy = await triage.assess('Thank you, the new app is brilliant!');
    expect(happy).toMatchObject({ channel: 'kudos', priority: 'P4' });

    const question = await triage.assess('How do I change my delivery address?');
    expect(question).toMatchObject({ channel: 'feedback', priority: 'P3', notify: null });
  });
});
