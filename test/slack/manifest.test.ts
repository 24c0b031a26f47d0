import { readFileSync } from 'node:fs';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildCrisisAlertCard } from '../../src/crisis/card.js';
import { createLogger } from '../../src/logger.js';
import { SLACK_EVENTS_PATH } from '../../src/slack/app.js';
import { buildDigestCard, buildDigestModal } from '../../src/slack/blocks/digest-card.js';
import { buildHomeView } from '../../src/slack/blocks/home.js';
import { buildAssignModal } from '../../src/slack/blocks/modals/assign.js';
import { buildCorrectModal } from '../../src/slack/blocks/modals/correct.js';
import { buildEscalateModal } from '../../src/slack/blocks/modals/escalate.js';
import { buildFullTextModal } from '../../src/slack/blocks/modals/full-text.js';
import { buildReplyModal } from '../../src/slack/blocks/modals/reply.js';
import { buildTagModal } from '../../src/slack/blocks/modals/tag.js';
import { buildTicketCard } from '../../src/slack/blocks/ticket-card.js';
import type { SlackDeps } from '../../src/slack/deps.js';
import { ACTIONS, BLOCK_IDS, BLOCKS, INPUTS, OVERFLOW_OPTIONS, SLASH_COMMAND, VIEWS } from '../../src/slack/ids.js';
import { registerListeners } from '../../src/slack/listeners/index.js';
import type { TicketView } from '../../src/tickets/queries.js';
import type { Item, Ticket } from '../../src/tickets/types.js';

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
    /** Overflow option values some listener of the overflow menu handles. */
    overflowValues: new Set<string>(),
  };
  const id = (constraint: unknown, key: string): string => {
    if (typeof constraint === 'string') return constraint;
    const value = (constraint as Record<string, unknown>)[key];
    if (typeof value !== 'string') throw new Error(`listener registered with a non-literal ${key}: ${String(value)}`);
    return value;
  };
  const recorder = {
    action: (c: unknown, ...rest: unknown[]) => {
      const actionId = id(c, 'action_id');
      found.actions.add(actionId);
      for (const middleware of rest) {
        const values = (middleware as { overflowValues?: readonly string[] }).overflowValues;
        if (actionId === ACTIONS.overflow && values) for (const value of values) found.overflowValues.add(value);
      }
    },
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

/** Views that only display (no submit), so nothing listens for their callback_id. */
const DISPLAY_ONLY_VIEWS = new Set<string>([VIEWS.fullText, VIEWS.digest]);

describe('the Slack app manifest, ids.ts and the registered listeners agree', () => {
  const found = registered();

  it('declares the one slash command, and the code handles it', () => {
    for (const manifest of Object.values(manifests)) {
      expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([SLASH_COMMAND]);
    }
    expect([...found.commands]).toEqual([SLASH_COMMAND]);
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
        expect(found.events, `subscribed to ${event} but no listener`).toContain(event);
      }
    }
  });

  it('has a listener for every action_id in ids.ts and no listener for an id ids.ts does not declare', () => {
    const declared = new Set<string>(Object.values(ACTIONS));
    for (const action of found.actions) expect(declared, `unknown action_id ${action}`).toContain(action);
    for (const action of declared) {
      expect(found.actions, `no listener for action_id ${action}`).toContain(action);
    }
  });

  it('has a listener for every modal callback_id that submits, and none for undeclared ones', () => {
    const declared = new Set<string>(Object.values(VIEWS));
    for (const view of found.views) expect(declared, `unknown callback_id ${view}`).toContain(view);
    for (const view of declared) {
      if (DISPLAY_ONLY_VIEWS.has(view)) continue;
      expect(found.views, `no listener for callback_id ${view}`).toContain(view);
    }
  });

  it('has a listener for every overflow option value, and every option the card offers is declared', () => {
    const declared = new Set<string>(Object.values(OVERFLOW_OPTIONS));
    for (const value of declared)
      expect(found.overflowValues, `no listener for overflow option ${value}`).toContain(value);
    for (const value of found.overflowValues) expect(declared, `undeclared overflow option ${value}`).toContain(value);
    for (const card of sampleCards()) {
      for (const value of collectIds(card.blocks).overflowValues) expect(declared).toContain(value);
    }
  });

  it('builds every block_id, action_id and callback_id from ids.ts', () => {
    const actionIds = new Set<string>([...Object.values(ACTIONS), ...Object.values(INPUTS)]);
    const viewIds = new Set<string>(Object.values(VIEWS));
    const blockIds = new Set<string>([...Object.values(BLOCKS), ...Object.values(BLOCK_IDS)]);
    // Ids that carry a number after a declared stem: the card's `ticket_actions:42`, the reply box's revisions.
    const stems = [
      BLOCK_IDS.ticketActionsPrefix,
      BLOCK_IDS.crisisAlertPrefix,
      `${BLOCKS.replyText}.`,
      `${BLOCKS.replyPreview}.`,
    ];
    const seen = { actions: new Set<string>(), blocks: new Set<string>(), views: new Set<string>() };
    const surfaces: { blocks: unknown[]; callback_id?: string }[] = [...sampleCards(), ...sampleViews()];
    for (const surface of surfaces) {
      const ids = collectIds(surface.blocks);
      for (const a of ids.actions) seen.actions.add(a);
      for (const b of ids.blocks) seen.blocks.add(b);
      if (surface.callback_id) seen.views.add(surface.callback_id);
    }
    for (const action of seen.actions) expect(actionIds, `action_id ${action} is not in ids.ts`).toContain(action);
    for (const view of seen.views) expect(viewIds, `callback_id ${view} is not in ids.ts`).toContain(view);
    for (const block of seen.blocks) {
      const declared =
        blockIds.has(block) || stems.some((stem) => block.startsWith(stem) && /^\d+$/.test(block.slice(stem.length)));
      expect(declared, `block_id ${block} is not in ids.ts`).toBe(true);
    }
    // The samples reach the ids in question, so this test can fail.
    expect(seen.blocks).toContain(BLOCK_IDS.replySuggestion);
    expect(seen.blocks).toContain(BLOCK_IDS.digestPaging);
    expect([...seen.blocks].some((b) => b.startsWith(BLOCK_IDS.ticketActionsPrefix))).toBe(true);
    expect([...seen.blocks].some((b) => b.startsWith(BLOCK_IDS.crisisAlertPrefix))).toBe(true);
    expect(seen.actions).toContain(ACTIONS.fullText);
    expect(seen.actions).toContain(ACTIONS.crisisIncident);
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
        // The delivery worker finds a post whose answer was lost by its metadata in the history.
        'channels:history',
        'groups:history',
        'im:history',
      ]) {
        expect(scopes, scope).toContain(scope);
      }
      if (found.events.has('app_mention')) expect(scopes).toContain('app_mentions:read');
    }
  });
});

const NOW = new Date('2026-03-02T12:00:00Z');

/** Ticket cards in the states that change their blocks: new with truncated text, claimed with a failed reply, resolved. */
function sampleCards(): { blocks: unknown[] }[] {
  const ticket = (overrides: Partial<Ticket>): Ticket => ({
    id: 42,
    sourceId: 1,
    authorId: 1,
    conversationId: 'c1',
    status: 'new',
    priority: 'P2',
    priorityReasons: [],
    category: 'complaint',
    sentiment: 'negative',
    sentimentScore: -0.5,
    language: 'en',
    topics: [],
    tags: [],
    triage: {},
    spam: 0,
    assignee: null,
    escalationTier: 0,
    escalationReason: null,
    incidentId: null,
    channel: 'C1',
    slackTs: null,
    itemCount: 2,
    lastCustomerMessageAt: NOW,
    firstResponseDueAt: NOW,
    resolutionDueAt: NOW,
    firstResponseAt: null,
    resolvedAt: null,
    closedAt: null,
    slaPausedAt: null,
    slaPausedSeconds: 0,
    firstResponseSla: 'ok',
    resolutionSla: 'ok',
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  });
  const item = (id: number, text: string): Item =>
    ({
      id,
      sourceId: 1,
      externalId: `x${id}`,
      authorId: 1,
      ticketId: 42,
      parentExternalId: null,
      conversationId: 'c1',
      text,
      url: 'https://x.com/dana/status/1',
      language: 'en',
      raw: {},
      triage: {},
      createdAt: NOW,
      receivedAt: NOW,
      processedAt: NOW,
    }) as unknown as Item;
  const view = (t: Partial<Ticket>): TicketView =>
    ({
      ticket: ticket(t),
      author: {
        id: 1,
        sourceId: 1,
        externalId: 'a',
        handle: 'dana',
        displayName: 'Dana',
        followerCount: 0,
        verified: false,
        vip: false,
      },
      source: { id: 1, name: 'x', kind: 'x', settings: {} },
      items: [item(1, 'long '.repeat(1000)), item(2, 'later '.repeat(500))],
    }) as unknown as TicketView;
  const reply = { id: 7, sentBy: 'U1', status: 'failed' as const, lastError: 'x', parts: 1 };
  return [
    buildTicketCard(view({}), { now: NOW, maskPii: false }),
    buildTicketCard(view({ status: 'claimed', assignee: 'U1' }), { now: NOW, maskPii: false, latestReply: reply }),
    buildTicketCard(view({ status: 'resolved', resolvedAt: NOW }), { now: NOW, maskPii: false }),
    buildDigestCard({
      digestId: 1,
      tickets: [{ id: 1, category: 'complaint', priority: 'P3', topics: [] }],
      windowMinutes: 5,
    }),
    buildCrisisAlertCard({
      id: 7,
      status: 'open',
      acknowledgedBy: null,
      snoozedUntil: null,
      firstSeenAt: NOW,
      lastSeenAt: NOW,
      details: {
        title: 'Volume spike on x',
        kinds: ['volume'],
        topic: null,
        sourceIds: [1],
        sourceNames: ['x'],
        count: 12,
        mean: 2,
        ratio: 6,
        z: 5,
        peakCount: 12,
        windowMinutes: 15,
        topTopics: [],
        topTerms: [],
        samples: [],
        ticketIds: [],
        trend: [1, 12],
      },
    }),
  ];
}

/** Every modal and the App Home, as the builders make them. */
function sampleViews(): { blocks: unknown[]; callback_id?: string }[] {
  const entries = Array.from({ length: 200 }, (_, i) => ({
    id: i + 1,
    priority: 'P3' as const,
    category: 'complaint' as const,
    status: 'new' as const,
    handle: 'dana',
    text: 'x',
  }));
  return [
    buildReplyModal({
      ticketId: 1,
      author: { handle: 'dana', displayName: 'Dana' },
      latestMessage: 'hi',
      source: { kind: 'x', settings: {} },
      templates: [{ id: 1, name: 'refund' }],
      text: 'Sorry! '.repeat(60),
      textRevision: 2,
      suggestion: { text: 'Sorry!', origin: 'template' },
    }),
    buildTagModal({ ticketId: 1, current: ['a'], known: ['a', 'b'] }),
    buildEscalateModal({
      ticketId: 1,
      currentTier: 0,
      currentReason: null,
      userGroups: [{ id: 'S1', handle: 'oncall', name: 'On call' }],
    }),
    buildAssignModal({ ticketId: 1, assignee: null }),
    buildCorrectModal({ id: 1, category: 'complaint', sentiment: 'negative', priority: 'P2' }),
    buildFullTextModal({
      ticketId: 1,
      entries: [{ from: 'customer', who: '@dana', at: NOW, text: 'hi' }],
      maskPii: false,
    }),
    buildDigestModal({ digestId: 1, entries: entries.slice(90, 180), total: 200, offset: 90, maskPii: true }),
    buildHomeView({
      queue: { mine: [], unclaimed: [], slaWarnings: [], totals: { mine: 0, unclaimed: 0, slaWarnings: 0 }, now: NOW },
      excerpts: new Map(),
      maskPii: true,
    }),
  ];
}

/** The ids found anywhere in a list of blocks. */
function collectIds(blocks: unknown): { actions: string[]; blocks: string[]; overflowValues: string[] } {
  const out = { actions: [] as string[], blocks: [] as string[], overflowValues: [] as string[] };
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const v = value as { action_id?: unknown; block_id?: unknown; type?: unknown; options?: { value?: string }[] };
      if (typeof v.action_id === 'string') out.actions.push(v.action_id);
      if (typeof v.block_id === 'string') out.blocks.push(v.block_id);
      if (v.type === 'overflow')
        for (const option of v.options ?? []) if (option.value) out.overflowValues.push(option.value);
      Object.values(value).forEach(walk);
    }
  };
  walk(blocks);
  return out;
}
