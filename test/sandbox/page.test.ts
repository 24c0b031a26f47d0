import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/index.js';
import { startBoltWithSandbox } from './bolt-app.js';

let env: Awaited<ReturnType<typeof startBoltWithSandbox>>;
let base: string;

beforeEach(async () => {
  env = await startBoltWithSandbox();
  base = env.sandbox.apiUrl().replace(/\/api\/$/, '');
});

afterEach(async () => {
  await env.stop();
});

async function pagePost(path: string, body: Record<string, unknown>) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function state(user: string) {
  const response = await fetch(`${base}/sandbox/api/state?user=${user}`);
  return (await response.json()) as {
    channels: { id: string; name: string }[];
    messages: Record<string, { ts: string; text: string; blocks?: unknown[] }[]>;
    ephemerals: { text: string }[];
    modal: { id: string; errors: Record<string, string>; values: Record<string, Record<string, unknown>> } | null;
    home: { blocks: unknown[] } | null;
  };
}

describe('the sandbox page', () => {
  it('serves the page with a strict CSP, and its scripts', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/sandbox/assets/app.js');
    const script = await fetch(`${base}/sandbox/assets/render.js`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/sandbox/assets/..%2Froutes.ts`)).status).toBe(404);
  });

  it('shows each person only the channels, ephemerals and modals that are theirs', async () => {
    const viewer = await state(SEED.users.viewer);
    expect(viewer.channels.map((c) => c.name)).toEqual(['earshot-feedback', 'earshot-oncall', SEED.users.viewer]);
    const lead = await state(SEED.users.lead);
    expect(lead.channels.map((c) => c.name)).toContain('earshot-leads');
  });

  it('runs a typed slash command through the signed path and shows the ephemeral answer', async () => {
    const result = await pagePost('/sandbox/api/command', {
      user: SEED.users.agent1,
      channel: SEED.channels.feedback,
      text: '/earshot mine <soon>',
    });
    expect(result.body).toEqual({ ok: true });
    // The page escapes typed text as Slack's client does.
    expect(env.heard.commands[0]).toMatchObject({ text: 'mine &lt;soon&gt;' });
    expect((await state(SEED.users.agent1)).ephemerals.map((e) => e.text)).toEqual(['You asked for mine &lt;soon&gt;']);
  });

  it('clicks a card button and submits a modal with a validation error, then fixes it', async () => {
    await pagePost('/sandbox/api/command', {
      user: SEED.users.lead,
      channel: SEED.channels.feedback,
      text: '/earshot card',
    });
    const card = (await state(SEED.users.agent1)).messages[SEED.channels.feedback]!.at(-1)!;
    const click = await pagePost('/sandbox/api/action', {
      user: SEED.users.agent1,
      target: { channel: SEED.channels.feedback, ts: card.ts },
      kind: 'button',
      actionId: 'ticket_tag',
    });
    expect(click.body).toEqual({ ok: true });
    const modal = (await state(SEED.users.agent1)).modal!;
    expect(modal).not.toBeNull();

    const invalid = await pagePost('/sandbox/api/view/submit', {
      user: SEED.users.agent1,
      viewId: modal.id,
      values: { tag_new: { value: 'bad tag' }, tag_select: { value: ['refund'] } },
    });
    expect(invalid.body).toMatchObject({ ok: true, responseAction: 'errors' });
    const shown = (await state(SEED.users.agent1)).modal!;
    expect(shown.errors).toEqual({ tag_new: 'Tags have no spaces' });
    expect(shown.values.tag_select).toEqual({ value: ['refund'] });

    const valid = await pagePost('/sandbox/api/view/submit', {
      user: SEED.users.agent1,
      viewId: modal.id,
      values: { tag_new: { value: 'billing' } },
    });
    expect(valid.body).toMatchObject({ ok: true, responseAction: 'close' });
    expect((await state(SEED.users.agent1)).modal).toBeNull();
  });

  it('opens the App Home and shows what the app published', async () => {
    await pagePost('/sandbox/api/home', { user: SEED.users.agent2 });
    expect((await state(SEED.users.agent2)).home?.blocks).toHaveLength(1);
  });

  it('tells the person when the app cannot be reached', async () => {
    await env.app.stop();
    const result = await pagePost('/sandbox/api/command', {
      user: SEED.users.agent1,
      channel: SEED.channels.feedback,
      text: '/earshot help',
    });
    expect(result.body.ok).toBe(false);
    expect(String(result.body.error)).toMatch(/could not be reached/);
  });

  it('streams changes to the page as Server-Sent Events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/sandbox/api/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    await reader.read(); // retry: line
    await env.sandbox.as(SEED.users.agent1).say('earshot-feedback', 'hello');
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('"kind":"message"');
    controller.abort();
  });

  it('redirects permalinks to the message on the page', async () => {
    const response = await fetch(`${base}/archives/${SEED.channels.feedback}/p1767000000000100`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`/#channel=${SEED.channels.feedback}&ts=1767000000.000100`);
  });
});
