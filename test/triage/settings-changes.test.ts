import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import type { AppContext, EarshotModule } from '../../src/module.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import { triageModule } from '../../src/triage/module.js';
import { DEFAULT_PRIORITY_WEIGHTS } from '../../src/triage/priority.js';
import { savePriorityWeight } from '../../src/triage/priority-settings.js';
import { addRoutingRule, removeRoutingRule } from '../../src/triage/routing-rules.js';
import { createTriage, SETTINGS_TTL_MS, type TriageService } from '../../src/triage/triage-service.js';
import { describeEachDatabase, hasRealPostgres, openTestDatabase } from '../helpers/database.js';
import { waitUntil } from '../observability/helpers.js';
import { createPostgresDatabase, logSink } from '../slack/harness.js';

const PRAISE = 'Thank you, the new app is brilliant!';
/** Well inside the caches' TTL: a replica that sees a change this soon heard of it. */
const HEARD_WITHIN_MS = SETTINGS_TTL_MS / 3;
const KINDS = hasRealPostgres ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

if (!hasRealPostgres) {
  describe.skip('rule and settings changes reach every replica [postgres: set TEST_DATABASE_URL to run]', () => {
    it('runs against real PostgreSQL', () => {});
  });
}

interface Replica {
  database: DatabaseHandle;
  triage: TriageService;
  module: EarshotModule;
}

/** The triage module as the app builds and starts it, on its own connection pool. */
async function startReplica(database: DatabaseHandle, name: string): Promise<Replica> {
  const context: AppContext = {
    config: loadConfig({ EARSHOT_FEEDBACK_CHANNEL: 'feedback' }),
    logger: logSink('silent').logger,
    database,
    db: database.db,
    instanceId: name,
    baseUrl: () => 'http://127.0.0.1:0',
    services: new Map(),
    sandbox: null,
  };
  const module = (await triageModule(context))!;
  await module.start?.();
  return { database, triage: context.services.get('triage') as TriageService, module };
}

describe.each(KINDS)('rule and settings changes reach every replica at once [%s]', (kind) => {
  const handles: DatabaseHandle[] = [];
  let a: Replica;
  let b: Replica;
  let drop = async () => {};
  let databaseName = '';

  beforeAll(async () => {
    if (kind === 'pglite') {
      // One process owns a PGlite database: both replicas share it, each with its own caches.
      handles.push(await openTestDatabase('pglite'));
    } else {
      const created = await createPostgresDatabase();
      drop = created.drop;
      databaseName = new URL(created.url).pathname.slice(1);
      for (let i = 0; i < 2; i++) {
        handles.push(await openDatabase({ url: created.url, dataDir: 'unused', migrationsFolder: MIGRATIONS_FOLDER }));
      }
      await handles[0]!.migrate();
    }
    a = await startReplica(handles[0]!, 'replica-a');
    b = await startReplica(handles.at(-1)!, 'replica-b');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a, b].map((r) => r?.module.stop?.()));
    await Promise.all(handles.map((h) => h.close()));
    await drop();
  });

  const channelOn = async (r: Replica) => (await r.triage.assess(PRAISE)).channel;

  it('a rule added and removed through one replica routes the next item on the other', async () => {
    expect(await channelOn(b)).toBe('feedback');
    const rule = await addRoutingRule(a.database.db, {
      name: 'praise',
      conditions: { category: ['praise'] },
      channel: 'kudos',
      createdBy: 'U1',
    });
    await waitUntil(
      async () => (await channelOn(b)) === 'kudos',
      'replica b to route by the new rule',
      HEARD_WITHIN_MS,
    );
    await removeRoutingRule(a.database.db, { id: rule.id });
    await waitUntil(async () => (await channelOn(b)) === 'feedback', 'replica b to drop the rule', HEARD_WITHIN_MS);
  });

  it('a priority weight changed through one replica prices the next item on the other', async () => {
    const before = await b.triage.assess(PRAISE);
    await savePriorityWeight(a.database.db, { name: 'category.praise', value: 77, updatedBy: 'U1' });
    // The category's points are replaced: the default's go, the new 77 come.
    const expected = before.priorityScore - DEFAULT_PRIORITY_WEIGHTS.category.praise + 77;
    await waitUntil(
      async () => (await b.triage.assess(PRAISE)).priorityScore === expected,
      'replica b to score by the new weight',
      HEARD_WITHIN_MS,
    );
  });

  it.runIf(kind === 'postgres')(
    'after its listening connection drops, a replica listens again and forgets what it may have missed',
    async () => {
      const admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      const listeners = async () =>
        (
          await admin`select pid from pg_stat_activity
            where datname = ${databaseName} and query ilike 'listen%'`
        ).map((r) => r.pid as number);
      try {
        await waitUntil(async () => (await listeners()).length === 2, 'both replicas to listen');
        const killed = await listeners();
        // A change nobody hears of, as one made while the connection was down would be.
        await b.database.db.execute('alter table routing_rules disable trigger routing_rules_notify_change');
        await addRoutingRule(a.database.db, {
          name: 'unheard',
          conditions: { category: ['praise'] },
          channel: 'unheard',
          createdBy: 'U1',
        });
        await b.database.db.execute('alter table routing_rules enable trigger routing_rules_notify_change');
        expect(await channelOn(b)).toBe('feedback');

        await admin`select pg_terminate_backend(pid) from unnest(${killed}::int[]) as pid`;
        await waitUntil(async () => {
          const now = await listeners();
          return now.length === 2 && now.every((pid) => !killed.includes(pid));
        }, 'both replicas to listen again');
        // Listening again drops the caches (the new connection shows in pg_stat_activity just before).
        await waitUntil(async () => (await channelOn(b)) === 'unheard', 'replica b to reread', HEARD_WITHIN_MS);
      } finally {
        await admin.end();
      }
    },
    30_000,
  );
});

describeEachDatabase(
  'what a change notification drops',
  (handle) => {
    it('drops the rules on `routing_rules`, the weights on their own key, and nothing on another key', async () => {
      // Not listening: only `settingsChanged` invalidates within the TTL.
      const triage = createTriage({
        config: loadConfig({ EARSHOT_FEEDBACK_CHANNEL: 'feedback' }),
        logger: logSink('silent').logger,
        db: handle().db,
        model: loadEmbeddedModel(),
        now: () => 0,
      });
      const first = await triage.assess(PRAISE);
      await addRoutingRule(handle().db, {
        name: 'p',
        conditions: { category: ['praise'] },
        channel: 'kudos',
        createdBy: 'U1',
      });
      await savePriorityWeight(handle().db, { name: 'category.praise', value: 90, updatedBy: 'U1' });

      triage.settingsChanged('settings:x.oauth2.user-token');
      expect(await triage.assess(PRAISE)).toMatchObject({ channel: 'feedback', priorityScore: first.priorityScore });
      triage.settingsChanged('routing_rules');
      expect(await triage.assess(PRAISE)).toMatchObject({ channel: 'kudos', priorityScore: first.priorityScore });
      triage.settingsChanged('settings:triage.priority_weights');
      expect((await triage.assess(PRAISE)).priorityScore).toBe(
        first.priorityScore - DEFAULT_PRIORITY_WEIGHTS.category.praise + 90,
      );
    });
  },
  ['pglite'],
);
