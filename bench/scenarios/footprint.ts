import { Writable } from 'node:stream';
import { startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openBenchDatabase } from '../lib/database.js';
import type { BenchRow } from '../lib/report.js';
import { repeat } from '../lib/stats.js';

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

/** Start-up time to a ready /readyz, with the embedded database and with PostgreSQL, and resident memory at idle. */
export async function benchFootprint(options: { repeats: number }): Promise<BenchRow[]> {
  const startPglite = await repeat(options.repeats, () => timeToReady({ EARSHOT_DATA_DIR: 'memory://' }));
  const startPostgres = await repeat(options.repeats, async () => {
    const db = await openBenchDatabase({ maxConnections: 2 });
    try {
      return await timeToReady({ DATABASE_URL: db.url });
    } finally {
      await db.close();
    }
  });
  const rss = await repeat(1, async () => process.memoryUsage().rss / 2 ** 20);
  return [
    {
      scenario: 'footprint',
      metric: 'start to ready, PGlite (fresh, migrations included)',
      unit: 'ms',
      value: startPglite,
    },
    {
      scenario: 'footprint',
      metric: 'start to ready, PostgreSQL (fresh, migrations included)',
      unit: 'ms',
      value: startPostgres,
    },
    { scenario: 'footprint', metric: 'resident memory of the bench process after start-ups', unit: 'MiB', value: rss },
  ];
}

async function timeToReady(env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const app = await startEarshot(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env }), quiet);
  try {
    const res = await fetch(`${app.http.url}/readyz`);
    if (!res.ok) throw new Error(`not ready: ${await res.text()}`);
    return performance.now() - started;
  } finally {
    await app.stop();
  }
}
