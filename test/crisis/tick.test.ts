import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { authors, crisisAlerts, items } from '../../src/db/schema/index.js';
import { buildJobs } from '../../src/jobs/catalog.js';
import { createJobScheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/logger.js';
import { describeEachDatabase } from '../helpers/database.js';
import { seedSource } from '../helpers/fixtures.js';

const MINUTE = 60_000;
/** A whole second; the burst arrives within it and the tick runs half a second in. */
const SECOND = new Date('2026-03-10T14:10:00Z').getTime();
const RUN_STARTS = new Date(SECOND + 500);

describeEachDatabase('a crisis detection tick', (handle) => {
  it('sees every post received before it runs, those of its own second included', async () => {
    const { db } = handle();
    const source = await seedSource(db, 'x-tick');
    const [author] = await db
      .insert(authors)
      .values({ sourceId: source.id, externalId: 'tick-author', handle: 'ticker', followerCount: 10 })
      .returning();
    const store = (n: number, at: Date, sentiment: string) =>
      db.insert(items).values({
        sourceId: source.id,
        externalId: `tick-${n}`,
        authorId: author!.id,
        text: `the app is down ${n}`,
        createdAt: at,
        receivedAt: at,
        triage: { topics: ['outage'], sentiment, spam: false },
      });
    // Two quiet hours, one post per 15-minute window; then the burst, all of it in the tick's second.
    for (let i = 1; i <= 8; i++) await store(i, new Date(SECOND - (15 * i + 7) * MINUTE), 'neutral');
    for (let i = 0; i < 20; i++) await store(100 + i, new Date(SECOND + 10 + i * 10), 'negative');

    const scheduler = createJobScheduler({
      db,
      logger: createLogger({ level: 'silent' }),
      runner: 'tick-test',
      jobs: buildJobs(loadConfig({})).filter((job) => job.name === 'crisis-detection'),
      now: () => RUN_STARTS,
    });
    expect(await scheduler.runTick('crisis-detection', RUN_STARTS)).toBe('succeeded');
    const alerts = await db.select().from(crisisAlerts);
    expect(alerts.map((a) => [a.groupKey, a.details.count])).toEqual([[`source:${source.id}`, 20]]);
  });
});
