import { Writable } from 'node:stream';
import type { Database } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { createSlackSandbox, defaultSeed, type SlackCall, type SlackSandbox } from '../../src/sandbox/index.js';
import { addRoutingRule } from '../../src/triage/routing-rules.js';
import { createWebhookSource } from './webhook.js';

export const BENCH_SIGNING_SECRET = 'bench-signing-secret';
export const BENCH_BOT_TOKEN = 'xoxb-bench-token';

/** Slack's posting limit per channel, which the sandbox enforces with 429s during the bench. */
export const SLACK_CHANNEL_LIMIT = { perSecond: 1, burst: 3 };

const quiet = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

const pad = (i: number) => String(i).padStart(2, '0');

/** The bench's card channels (one routed webhook source each) and agents, besides the default workspace. */
export const cardChannel = (i: number) => ({ id: `C0BENCH${pad(i)}`, name: `bench-cards-${pad(i)}` });
export const benchAgent = (i: number) => `U0BENCH${pad(i)}`;

/**
 * A sandbox Slack on its own loopback port for an Earshot process listening on `appPort`, with
 * `channels` card channels and `agents` agents, and Slack's per-channel rate limit switched on.
 */
export async function startBenchSandbox(options: {
  appPort: number;
  channels: number;
  agents: number;
}): Promise<SlackSandbox> {
  const seed = defaultSeed();
  const users = [
    ...seed.users,
    ...Array.from({ length: options.agents }, (_, i) => ({
      id: benchAgent(i),
      name: `agent${pad(i)}`,
      real_name: `Bench Agent ${pad(i)}`,
      title: 'agent',
    })),
  ];
  const everyone = users.map((u) => u.id);
  const sandbox = createSlackSandbox({
    signingSecret: BENCH_SIGNING_SECRET,
    botToken: BENCH_BOT_TOKEN,
    logger: quiet,
    appEventsUrl: `http://127.0.0.1:${options.appPort}/slack/events`,
    seed: {
      users,
      channels: [
        ...seed.channels.map((c) => ({ ...c, members: everyone })),
        ...Array.from({ length: options.channels }, (_, i) => cardChannel(i)),
      ],
    },
  });
  await sandbox.listen();
  sandbox.workspace.enableRateLimit(SLACK_CHANNEL_LIMIT);
  return sandbox;
}

/** The environment that points a spawned Earshot at the sandbox. */
export function slackEnv(sandbox: SlackSandbox): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BENCH_BOT_TOKEN,
    SLACK_SIGNING_SECRET: BENCH_SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl(),
  };
}

/**
 * Webhook sources `bench-s00…`, each routed by a routing rule to its own card channel: Slack allows
 * about one message per second per channel, so a steady 10 items/s needs cards spread over channels.
 */
export async function createRoutedSources(
  db: Database,
  channels: number,
): Promise<{ name: string; secret: string; channel: string }[]> {
  const sources = [];
  for (let i = 0; i < channels; i += 1) {
    const name = `bench-s${pad(i)}`;
    const { secret } = await createWebhookSource(db, name);
    const channel = cardChannel(i).name;
    await addRoutingRule(db, { name: `bench ${name}`, conditions: { source: [name] }, channel, createdBy: 'bench' });
    sources.push({ name, secret, channel });
  }
  return sources;
}

/** The successful chat.postMessage calls, by the ts they answered. */
export function postedMessages(sandbox: SlackSandbox): Map<string, SlackCall> {
  const byTs = new Map<string, SlackCall>();
  for (const call of sandbox.workspace.callsTo('chat.postMessage')) {
    const ts = call.ok ? (call.response as { ts?: unknown } | undefined)?.ts : undefined;
    if (typeof ts === 'string') byTs.set(ts, call);
  }
  return byTs;
}

/**
 * Checks the recorded chat.postMessage calls against Slack's limit: per channel, at most `burst`
 * plus `perSecond` × w messages in any window of w seconds. Answers the worst channel's excess
 * (0 when never above), the most messages any channel got within one second, and the 429s answered.
 */
export function checkChannelLimit(calls: readonly SlackCall[]): {
  excess: number;
  maxPerSecond: number;
  rateLimited: number;
} {
  const byChannel = new Map<string, number[]>();
  let rateLimited = 0;
  for (const call of calls) {
    if (call.method !== 'chat.postMessage') continue;
    if (call.status === 429) rateLimited += 1;
    if (!call.ok) continue;
    const channel = String((call.response as { channel?: unknown }).channel ?? call.args.channel);
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), call.time.getTime()]);
  }
  let excess = 0;
  let maxPerSecond = 0;
  for (const times of byChannel.values()) {
    times.sort((a, b) => a - b);
    for (let i = 0; i < times.length; i += 1) {
      let inSecond = 0;
      for (let j = i; j < times.length; j += 1) {
        const windowMs = times[j]! - times[i]!;
        if (windowMs < 1000) inSecond += 1;
        const allowed = SLACK_CHANNEL_LIMIT.burst + Math.floor((windowMs / 1000) * SLACK_CHANNEL_LIMIT.perSecond);
        excess = Math.max(excess, j - i + 1 - allowed);
        if (windowMs > 30_000) break;
      }
      maxPerSecond = Math.max(maxPerSecond, inSecond);
    }
  }
  return { excess, maxPerSecond, rateLimited };
}
