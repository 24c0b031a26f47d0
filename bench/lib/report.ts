import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Repeated } from './stats.js';

/** One line of the results table: a figure, its reference from the same run, and their ratio. */
export interface BenchRow {
  scenario: string;
  metric: string;
  unit: string;
  value: Repeated;
  reference?: { label: string; value: Repeated };
  /** value / reference, computed run by run and then summarized, so machine noise cancels. */
  ratio?: Repeated;
  note?: string;
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const range = (r: Repeated) => `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})`;

export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['scenario', 'metric', 'value (min–max)', 'reference (min–max)', 'ratio'];
  const lines = rows.map((row) => [
    row.scenario,
    `${row.metric} [${row.unit}]`,
    range(row.value),
    row.reference ? `${row.reference.label}: ${range(row.reference.value)}` : '',
    row.ratio ? range(row.ratio) : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n');
}

export function machineDescription() {
  const cpu = cpus();
  return {
    node: process.version,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Writes bench/results/<date>.json and returns its path. */
export function writeResults(rows: readonly BenchRow[], extra: Record<string, unknown>): string {
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const file = new URL(`${stamp}.json`, dir);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), machine: machineDescription(), ...extra, rows }, null, 2)}\n`,
  );
  return file.pathname;
}
