import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Earshot, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { observabilityModule } from '../../src/observability/module.js';

/** Collects JSON log lines so a test can read what the app said. */
function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination: stream }) };
}

describe('starting Earshot with nothing configured', () => {
  let app: Earshot;
  const sink = logSink();

  beforeAll(async () => {
    const config = loadConfig({ PORT: '0', EARSHOT_DATA_DIR: 'memory://', SLACK_BOT_TOKEN: undefined });
    app = await startEarshot(config, sink.logger, { modules: [observabilityModule] });
  });
  afterAll(async () => {
    await app.stop();
  });

  it('serves liveness and readiness with the embedded database', async () => {
    const health = await fetch(`${app.http.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${app.http.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: [{ name: 'database', ok: true }] });
  });

  it('exports Prometheus metrics, including the outbox backlog', async () => {
    const res = await fetch(`${app.http.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    expect(body).toContain('earshot_outbox_backlog 0');
    expect(body).toContain('# TYPE earshot_items_ingested_total counter');
    expect(body).toContain('earshot_process_resident_memory_bytes');
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await fetch(`${app.http.url}/nope`)).status).toBe(404);
    expect((await fetch(`${app.http.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('says that Slack is not configured, and how to configure it', () => {
    expect(sink.lines.some((l) => String(l.msg).includes('Slack is not configured yet: set SLACK_BOT_TOKEN'))).toBe(
      true,
    );
  });

  it('stops idempotently', async () => {
    await Promise.all([app.stop(), app.stop()]);
    const failed = await fetch(`${app.http.url}/healthz`).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(Error);
  });
});

describe('logging', () => {
  it('redacts secrets wherever they appear', () => {
    const sink = logSink();
    sink.logger.info(
      {
        config: { SLACK_BOT_TOKEN: 'xoxb-secret', OPENAI_API_KEY: 'sk-secret' },
        token: 't',
        headers: { authorization: 'Bearer x' },
      },
      'hello',
    );
    const text = JSON.stringify(sink.lines);
    expect(text).not.toContain('xoxb-secret');
    expect(text).not.toContain('sk-secret');
    expect(text).not.toContain('Bearer x');
  });
});
