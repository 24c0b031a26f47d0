import { parseArgs } from 'node:util';
import { dropBenchDatabases } from './lib/database.js';
import {
  type BenchCheck,
  type BenchRow,
  formatChecks,
  formatNotes,
  formatTable,
  machineDescription,
  type ScenarioResult,
  writeResults,
} from './lib/report.js';
import { benchCardLatency } from './scenarios/card-latency.js';
import { benchClaimContention } from './scenarios/claim-contention.js';
import { benchClassifier } from './scenarios/classifier.js';
import { benchFootprint } from './scenarios/footprint.js';
import { benchIngestThroughput } from './scenarios/ingest-throughput.js';
import { benchSummaryScale } from './scenarios/summary-scale.js';

/**
 * `npm run bench`: measures the real pipeline on this machine, each figure beside a reference
 * measured in the same run, and writes bench/results/<date>.json. `--smoke` runs every scenario at
 * a tiny size (CI runs it so the benchmark code cannot rot; its figures mean nothing);
 * `--only a,b` runs some. A failed check (one winner per card, nothing lost) fails the run.
 */
const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const smoke = values.smoke ?? false;

const scenarios: Record<string, () => Promise<ScenarioResult>> = {
  ingest: () =>
    benchIngestThroughput(
      smoke
        ? { items: 20, warmup: 5, repeats: 1, concurrencies: [1, 16] }
        : // A run is timed until its last item is a ticket, so it ends with one batch's wait (up to
          // 50 ms): 1,000 items make that a few per cent of the run rather than a tenth. The warm-up
          // is as long: after 100 items the first timed run still spent 30-60 % more CPU per item
          // than the third (V8 still compiling Earshot's code), which measured start-up, not throughput.
          { items: 1000, warmup: 1000, repeats: 3, concurrencies: [1, 4, 16] },
    ),
  cards: () =>
    benchCardLatency(
      smoke
        ? {
            steadyRate: 10,
            blockSeconds: 2,
            blocks: 1,
            channels: 20,
            burstItems: 60,
            burstSeconds: 4,
            drainSeconds: 20,
          }
        : {
            steadyRate: 10,
            blockSeconds: 10,
            blocks: 3,
            channels: 20,
            burstItems: 10_000,
            burstSeconds: 60,
            drainSeconds: 45,
          },
    ),
  claims: () =>
    benchClaimContention(
      smoke
        ? {
            contendedRounds: 1,
            clickers: 10,
            spreadRuns: 1,
            spreadCards: 5,
            spreadClicksPerCard: 4,
            spreadLanes: 10,
            channels: 5,
          }
        : {
            contendedRounds: 3,
            clickers: 50,
            spreadRuns: 3,
            spreadCards: 100,
            spreadClicksPerCard: 10,
            spreadLanes: 100,
            channels: 20,
          },
    ),
  summary: () =>
    benchSummaryScale(
      smoke
        ? // 2,000 tickets over four days: at 2,740 a day they were the last 17.5 hours, all of them
          // today after 17:30 UTC, and the rollups check (every complete day built) found no day.
          { scales: [2_000], ticketsPerDay: 500, blocks: 1, samplesPerBlock: 2, secondsPerPeriod: 5 }
        : { scales: [100_000, 1_000_000], ticketsPerDay: 2_740, blocks: 3, samplesPerBlock: 5, secondsPerPeriod: 15 },
    ),
  classifier: () =>
    benchClassifier(
      smoke
        ? { repeats: 1, minMsPerRun: 50, crossValidation: { tweets: 200, folds: 2 } }
        : { repeats: 3, minMsPerRun: 700, crossValidation: { tweets: Number.POSITIVE_INFINITY, folds: 5 } },
    ),
  footprint: () =>
    benchFootprint(
      smoke ? { repeats: 1, settleMs: 200, restarts: false } : { repeats: 3, settleMs: 1000, restarts: true },
    ),
};

const wanted = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(scenarios);
for (const name of wanted) {
  if (!scenarios[name]) {
    console.error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
}

const at = new Date();
const rows: BenchRow[] = [];
const notes: { scenario: string; text: string }[] = [];
const checks: BenchCheck[] = [];
const durations: Record<string, number> = {};
const started = performance.now();
try {
  for (const name of wanted) {
    const begun = performance.now();
    process.stderr.write(`running ${name}…\n`);
    try {
      const result = await scenarios[name]!();
      rows.push(...result.rows);
      checks.push(...result.checks);
      notes.push(...result.notes.map((text) => ({ scenario: result.rows[0]?.scenario ?? name, text })));
    } catch (err) {
      checks.push({ scenario: name, name: 'scenario ran to the end', ok: false, detail: String(err) });
      process.stderr.write(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    durations[name] = Math.round((performance.now() - begun) / 100) / 10;
    process.stderr.write(`  ${name} took ${durations[name]} s\n`);
  }
} finally {
  await dropBenchDatabases();
}
const totalSeconds = Math.round((performance.now() - started) / 100) / 10;

console.log(formatTable(rows));
if (notes.length > 0) console.log(`\nNotes\n${formatNotes(notes)}`);
console.log(`\nChecks\n${formatChecks(checks)}`);
console.log(`\nmachine: ${JSON.stringify(machineDescription())}`);
console.log(
  `took ${totalSeconds} s (${Object.entries(durations)
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ')})`,
);
if (!smoke) {
  const file = writeResults({ smoke, seconds: totalSeconds, durations, rows, notes, checks }, at);
  console.log(`results: ${file}`);
}
const failed = checks.filter((c) => !c.ok).length;
if (failed > 0) console.error(`${failed} check${failed === 1 ? '' : 's'} failed`);
process.exit(failed > 0 ? 1 : 0);
