import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { createLogger } from '../../src/logger.js';
import { SEED } from '../../src/sandbox/index.js';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/slack/delivery/worker.js';
import { claimTicket } from '../../src/tickets/actions.js';
import { getTicket } from '../../src/tickets/queries.js';
import { hasRealPostgres } from '../helpers/database.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { BOT_TOKEN, createPostgresDatabase, type SlackHarness, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;

describe.skipIf(!hasRealPostgres)('three replicas working one outbox [postgres]', () => {
  let h: SlackHarness;
  let drop: () => Promise<void>;
  let replicaDb: DatabaseHandle[] = [];
  let workers: DeliveryWorker[] = [];

  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    h = await startSlackHarness({ databaseUrl: database.url });
    const logger = createLogger({ level: 'silent' });
    replicaDb = await Promise.all(
      [1, 2].map(() =>
        openDatabase({ url: database.url, dataDir: 'unused', migrationsFolder: MIGRATIONS_FOLDER, maxConnections: 5 }),
      ),
    );
    const options = {
      backoff: { baseMs: 20, maxMs: 100 },
      pacing: { ratePerSecond: 50, burst: 10 },
      pollIntervalMs: 20,
    };
    workers = [
      h.slack.delivery,
      ...replicaDb.map((handle) =>
        createDeliveryWorker({
          db: handle.db,
          client: new WebClient(BOT_TOKEN, {
            slackApiUrl: h.sandbox.apiUrl(),
            rejectRateLimitedCalls: true,
            retryConfig: { retries: 0 },
          }),
          logger,
          options,
        }),
      ),
    ];
  });
  afterAll(async () => {
    await h?.close();
    for (const handle of replicaDb) await handle.close();
    await drop?.();
  });

  it('delivers every card and thread line exactly once, each channel in order', async () => {
    const db = h.earshot.context.db;
    const sourceId = (await seedSource(db)).id;
    const ids: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(sourceId, { author: { externalId: `replica-${i}` }, text: `replica item ${i}` }),
        assessmentFixture({ channel: 'earshot-feedback', priority: 'P2' }),
      );
      ids.push(ticket.id);
      if (i % 3 === 0) await claimTicket(db, userActor(SEED.users.agent1), { ticketId: ticket.id });
    }
    h.sandbox.workspace.failNext('chat.postMessage', { status: 503, count: 3 });
    const deadline = Date.now() + 30_000;
    while ((await h.pendingCount()) > 0) {
      if (Date.now() > deadline) throw new Error('replicas did not drain the outbox');
      await Promise.all(workers.map((worker) => worker.runOnce()));
    }
    const ws = h.sandbox.workspace;
    const messages = ws.channelMessages(FEEDBACK);
    const cards = ids.map((id) => messages.filter((m) => JSON.stringify(m.blocks ?? []).includes(`· #${id}"`)));
    expect(cards.map((found) => found.length)).toEqual(ids.map(() => 1));
    const order = cards.map((found) => Number(found[0]!.ts));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const [index, id] of ids.entries()) {
      const ticket = await getTicket(db, id);
      const lines = ws.thread(FEEDBACK, ticket!.slackTs!).filter((m) => m.ts !== ticket!.slackTs);
      expect(lines.map((m) => m.text)).toEqual(index % 3 === 0 ? [`<@${SEED.users.agent1}> claimed`] : []);
    }
  });
});
