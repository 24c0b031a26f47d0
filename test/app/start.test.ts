import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartAbortedError, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { agents, tickets } from '../../src/db/schema/index.js';
import type { ModuleFactory } from '../../src/module.js';
import { observabilityModule } from '../../src/observability/module.js';
import { SEED } from '../../src/sandbox/index.js';
import { CONNECT_WORKSPACE_SECTION, resetSandboxData } from '../../src/sandbox/module.js';
import { replyTextBlockId } from '../../src/slack/blocks/modals/reply.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { logSink } from '../slack/harness.js';
import { KINDS, type SandboxApp, startSandboxApp } from './sandbox-helpers.js';

if (!process.env.TEST_DATABASE_URL) {
  describe.skip('starting Earshot with nothing configured [postgres: set TEST_DATABASE_URL to run]', () => {
    it('runs against real PostgreSQL', () => {});
  });
}

describe.each(KINDS)('starting Earshot with nothing configured: sandbox mode [%s]', (kind) => {
  let s: SandboxApp;
  let url: string;

  beforeAll(async () => {
    s = await startSandboxApp({ kind });
    url = s.app.http.url;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('serves liveness and readiness', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(body.status).toBe('ready');
    // The Slack check runs auth.test against the sandbox's Web API, as it would against Slack's.
    expect(body.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'database', ok: true }),
        expect.objectContaining({ name: 'slack', ok: true }),
      ]),
    );
  });

  it('listens on loopback only, since the page lets anyone act as anyone', () => {
    expect((s.app.http.server.address() as AddressInfo).address).toBe('127.0.0.1');
  });

  it('exports Prometheus metrics, including the outbox backlog', async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    expect(body).toMatch(/earshot_outbox_backlog \d+/);
    expect(body).toContain('# TYPE earshot_items_ingested_total counter');
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('says it runs in sandbox mode, where to open it, and how to connect a real workspace', () => {
    const port = new URL(url).port;
    const banner = s.lines.find((line) => String(line.msg).startsWith('Sandbox mode'));
    expect(banner?.msg).toContain(`Open http://localhost:${port}`);
    expect(banner?.msg).toContain(`see "${CONNECT_WORKSPACE_SECTION}" in README.md`);
    expect(s.lines.some((line) => String(line.msg).includes('Slack is not configured'))).toBe(false);
  });

  it('serves the sandbox page and points Bolt at the sandbox Web API on its own server', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Earshot sandbox');
    const { config } = s.app.context;
    expect(config.SLACK_API_URL).toBe(`${url}/api/`);
    expect(config.SLACK_BOT_TOKEN).toMatch(/^xoxb-sandbox-[0-9a-f]+$/);
    expect(config.EARSHOT_PUBLIC_URL).toBe(url);
    expect(config.EARSHOT_ADMINS).toContain(SEED.users.admin);
    // The Web API answers the app's token only.
    const auth = await fetch(`${url}/api/auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.SLACK_BOT_TOKEN}` },
    });
    expect(await auth.json()).toMatchObject({ ok: true, user_id: SEED.bot.user });
  });

  it('gives the seeded people their roles', async () => {
    const rows = await s.app.context.db.select().from(agents);
    const role = (id: string) => rows.find((row) => row.slackUserId === id)?.role;
    expect(role(SEED.users.lead)).toBe('lead');
    expect(role(SEED.users.viewer)).toBe('viewer');
    expect(role(SEED.users.agent1)).toBe('agent');
  });

  it('turns a signed webhook post into a card, and a click on the page reaches /slack/events signed', async () => {
    const text = `The courier lost my parcel and nobody answers the chat (${kind}).`;
    const res = await s.post({ id: `start-${kind}-1`, text });
    expect(res.status).toBe(202);
    const ws = s.sandbox.sandbox.workspace;
    const card = await ws.waitForMessage(
      SEED.channels.feedback,
      (message) => JSON.stringify(message.blocks ?? []).includes(text),
      { timeoutMs: 60_000 },
    );
    const ticketId = Number(/ticket_actions:(\d+)/.exec(JSON.stringify(card.blocks))?.[1]);
    const clicked = await fetch(`${url}/sandbox/api/action`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        user: SEED.users.lead,
        kind: 'button',
        actionId: ACTIONS.claim,
        target: { channel: SEED.channels.feedback, ts: card.ts },
      }),
    });
    expect(await clicked.json()).toEqual({ ok: true });
    const delivery = s.sandbox.sandbox.deliveries.at(-1);
    expect(delivery).toMatchObject({ kind: 'block_actions', status: 200 });
    await ws.waitFor(
      () =>
        JSON.stringify(ws.findMessage(SEED.channels.feedback, card.ts)?.blocks ?? []).includes(`<@${SEED.users.lead}>`),
      { timeoutMs: 30_000, what: 'the card to show the lead as assignee' },
    );
    const [ticket] = await s.app.context.db.select().from(tickets).where(eq(tickets.id, ticketId));
    expect(ticket?.assignee).toBe(SEED.users.lead);
  }, 120_000);

  it('takes replies to the demo source at its stand-in customer channel, signed', async () => {
    const text = `Do you have a student discount? (${kind})`;
    expect((await s.post({ id: `start-${kind}-2`, text })).status).toBe(202);
    const ws = s.sandbox.sandbox.workspace;
    const card = await ws.waitForMessage(
      SEED.channels.feedback,
      (message) => JSON.stringify(message.blocks ?? []).includes(text),
      { timeoutMs: 20_000 },
    );
    const lee = s.sandbox.sandbox.as(SEED.users.lead);
    await lee.clickButton({ channel: SEED.channels.feedback, ts: card.ts }, ACTIONS.reply);
    const modal = await ws.waitFor(() => lee.currentView(), { timeoutMs: 10_000, what: 'the reply modal' });
    const submitted = await lee.submitView(
      { [replyTextBlockId(0)]: { [ACTIONS.replyTextChanged]: `Yes: 10% off with a student email (${kind}).` } },
      modal.id,
    );
    expect(submitted.responseAction).toBe('close');
    const reply = await ws.waitFor(
      () => s.sandbox.demoReplies.find((r) => r.text.includes(`student email (${kind})`)),
      {
        timeoutMs: 20_000,
        what: 'the reply at the demo endpoint',
      },
    );
    expect(reply.inReplyTo).toBe(`start-${kind}-2`);
  }, 120_000);

  it.runIf(kind === 'pglite')('keeps its embedded database in a directory of its own', () => {
    expect(existsSync(join(s.dataDir, 'sandbox', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(s.dataDir, 'PG_VERSION'))).toBe(false);
  });

  it('stops idempotently, and then answers nothing', async () => {
    await Promise.all([s.app.stop(), s.app.stop()]);
    const failed = await fetch(`${url}/healthz`).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(Error);
  });
});

describe('the sandbox banner', () => {
  it('names a README section that exists', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(new RegExp(`^#+ ${CONNECT_WORKSPACE_SECTION}$`, 'm'));
  });
});

describe('sandbox data starts fresh at every start', () => {
  it('a restart on the same data directory finds no tickets from the run before', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'earshot-restart-'));
    try {
      const first = await startSandboxApp({ dataDir });
      expect((await first.post({ id: 'before-restart', text: 'Where is my parcel?' })).status).toBe(202);
      await first.close();
      const second = await startSandboxApp({ dataDir });
      try {
        expect(await second.app.context.db.select().from(tickets)).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses to empty a directory that holds something other than a sandbox database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-not-sandbox-'));
    try {
      writeFileSync(join(dir, 'notes.txt'), 'mine');
      expect(() => resetSandboxData(dir)).toThrow(/is not a sandbox database directory/);
      expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
      mkdirSync(join(dir, 'pg'));
      writeFileSync(join(dir, 'pg', 'PG_VERSION'), '17');
      resetSandboxData(join(dir, 'pg'));
      expect(existsSync(join(dir, 'pg'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up and shutdown', () => {
  const config = () => loadConfig({ PORT: '0', EARSHOT_DATA_DIR: 'memory://' });

  it('answers /readyz 503 "starting" until every module has started', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let base = '';
    let started!: () => void;
    const starting = new Promise<void>((resolve) => {
      started = resolve;
    });
    const slow: ModuleFactory = (ctx) => {
      base = ctx.baseUrl();
      return {
        name: 'slow',
        start: async () => {
          started();
          await gate;
        },
      };
    };
    const app = startEarshot(config(), logSink().logger, { modules: [observabilityModule, slow] });
    await starting;
    const during = await fetch(`${base}/readyz`);
    expect(during.status).toBe(503);
    expect(await during.json()).toEqual({ status: 'starting', checks: [] });
    // The modules' routes are mounted before they start.
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    release();
    const running = await app;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await running.stop();
  });

  it('closes the database and the server when a module fails after the database opened', async () => {
    let database: DatabaseHandle | undefined;
    let base = '';
    const broken: ModuleFactory = (ctx) => {
      database = ctx.database;
      base = ctx.baseUrl();
      return {
        name: 'broken',
        start: async () => {
          throw new Error('cannot start');
        },
      };
    };
    const sink = logSink();
    await expect(startEarshot(config(), sink.logger, { modules: [observabilityModule, broken] })).rejects.toThrow(
      'cannot start',
    );
    await expect(database?.ping()).rejects.toThrow();
    expect(await fetch(`${base}/healthz`).catch((err: unknown) => err)).toBeInstanceOf(Error);
  });

  it('stops part-way when aborted (a signal during start-up), closing what it opened', async () => {
    const abort = new AbortController();
    let database: DatabaseHandle | undefined;
    let stopped = false;
    const first: ModuleFactory = (ctx) => {
      database = ctx.database;
      return {
        name: 'first',
        start: async () => abort.abort(),
        stop: async () => {
          stopped = true;
        },
      };
    };
    const never: ModuleFactory = () => ({
      name: 'never',
      start: async () => {
        throw new Error('should not start after the abort');
      },
    });
    await expect(
      startEarshot(config(), logSink().logger, { modules: [first, never], signal: abort.signal }),
    ).rejects.toBeInstanceOf(StartAbortedError);
    expect(stopped).toBe(true);
    await expect(database?.ping()).rejects.toThrow();
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
