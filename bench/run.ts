import { parseArgs } from 'node:util';
import { fixedAssessment, loadAssess } from './lib/assess.js';
import { type BenchRow, formatTable, machineDescription, writeResults } from './lib/report.js';
import { benchFootprint } from './scenarios/footprint.js';
import { benchIngestThroughput } from './scenarios/ingest-throughput.js';

/**
 * `npm run bench`: measures the real pipeline on this machine, each figure beside a reference
 * measured in the same run. `--smoke` runs every scenario at a tiny size (CI runs it so the
 * benchmark code cannot rot); `--only <scenario>` runs one.
 */
const { values } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const smoke = values.smoke ?? false;

const scenarios: Record<string, () => Promise<BenchRow[]>> = {
  ingest: async () =>
    benchIngestThroughput({
      itemsPerRun: smoke ? 20 : 2_000,
      repeats: smoke ? 1 : 3,
      concurrencies: smoke ? [1, 4] : [1, 4, 16],
      assess: smoke ? fixedAssessment : await loadAssess(),
    }),
  footprint: () => benchFootprint({ repeats: smoke ? 1 : 3 }),
};

const selected = values.only ? { [values.only]: scenarios[values.only] } : scenarios;
const rows: BenchRow[] = [];
for (const [name, run] of Object.entries(selected)) {
  if (!run) throw new Error(`unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
  const started = performance.now();
  process.stderr.write(`running ${name}…\n`);
  rows.push(...(await run()));
  process.stderr.write(`  ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

console.log(formatTable(rows));
console.log(`\nmachine: ${JSON.stringify(machineDescription())}`);
if (!smoke) console.log(`results: ${writeResults(rows, { smoke })}`);
