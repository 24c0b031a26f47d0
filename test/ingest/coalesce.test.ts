import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../../src/ingest/coalesce.js';

/** A `run` whose groups the test finishes by hand, recording every group it was given. */
function heldRun<In, Out>(answer: (input: In) => Out) {
  const groups: In[][] = [];
  const pending: { inputs: In[]; finish: () => void; fail: (err: unknown) => void }[] = [];
  let running = 0;
  let mostRunning = 0;
  const run = (inputs: In[]) =>
    new Promise<Out[]>((resolve, reject) => {
      groups.push([...inputs]);
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      pending.push({
        inputs,
        finish: () => {
          running -= 1;
          resolve(inputs.map(answer));
        },
        fail: (err) => {
          running -= 1;
          reject(err);
        },
      });
    });
  /** Finishes the oldest running group, then lets the coalescer start the next. */
  const finishNext = async () => {
    const next = pending.shift();
    if (!next) throw new Error('no group is running');
    next.finish();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { run, groups, finishNext, running: () => running, mostRunning: () => mostRunning };
}

describe('createCoalescer', () => {
  it('runs a lone call at once, as a group of one', async () => {
    const held = heldRun((n: number) => n * 10);
    const call = createCoalescer(held.run, { maxInFlight: 1, maxGroup: 10 });
    const answer = call(4);
    // Started synchronously: nothing waits for company when nothing else is going on.
    expect(held.groups).toEqual([[4]]);
    await held.finishNext();
    await expect(answer).resolves.toBe(40);
  });

  it('runs the calls made while one is in flight together in the next group, in order, each getting its own answer', async () => {
    const held = heldRun((s: string) => s.toUpperCase());
    const call = createCoalescer(held.run, { maxInFlight: 1, maxGroup: 10 });
    const first = call('a');
    const later = ['b', 'c', 'd'].map((s) => call(s));
    expect(held.groups).toEqual([['a']]);
    await held.finishNext();
    expect(held.groups).toEqual([['a'], ['b', 'c', 'd']]);
    await held.finishNext();
    await expect(first).resolves.toBe('A');
    await expect(Promise.all(later)).resolves.toEqual(['B', 'C', 'D']);
  });

  it('keeps at most maxInFlight groups running and at most maxGroup inputs in a group', async () => {
    const held = heldRun((n: number) => n + 1);
    const call = createCoalescer(held.run, { maxInFlight: 2, maxGroup: 3 });
    const answers = Array.from({ length: 10 }, (_, i) => call(i));
    // Two lone calls take both slots; the other eight wait.
    expect(held.groups).toEqual([[0], [1]]);
    while (held.running() > 0) await held.finishNext();
    expect(held.groups).toEqual([[0], [1], [2, 3, 4], [5, 6, 7], [8, 9]]);
    expect(held.mostRunning()).toBe(2);
    expect(held.groups.every((g) => g.length <= 3)).toBe(true);
    await expect(Promise.all(answers)).resolves.toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('retries a failing group one input at a time, so only the bad input’s caller rejects', async () => {
    const groups: number[][] = [];
    const call = createCoalescer(
      async (inputs: number[]) => {
        groups.push([...inputs]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (inputs.includes(13)) throw new Error(`refused ${inputs.join(',')}`);
        return inputs.map((n) => n * 2);
      },
      { maxInFlight: 1, maxGroup: 10 },
    );
    const first = call(1);
    const grouped = [call(12), call(13), call(14)];
    await expect(first).resolves.toBe(2);
    const settled = await Promise.allSettled(grouped);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(settled[0]).toMatchObject({ value: 24 });
    expect(settled[1]).toMatchObject({ reason: new Error('refused 13') });
    expect(settled[2]).toMatchObject({ value: 28 });
    expect(groups).toEqual([[1], [12, 13, 14], [12], [13], [14]]);
  });

  it('rejects a lone failing call with run’s own error, and keeps serving calls after it', async () => {
    let calls = 0;
    const call = createCoalescer(
      async (inputs: string[]) => {
        calls += 1;
        if (inputs.includes('bad')) throw new Error('bad input');
        return inputs.map((s) => s.length);
      },
      { maxInFlight: 1, maxGroup: 10 },
    );
    await expect(call('bad')).rejects.toThrow('bad input');
    // A group of one is not retried.
    expect(calls).toBe(1);
    await expect(call('fine')).resolves.toBe(4);
  });
});
