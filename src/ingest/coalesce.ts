/**
 * Calls that arrive while earlier ones are in flight, run together: `run` gets every waiting input
 * (up to `maxGroup`) once fewer than `maxInFlight` groups are running, and each caller gets its own
 * answer. A lone call runs at once, so nothing waits when nothing else is going on; under load the
 * calls made during one round trip share the next. A group that fails is run again one input at a
 * time, so one bad input fails only its own caller.
 */
export function createCoalescer<In, Out>(
  run: (inputs: In[]) => Promise<Out[]>,
  options: { maxInFlight: number; maxGroup: number },
): (input: In) => Promise<Out> {
  interface Waiting {
    input: In;
    resolve: (out: Out) => void;
    reject: (err: unknown) => void;
  }
  const waiting: Waiting[] = [];
  let inFlight = 0;

  async function settle(group: Waiting[]): Promise<void> {
    try {
      const outs = await run(group.map((w) => w.input));
      for (const [i, w] of group.entries()) w.resolve(outs[i]!);
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err);
        return;
      }
      for (const w of group) await settle([w]);
    }
  }

  const flush = () => {
    while (inFlight < options.maxInFlight && waiting.length > 0) {
      const group = waiting.splice(0, options.maxGroup);
      inFlight += 1;
      void settle(group).finally(() => {
        inFlight -= 1;
        flush();
      });
    }
  };

  return (input) =>
    new Promise<Out>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      flush();
    });
}
