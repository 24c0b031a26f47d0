import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SlackSandbox } from '../../src/sandbox/index.js';
import { freePort, type RunningProcess, spawnBareNode, spawnEarshot } from '../lib/app-process.js';
import { createBenchDatabase } from '../lib/database.js';
import { emptyResult, type ScenarioResult } from '../lib/report.js';
import { slackEnv, startBenchSandbox } from '../lib/slack.js';
import { pairRatio, type Repeated, sleep, summarize } from '../lib/stats.js';

export interface FootprintOptions {
  repeats: number;
  /** How long a process idles after ready before its memory is read. */
  settleMs: number;
  /** Also time a second start on the same data (no migrations to run). */
  restarts: boolean;
}

const SCENARIO = 'footprint';

interface Start {
  readyMs: number;
  rssMiB: number;
}

/**
 * Start-up time to a 200 from /readyz and resident memory at idle, of Earshot spawned as production
 * runs it (every module, Slack pointed at a local sandbox), with PGlite (a fresh data directory,
 * then a restart on it) and with PostgreSQL (an empty database, then a restart), beside the floor:
 * node with the same TypeScript loader answering from a bare HTTP server.
 */
export async function benchFootprint(options: FootprintOptions): Promise<ScenarioResult> {
  const result = emptyResult();
  const runs = { floor: [] as Start[], pgliteFirst: [] as Start[], pgliteRestart: [] as Start[] };
  const pg = { first: [] as Start[], restart: [] as Start[] };
  const measure = async (process: RunningProcess): Promise<Start> => {
    try {
      await sleep(options.settleMs);
      return { readyMs: process.readyMs, rssMiB: process.memory().rssMiB };
    } finally {
      await process.stop();
    }
  };
  for (let run = 0; run < options.repeats; run += 1) {
    runs.floor.push(await measure(await spawnBareNode()));

    const dataDir = mkdtempSync(join(tmpdir(), 'earshot-bench-pglite-'));
    try {
      await withSandbox(async (env, port) => {
        runs.pgliteFirst.push(await measure(await spawnEarshot({ ...env, EARSHOT_DATA_DIR: dataDir }, { port })));
        if (options.restarts)
          runs.pgliteRestart.push(await measure(await spawnEarshot({ ...env, EARSHOT_DATA_DIR: dataDir }, { port })));
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }

    const database = await createBenchDatabase({ migrated: false });
    try {
      await withSandbox(async (env, port) => {
        pg.first.push(await measure(await spawnEarshot({ ...env, DATABASE_URL: database.url }, { port })));
        if (options.restarts)
          pg.restart.push(await measure(await spawnEarshot({ ...env, DATABASE_URL: database.url }, { port })));
      });
    } finally {
      await database.drop();
    }
  }

  const ready = (starts: Start[]) => summarize(starts.map((s) => s.readyMs));
  const rss = (starts: Start[]) => summarize(starts.map((s) => s.rssMiB));
  const row = (metric: string, unit: string, value: Repeated, floor: Repeated) => ({
    scenario: SCENARIO,
    metric,
    unit,
    value,
    reference: { label: 'node + tsx, bare HTTP server', value: floor },
    ratio: pairRatio(value, floor),
  });
  const floorReady = ready(runs.floor);
  const floorRss = rss(runs.floor);
  result.rows.push(
    row('start to /readyz 200, PGlite, fresh data dir (migrates)', 'ms', ready(runs.pgliteFirst), floorReady),
    row('start to /readyz 200, PostgreSQL, empty database (migrates)', 'ms', ready(pg.first), floorReady),
  );
  if (options.restarts) {
    result.rows.push(
      row('start to /readyz 200, PGlite, restart', 'ms', ready(runs.pgliteRestart), floorReady),
      row('start to /readyz 200, PostgreSQL, restart', 'ms', ready(pg.restart), floorReady),
    );
  }
  const idle = (restarts: Start[], firsts: Start[]) => rss(options.restarts ? restarts : firsts);
  result.rows.push(
    row('resident memory at idle, PGlite', 'MiB', idle(runs.pgliteRestart, runs.pgliteFirst), floorRss),
    row('resident memory at idle, PostgreSQL', 'MiB', idle(pg.restart, pg.first), floorRss),
  );
  result.notes.push(
    'Start-up is measured from spawning `node --import tsx src/main.ts` (the Dockerfile’s command) to the first ' +
      '200 from /readyz, polled every 10 ms; tsx compiles the TypeScript on load, which is most of the floor. ' +
      'PGlite runs PostgreSQL compiled to WebAssembly inside the process, so its memory is part of Earshot’s RSS; ' +
      'with a server the database’s memory is elsewhere. Memory after load is read from the card latency ' +
      'scenario’s process (the footprint rows among the card latency rows).',
  );
  return result;
}

async function withSandbox(run: (env: Record<string, string>, port: number) => Promise<void>): Promise<void> {
  const port = await freePort();
  const sandbox: SlackSandbox = await startBenchSandbox({ appPort: port, channels: 0, agents: 0 });
  try {
    await run(slackEnv(sandbox), port);
  } finally {
    await sandbox.close();
  }
}
