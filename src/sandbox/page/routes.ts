import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type Route, readBody, sendJson } from '../../http/router.js';
import type { Logger } from '../../logger.js';
import type { Json, SandboxView } from '../slack-api/types.js';
import { applyValues, type FriendlyValues, friendlyValue } from '../slack-api/view-state.js';
import type { SlackWorkspace } from '../slack-api/workspace.js';
import type { AppDelivery, AppLink } from '../user-actions.js';

const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'render.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
/** The page runs only its own scripts; images may come from anywhere the app links (avatars, media). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: http: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** Messages per conversation the page gets: enough for a demo, bounded for a long-running one. */
const PAGE_MESSAGES = 300;
/**
 * Each live-update stream ends after this long and the browser reconnects (and refetches). A
 * stream never outlives it, so the app's HTTP server can close without waiting on open pages.
 */
const STREAM_LIFETIME_MS = 10_000;

export interface PageRouteOptions {
  workspace: SlackWorkspace;
  link: AppLink;
  logger: Logger;
}

function viewForPage(view: SandboxView | undefined, depth = 1): Json | null {
  if (!view) return null;
  const values: Record<string, Record<string, unknown>> = {};
  for (const [blockId, actions] of Object.entries(view.state.values)) {
    values[blockId] = {};
    for (const [actionId, entry] of Object.entries(actions)) values[blockId][actionId] = friendlyValue(entry);
  }
  return {
    id: view.id,
    type: view.type,
    title: view.title ?? null,
    submit: view.submit ?? null,
    close: view.close ?? null,
    blocks: view.blocks,
    hash: view.hash,
    callback_id: view.callback_id,
    values,
    errors: view.errors,
    depth,
  };
}

/** Escapes what a person types, as Slack's client does before sending, and links @mentions of known people. */
function typedText(ws: SlackWorkspace, text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(/(^|\s)@([a-z0-9._-]+)/gi, (whole, space: string, name: string) => {
    for (const user of ws.users.values()) if (user.name === name.toLowerCase()) return `${space}<@${user.id}>`;
    for (const group of ws.usergroups.values())
      if (group.handle === name.toLowerCase()) return `${space}<!subteam^${group.id}|@${group.handle}>`;
    if (name === 'here' || name === 'channel') return `${space}<!${name}>`;
    return whole;
  });
}

/** What the page tells the person about the app's answer. */
function outcome(delivery: AppDelivery | null): Json {
  if (!delivery) return { ok: true };
  if (delivery.error) return { ok: false, error: `The app could not be reached: ${delivery.error}` };
  if (delivery.status !== 200) return { ok: false, error: `The app answered HTTP ${delivery.status}` };
  if (delivery.late) return { ok: true, warning: `The app took ${delivery.durationMs} ms; Slack gives up after 3 s` };
  return { ok: true };
}

/**
 * The sandbox page: `/` and its assets, a state snapshot per person, live updates over
 * Server-Sent Events, and the endpoints its clicks, submissions and commands go through; those
 * reach the app as signed Slack payloads via the same user actions tests use.
 */
export function pageRoutes({ workspace: ws, link, logger }: PageRouteOptions): { routes: Route[]; close: () => void } {
  const log = logger.child({ component: 'slack-sandbox-page' });
  const streams = new Set<ServerResponse>();

  async function serveAsset(res: ServerResponse, name: string): Promise<void> {
    const type = ASSETS[name];
    if (!type) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    const content = await readFile(`${ASSETS_DIR}${name}`);
    res.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      ...(name === 'index.html' ? { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' } : {}),
    });
    res.end(content);
  }

  function snapshot(userId: string): Json {
    ws.user(userId);
    const dm = ws.openDm(userId);
    // As in Slack's sidebar: the conversations the person is in.
    const channels = [...ws.channels.values()].filter((channel) => channel.members.includes(userId));
    const messages: Record<string, unknown[]> = {};
    for (const channel of channels) messages[channel.id] = ws.allMessages(channel.id).slice(-PAGE_MESSAGES);
    const stack = ws.modalStack(userId);
    return {
      team: ws.team,
      bot: { user_id: ws.bot.user_id, name: ws.bot.name },
      me: userId,
      users: [...ws.users.values()].map((user) => ({
        id: user.id,
        name: user.name,
        real_name: user.real_name,
        title: user.title,
        is_admin: user.is_admin,
        is_owner: user.is_owner,
        is_bot: user.is_bot,
      })),
      usergroups: [...ws.usergroups.values()].map((group) => ({
        id: group.id,
        handle: group.handle,
        name: group.name,
      })),
      channels: channels.map((channel) => ({
        id: channel.id,
        name: channel.name,
        is_private: channel.is_private,
        is_im: channel.is_im,
        is_mpim: channel.is_mpim,
        purpose: channel.purpose,
        topic: channel.topic,
        members: channel.members.length,
      })),
      dm: dm.id,
      messages,
      ephemerals: ws.ephemeralsFor(userId),
      modal: viewForPage(stack.at(-1), stack.length),
      home: viewForPage(ws.home(userId)),
      problems: link.deliveries
        .filter((delivery) => delivery.status !== 200 || delivery.late || delivery.error)
        .slice(-5)
        .map((delivery) => ({ time: delivery.time, kind: delivery.kind, ...outcome(delivery) })),
    };
  }

  async function readJson(req: IncomingMessage): Promise<Json> {
    const raw = await readBody(req, 1024 * 1024);
    return raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Json) : {};
  }

  /** Wraps a page endpoint: JSON in, JSON out, mistakes (unknown user, view gone) answered as 400. */
  function endpoint(run: (body: Json) => Promise<Json>) {
    return async (req: IncomingMessage, res: ServerResponse) => {
      let body: Json;
      try {
        body = await readJson(req);
      } catch {
        sendJson(res, 400, { ok: false, error: 'Expected a JSON body' });
        return;
      }
      try {
        sendJson(res, 200, await run(body));
      } catch (err) {
        log.warn({ err }, 'sandbox page request failed');
        sendJson(res, 400, { ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    };
  }

  /** Copies what the person typed into the view state, skipping inputs the view no longer has. */
  function syncValues(view: SandboxView, values: unknown): void {
    if (!values || typeof values !== 'object') return;
    for (const [blockId, actions] of Object.entries(values as Record<string, Record<string, unknown>>)) {
      for (const [actionId, value] of Object.entries(actions ?? {})) {
        try {
          view.state.values = applyValues(view.blocks, view.state.values, {
            [blockId]: { [actionId]: value as FriendlyValues[string] as never },
          });
        } catch {
          // The view changed under the page (views.update): that input is gone.
        }
      }
    }
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'close',
    });
    res.write('retry: 500\n\n');
    streams.add(res);
    const unsubscribe = ws.onChange((change) => res.write(`data: ${JSON.stringify(change)}\n\n`));
    const lifetime = setTimeout(() => res.end(), STREAM_LIFETIME_MS);
    lifetime.unref();
    const stop = () => {
      clearTimeout(lifetime);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  }

  function avatar(res: ServerResponse, file: string): void {
    const id = file.replace(/\.svg$/, '');
    const user = ws.users.get(id);
    const letter = (user?.real_name ?? '?')
      .charAt(0)
      .toUpperCase()
      .replace(/[^A-Z0-9]/, '?');
    const hue = [...id].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 360;
    res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=3600' });
    res.end(
      `<svg xmlns="http://www.w3.org/2000/svg" width="72" height="72"><rect width="72" height="72" rx="12" fill="hsl(${hue},45%,45%)"/><text x="36" y="48" font-family="sans-serif" font-size="36" fill="#fff" text-anchor="middle">${letter}</text></svg>`,
    );
  }

  const routes: Route[] = [
    { method: 'GET', path: '/', handler: (_req, res) => serveAsset(res, 'index.html') },
    { method: 'GET', path: '/sandbox/assets/:file', handler: (_req, res, params) => serveAsset(res, params.file!) },
    { method: 'GET', path: '/sandbox/avatar/:file', handler: (_req, res, params) => avatar(res, params.file!) },
    {
      method: 'GET',
      path: '/archives/:channel/:message',
      handler: (req, res, params) => {
        const ts = params.message!.replace(/^p(\d+)(\d{6})$/, '$1.$2');
        const threadTs = new URL(req.url ?? '/', 'http://localhost').searchParams.get('thread_ts');
        const hash = new URLSearchParams({
          channel: params.channel!,
          ts,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
        res.writeHead(302, { location: `/#${hash}` });
        res.end();
      },
    },
    {
      method: 'GET',
      path: '/sandbox/api/state',
      handler: (req, res) => {
        const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user') ?? '';
        if (!ws.users.has(user)) return sendJson(res, 400, { ok: false, error: `No user ${user}` });
        sendJson(res, 200, snapshot(user), { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      path: '/sandbox/api/people',
      handler: (_req, res) =>
        sendJson(res, 200, {
          users: [...ws.users.values()].map(({ id, name, real_name, title, is_bot }) => ({
            id,
            name,
            real_name,
            title,
            is_bot,
          })),
        }),
    },
    { method: 'GET', path: '/sandbox/api/events', handler: events },
    {
      method: 'POST',
      path: '/sandbox/api/command',
      handler: endpoint(async (body) => {
        const session = ws.as(String(body.user));
        const text = String(body.text ?? '').trim();
        const channel = String(body.channel ?? '');
        if (text.startsWith('/')) {
          const [command = '', ...rest] = text.split(/\s+/);
          return outcome(await session.runCommand(command, typedText(ws, rest.join(' ')), { channel }));
        }
        if (!text) return { ok: true };
        const threadTs = typeof body.threadTs === 'string' ? body.threadTs : undefined;
        const { deliveries } = await session.say(channel, typedText(ws, text), threadTs ? { threadTs } : {});
        return outcome(deliveries.find((delivery) => delivery.status !== 200) ?? deliveries[0] ?? null);
      }),
    },
    {
      method: 'POST',
      path: '/sandbox/api/action',
      handler: endpoint(async (body) => {
        const session = ws.as(String(body.user));
        const actionId = String(body.actionId);
        const target = body.target as { viewId?: string; channel?: string; ts?: string };
        if (target.viewId) {
          const view = ws.views.get(target.viewId);
          if (!view) throw new Error('That view is closed');
          syncValues(view, body.values);
        }
        const where = target.viewId
          ? { viewId: target.viewId }
          : { channel: String(target.channel), ts: String(target.ts) };
        const value = (body.value ?? null) as string | string[] | null;
        if (body.kind === 'button') return outcome(await session.clickButton(where, actionId));
        if (body.kind === 'overflow') return outcome(await session.selectOverflow(where, actionId, String(value)));
        return outcome(await session.choose(where, actionId, value));
      }),
    },
    {
      method: 'POST',
      path: '/sandbox/api/view/submit',
      handler: endpoint(async (body) => {
        const session = ws.as(String(body.user));
        const view = ws.views.get(String(body.viewId));
        if (!view) throw new Error('That view is closed');
        syncValues(view, body.values);
        const result = await session.submitView({}, view.id);
        return { ...outcome(result), responseAction: result.responseAction };
      }),
    },
    {
      method: 'POST',
      path: '/sandbox/api/view/close',
      handler: endpoint(async (body) => outcome(await ws.as(String(body.user)).closeView(String(body.viewId)))),
    },
    {
      method: 'POST',
      path: '/sandbox/api/home',
      handler: endpoint(async (body) => outcome(await ws.as(String(body.user)).openHome())),
    },
    {
      method: 'POST',
      path: '/sandbox/api/ephemeral/dismiss',
      handler: endpoint(async (body) => {
        ws.deleteEphemeral(String(body.ts));
        return { ok: true };
      }),
    },
  ];

  return {
    routes,
    close: () => {
      for (const stream of streams) stream.end();
      streams.clear();
    },
  };
}
