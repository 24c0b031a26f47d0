/** Reads `/metrics` over HTTP, as Prometheus would. */
export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]!] = match[2]!;
  return labels;
}

/**
 * The value of one series in Prometheus text format: the sum over the samples of `name` whose
 * labels include every label given (so `{ service: 'slack' }` reads one series of a counter). 0
 * when no sample matches, as an untouched labelled counter has none.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = parseLabels(match[2] ?? '');
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3]);
  }
  return total;
}

/** Reads one series now: `await series(url, 'earshot_rate_limited_total', { service: 'x' })`. */
export async function series(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrape(baseUrl), name, labels);
}

/** Polls until `check` holds; fails naming `what` after the timeout. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** X configured against the local X server: stream mode, user-context credentials for replies. */
export function xEnv(url: string): Record<string, string> {
  return {
    X_API_URL: url,
    X_BEARER_TOKEN: 'test-bearer',
    X_API_KEY: 'key',
    X_API_SECRET: 'secret',
    X_ACCESS_TOKEN: 'token',
    X_ACCESS_SECRET: 'token-secret',
    X_ACCOUNT_ID: '42',
    X_INGEST_MODE: 'stream',
  };
}
