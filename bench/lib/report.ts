import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
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
  /** What the ratio is held against, e.g. `≥ 0.5`; `met` says whether the median meets it. */
  target?: { text: string; met: boolean };
}

/** A correctness check a scenario makes on its own run (one winner per card, nothing lost); a failure fails the run. */
export interface BenchCheck {
  scenario: string;
  name: string;
  ok: boolean;
  detail: string;
}

/** What a scenario hands back: its rows, the explanation of its gaps, and its checks. */
export interface ScenarioResult {
  rows: BenchRow[];
  notes: string[];
  checks: BenchCheck[];
}

export function emptyResult(): ScenarioResult {
  return { rows: [], notes: [], checks: [] };
}

const fmt = (n: number) => {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
};
const range = (r: Repeated) => (r.runs.length > 1 ? `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})` : fmt(r.median));

/** The results as a Markdown table (it prints well in a terminal and pastes into the README). */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['scenario', 'metric', 'value (min–max)', 'reference (min–max)', 'ratio (min–max)', 'target'];
  const lines = rows.map((row) => [
    row.scenario,
    `${row.metric} [${row.unit}]`,
    range(row.value),
    row.reference ? `${row.reference.label}: ${range(row.reference.value)}` : '',
    row.ratio ? range(row.ratio) : '',
    row.target ? `${row.target.text} ${row.target.met ? 'met' : 'MISSED'}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n');
}

export function formatChecks(checks: readonly BenchCheck[]): string {
  return checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.scenario}: ${c.name} (${c.detail})`).join('\n');
}

export function formatNotes(notes: readonly { scenario: string; text: string }[]): string {
  return notes.map((n) => `- ${n.scenario}: ${n.text}`).join('\n');
}

export function machineDescription() {
  const cpu = cpus();
  return {
    node: process.version,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Writes bench/results/<date>.json (UTC date and time of the run) and returns its path. */
export function writeResults(result: Record<string, unknown>, at: Date): string {
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const stamp = at.toISOString().replace(/:/g, '-').replace(/\..+$/, 'Z');
  const file = new URL(`${stamp}.json`, dir);
  writeFileSync(
    file,
    `${JSON.stringify({ at: at.toISOString(), machine: machineDescription(), ...result }, null, 2)}\n`,
  );
  return file.pathname;
}
