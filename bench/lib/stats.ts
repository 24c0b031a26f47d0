/** Deterministic pseudo-random numbers (mulberry32), so every run seeds and loads the same. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The p-th percentile (0–100) of a sample, by linear interpolation. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** A figure measured several times: its median with min and max. */
export interface Repeated {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: readonly number[]): Repeated {
  return { median: percentile(runs, 50), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/** Value ÷ reference run by run (the pairs were measured side by side), then summarized. */
export function pairRatio(value: Repeated, reference: Repeated): Repeated {
  if (value.runs.length !== reference.runs.length) throw new Error('ratio of unpaired runs');
  return summarize(value.runs.map((v, i) => v / reference.runs[i]!));
}

/** The p-th percentile of each block of samples (one block per repeat), summarized across blocks. */
export function blockPercentile(blocks: readonly (readonly number[])[], p: number): Repeated {
  return summarize(blocks.map((block) => percentile(block, p)));
}

/** Runs `fn` `times` times and summarizes the numbers it returns. */
export async function repeat(times: number, fn: (run: number) => Promise<number>): Promise<Repeated> {
  const runs: number[] = [];
  for (let run = 0; run < times; run += 1) runs.push(await fn(run));
  return summarize(runs);
}

/** Runs `worker` on `concurrency` lanes until `total` tasks are done; returns elapsed milliseconds. */
export async function runConcurrently(
  total: number,
  concurrency: number,
  worker: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const index = next++;
        if (index >= total) return;
        await worker(index);
      }
    }),
  );
  return performance.now() - started;
}

/**
 * Open-loop load: calls `fire(i)` at `i × intervalMs` after the start whether or not earlier calls
 * have answered (as independent senders do), with at most `maxInFlight` outstanding; resolves when all settled.
 */
export async function paced(
  total: number,
  intervalMs: number,
  maxInFlight: number,
  fire: (index: number) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const running = new Set<Promise<void>>();
  for (let index = 0; index < total; index += 1) {
    const wait = started + index * intervalMs - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    while (running.size >= maxInFlight) await Promise.race(running);
    const call: Promise<void> = fire(index).finally(() => running.delete(call));
    running.add(call);
  }
  await Promise.all(running);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
