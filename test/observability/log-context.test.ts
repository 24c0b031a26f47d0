import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { items } from '../../src/db/schema/index.js';
import { sendJson } from '../../src/http/router.js';
import { type HttpServer, startHttpServer } from '../../src/http/server.js';
import { addLogContext, outsideLogContext, runWithLogContext } from '../../src/observability/log-context.js';
import { SEED, signSlackRequest } from '../../src/sandbox/index.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { type SandboxApp, startSandboxApp } from '../app/sandbox-helpers.js';
import { logSink } from '../slack/harness.js';
import { waitUntil } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('log context: the logger adds the request or ticket of the work in progress to every line', () => {
  it('adds what the context holds, what is learned part-way, and nothing outside it', async () => {
    const { lines, logger } = logSink('info');
    await runWithLogContext({ requestId: 'req-1' }, async () => {
      logger.info('first');
      await sleep(1);
      addLogContext({ ticketId: 42 });
      logger.child({ component: 'deep' }).info('second');
      // A field the call passes wins over the context's.
      logger.info({ ticketId: 7 }, 'explicit');
      runWithLogContext({ outboxId: 3 }, () => logger.info('nested'));
      runWithLogContext({ itemId: 9 }, () => logger.info('fresh'), { fresh: true });
      outsideLogContext(() => logger.info('outside'));
    });
    logger.info('after');
    const line = (msg: string) => lines.find((l) => l.msg === msg)!;
    expect(line('first')).toMatchObject({ requestId: 'req-1' });
    expect(line('first').ticketId).toBeUndefined();
    expect(line('second')).toMatchObject({ requestId: 'req-1', ticketId: 42, component: 'deep' });
    expect(line('explicit')).toMatchObject({ requestId: 'req-1', ticketId: 7 });
    expect(line('nested')).toMatchObject({ requestId: 'req-1', ticketId: 42, outboxId: 3 });
    expect(line('fresh')).toMatchObject({ itemId: 9 });
    expect(line('fresh').requestId).toBeUndefined();
    for (const msg of ['outside', 'after']) {
      expect(line(msg).requestId).toBeUndefined();
      expect(line(msg).ticketId).toBeUndefined();
    }
  });
});

describe('the HTTP server: a request id per request, echoed, on every line, and one access line', () => {
  const sink = logSink('debug');
  let http: HttpServer;

  beforeAll(async () => {
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      logger: sink.logger,
      routes: [
        {
          method: 'GET',
          path: '/deep/:name',
          handler: async (req, res, params) => {
            // Work that crosses awaits and timers, as a database call or a Slack listener does.
            await sleep(Number(new URL(req.url ?? '/', 'http://x').searchParams.get('wait') ?? 1));
            await new Promise<void>((resolve) => setImmediate(resolve));
            sink.logger.child({ component: 'somewhere-deep' }).warn({ name: params.name }, 'deep line');
            sendJson(res, 200, { ok: true });
          },
        },
        {
          method: 'GET',
          path: '/boom',
          handler: async () => {
            await sleep(1);
            throw new Error('handler exploded');
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await http?.close();
  });

  const deepLine = (name: string) => sink.lines.find((l) => l.msg === 'deep line' && l.name === name);
  const accessLine = (requestId: string) => sink.lines.find((l) => l.msg === 'request' && l.requestId === requestId);

  it("keeps the caller's x-request-id, echoes it, and puts it on a line written deep inside the request", async () => {
    const res = await fetch(`${http.url}/deep/kept`, { headers: { 'x-request-id': 'lb-7f3a.1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('lb-7f3a.1');
    expect(deepLine('kept')).toMatchObject({ requestId: 'lb-7f3a.1', component: 'somewhere-deep' });
    await waitUntil(() => accessLine('lb-7f3a.1') !== undefined, 'the access line');
    expect(accessLine('lb-7f3a.1')).toMatchObject({ level: 20, method: 'GET', path: '/deep/kept', status: 200 });
    expect(accessLine('lb-7f3a.1')?.durationMs).toEqual(expect.any(Number));
  });

  it('makes a UUID when the caller sent none, or one that does not look like an id', async () => {
    const none = await fetch(`${http.url}/deep/none`);
    const generated = none.headers.get('x-request-id') ?? '';
    expect(generated).toMatch(UUID);
    expect(deepLine('none')?.requestId).toBe(generated);
    const odd = await fetch(`${http.url}/deep/odd`, { headers: { 'x-request-id': 'a b"c' } });
    expect(odd.headers.get('x-request-id')).toMatch(UUID);
    expect(deepLine('odd')?.requestId).toBe(odd.headers.get('x-request-id'));
  });

  it('keeps concurrent requests apart', async () => {
    await Promise.all([
      fetch(`${http.url}/deep/slow?wait=60`, { headers: { 'x-request-id': 'slow-1' } }),
      fetch(`${http.url}/deep/fast?wait=1`, { headers: { 'x-request-id': 'fast-1' } }),
    ]);
    expect(deepLine('slow')?.requestId).toBe('slow-1');
    expect(deepLine('fast')?.requestId).toBe('fast-1');
  });

  it('logs a failed request at info with its status, and the error line carries the request id', async () => {
    const res = await fetch(`${http.url}/boom`, { headers: { 'x-request-id': 'boom-1' } });
    expect(res.status).toBe(500);
    expect(sink.lines.find((l) => l.msg === 'request failed')).toMatchObject({ requestId: 'boom-1', level: 50 });
    await waitUntil(() => accessLine('boom-1') !== undefined, 'the access line');
    expect(accessLine('boom-1')).toMatchObject({ level: 30, status: 500, path: '/boom' });
  });
});

describe('log context in the running app (sandbox mode)', () => {
  let s: SandboxApp;
  beforeAll(async () => {
    s = await startSandboxApp();
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const cardOf = async (text: string) => {
    const card = await s.sandbox.sandbox.workspace.waitForMessage(
      SEED.channels.feedback,
      (message) => JSON.stringify(message.blocks ?? []).includes(text),
      { timeoutMs: 30_000 },
    );
    return { card, ticketId: Number(/ticket_actions:(\d+)/.exec(JSON.stringify(card.blocks))?.[1]) };
  };

  it("a Slack listener's line, written after the ack, carries the request id of the signed request and the ticket", async () => {
    const text = 'The store locator shows a shop that closed last year';
    expect((await s.post({ id: 'log-context-1', text })).status).toBe(202);
    const { card, ticketId } = await cardOf(text);
    // A viewer clicks Claim on the page: the sandbox sends Slack's signed block_actions payload.
    const clicked = await fetch(`${s.app.http.url}/sandbox/api/action`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        user: SEED.users.viewer,
        kind: 'button',
        actionId: ACTIONS.claim,
        target: { channel: SEED.channels.feedback, ts: card.ts },
      }),
    });
    expect(clicked.status).toBe(200);
    const payload = s.sandbox.sandbox.deliveries.at(-1)?.payload;
    expect(payload).toMatchObject({ type: 'block_actions' });
    // The same payload, as Slack would send it through a load balancer that sets x-request-id.
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await fetch(`${s.app.http.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-request-id': 'slack-req-1',
        ...signSlackRequest(s.app.context.config.SLACK_SIGNING_SECRET!, body),
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('slack-req-1');
    await waitUntil(
      () => s.lines.some((l) => l.msg === 'Slack action refused' && l.requestId === 'slack-req-1'),
      "the listener's refusal line",
    );
    const line = s.lines.find((l) => l.msg === 'Slack action refused' && l.requestId === 'slack-req-1');
    expect(line).toMatchObject({ ticketId, userId: SEED.users.viewer });
  });

  it("the delivery worker's lines carry the ticket of the row it delivers, also where the call passes none", async () => {
    const text = 'My loyalty points vanished after the update';
    s.sandbox.sandbox.workspace.failNext('chat.postMessage', { error: 'invalid_blocks' });
    expect((await s.post({ id: 'log-context-2', text })).status).toBe(202);
    await waitUntil(
      () => s.lines.some((l) => l.msg === 'told the alert channel about a refused post'),
      'the refusal line',
    );
    const line = s.lines.find((l) => l.msg === 'told the alert channel about a refused post');
    const [item] = await s.app.context.db.select().from(items).where(eq(items.externalId, 'log-context-2'));
    expect(item?.ticketId).toEqual(expect.any(Number));
    expect(line).toMatchObject({ ticketId: item?.ticketId, refusal: 'invalid_blocks' });
    expect(line?.outboxId).toEqual(expect.any(Number));
    expect(line?.requestId).toBeUndefined();
  });
});
