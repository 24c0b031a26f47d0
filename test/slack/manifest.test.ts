import { readFileSync } from 'node:fs';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { SLACK_EVENTS_PATH } from '../../src/slack/app.js';
import type { SlackDeps } from '../../src/slack/deps.js';
import { ACTIONS, SLASH_COMMAND, VIEWS } from '../../src/slack/ids.js';
import { registerListeners } from '../../src/slack/listeners/index.js';

interface Manifest {
  features: { slash_commands: { command: string; url?: string }[]; app_home: { home_tab_enabled: boolean } };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled: boolean;
  };
}

const read = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../manifests/${name}`, import.meta.url), 'utf8')) as Manifest;
const manifests = { http: read('slack-app.json'), socket: read('slack-app.socket-mode.json') };

/** What the listeners register, read off a stand-in for Bolt's registration methods. */
function registered() {
  const found = {
    actions: new Set<string>(),
    views: new Set<string>(),
    commands: new Set<string>(),
    events: new Set<string>(),
  };
  const id = (constraint: unknown, key: string): string => {
    if (typeof constraint === 'string') return constraint;
    const value = (constraint as Record<string, unknown>)[key];
    if (typeof value !== 'string') throw new Error(`listener registered with a non-literal ${key}: ${String(value)}`);
    return value;
  };
  const recorder = {
    action: (c: unknown) => found.actions.add(id(c, 'action_id')),
    view: (c: unknown) => found.views.add(id(c, 'callback_id')),
    command: (c: unknown) => found.commands.add(id(c, 'command')),
    event: (c: unknown) => found.events.add(id(c, 'type')),
    use: () => {},
    options: () => {},
    shortcut: () => {},
    message: () => {},
    error: () => {},
  };
  const deps = {
    db: {},
    config: loadConfig({}),
    logger: createLogger({ level: 'silent' }),
    client: {},
    resolveActor: async () => ({ kind: 'system', name: 'test' }),
    refreshCard: async () => {},
    wakeDelivery: () => {},
  } as unknown as SlackDeps;
  registerListeners(recorder as unknown as App, deps);
  return found;
}

/**
 * Ids declared in src/slack/ids.ts whose listeners belong to work still in flight. The test fails
 * once one of them is handled, so this list only shrinks.
 */
const NOT_YET_HANDLED = new Set<string>([
  // The declare-incident modal (crisis alerts).
  VIEWS.incident,
]);

/** Views that only display (no submit), so nothing listens for their callback_id. */
const DISPLAY_ONLY_VIEWS = new Set<string>([VIEWS.fullText, VIEWS.digest]);

describe('the Slack app manifest, ids.ts and the registered listeners agree', () => {
  const found = registered();

  it('declares the one slash command, and the code handles it', () => {
    for (const manifest of Object.values(manifests)) {
      expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([SLASH_COMMAND]);
    }
    if (!NOT_YET_HANDLED.has(SLASH_COMMAND)) expect([...found.commands]).toEqual([SLASH_COMMAND]);
    for (const command of found.commands) expect(command).toBe(SLASH_COMMAND);
  });

  it('sends events, interactivity and the command to the route Earshot serves (HTTP), or uses Socket Mode', () => {
    const { http, socket } = manifests;
    const urls = [
      http.settings.event_subscriptions.request_url,
      http.settings.interactivity.request_url,
      ...http.features.slash_commands.map((c) => c.url),
    ];
    for (const url of urls) expect(new URL(url ?? '').pathname).toBe(SLACK_EVENTS_PATH);
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(socket.settings.event_subscriptions.request_url).toBeUndefined();
    for (const manifest of Object.values(manifests)) {
      expect(manifest.settings.interactivity.is_enabled).toBe(true);
      expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    }
  });

  it('subscribes to exactly the events the listeners handle', () => {
    for (const manifest of Object.values(manifests)) {
      const subscribed = new Set(manifest.settings.event_subscriptions.bot_events);
      for (const event of found.events)
        expect(subscribed, `listener for ${event} but no subscription`).toContain(event);
      for (const event of subscribed) {
        if (!NOT_YET_HANDLED.has(event))
          expect(found.events, `subscribed to ${event} but no listener`).toContain(event);
      }
    }
  });

  it('has a listener for every action_id in ids.ts and no listener for an id ids.ts does not declare', () => {
    const declared = new Set<string>(Object.values(ACTIONS));
    for (const action of found.actions) expect(declared, `unknown action_id ${action}`).toContain(action);
    for (const action of declared) {
      if (NOT_YET_HANDLED.has(action))
        expect(found.actions, `${action} is handled now: drop it from NOT_YET_HANDLED`).not.toContain(action);
      else expect(found.actions, `no listener for action_id ${action}`).toContain(action);
    }
  });

  it('has a listener for every modal callback_id that submits, and none for undeclared ones', () => {
    const declared = new Set<string>(Object.values(VIEWS));
    for (const view of found.views) expect(declared, `unknown callback_id ${view}`).toContain(view);
    for (const view of declared) {
      if (DISPLAY_ONLY_VIEWS.has(view)) continue;
      if (NOT_YET_HANDLED.has(view))
        expect(found.views, `${view} is handled now: drop it from NOT_YET_HANDLED`).not.toContain(view);
      else expect(found.views, `no listener for callback_id ${view}`).toContain(view);
    }
  });

  it('asks for the scopes the code uses', () => {
    for (const manifest of Object.values(manifests)) {
      const scopes = new Set(manifest.oauth_config.scopes.bot);
      for (const scope of [
        'chat:write',
        'chat:write.public',
        'commands',
        'users:read',
        'im:write',
        'channels:read',
        'groups:read',
      ]) {
        expect(scopes, scope).toContain(scope);
      }
      if (found.events.has('app_mention')) expect(scopes).toContain('app_mentions:read');
    }
  });
});
