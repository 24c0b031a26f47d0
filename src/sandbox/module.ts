import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { sealerFromConfig } from '../db/sealed.js';
import type { IngestService } from '../ingest/module.js';
import type { JobScheduler } from '../jobs/scheduler.js';
import type { AppContext, EarshotModule, ModuleFactory } from '../module.js';
import { SLACK_EVENTS_PATH } from '../slack/app.js';
import { ALLOW_LOOPBACK_HTTP } from '../sources/reply-url.js';
import { openSourceSecret } from '../sources/secrets.js';
import { ensureSource, setSourceReplyUrl } from '../sources/sources.js';
import { resolveActor } from '../tickets/agents.js';
import type { Actor, Role } from '../tickets/types.js';
import { createDemoFeed, DEMO_SOURCE, type DemoFeed, loadDemoPosts } from './demo/feed.js';
import { DEMO_REPLY_PATH, type DemoReply, demoReplyEndpoint } from './demo/reply-endpoint.js';
import { seedDemoTemplates } from './demo/templates.js';
import { seedDemoVips } from './demo/vips.js';
import { createSlackSandbox, defaultSeed, SEED, type SlackSandbox, type WorkspaceSeed } from './index.js';

/** The README section that says how to leave the sandbox for a real workspace. */
export const CONNECT_WORKSPACE_SECTION = 'Connect a real workspace';

/** The credentials of one sandbox run: made up at start, never shown, valid only against this sandbox. */
export interface SandboxSecrets {
  signingSecret: string;
  botToken: string;
}

export function newSandboxSecrets(): SandboxSecrets {
  return {
    signingSecret: randomBytes(32).toString('hex'),
    botToken: `xoxb-sandbox-${randomBytes(12).toString('hex')}`,
  };
}

/** Where sandbox mode keeps its embedded database: beside a real workspace's, never in it. */
export function sandboxDataDir(dataDir: string): string {
  return dataDir.startsWith('memory://') ? dataDir : join(dataDir, 'sandbox');
}

/**
 * The configuration sandbox mode runs with, derived from the operator's: Bolt talks to the sandbox's
 * Web API on the app's own server (`SLACK_API_URL`, the production code path) with a made-up token
 * and signing secret, over HTTP (the sandbox delivers to `/slack/events`); the seed admin is an
 * Earshot admin, crisis alerts mention the seed's on-call group, and report charts are served from
 * the app itself.
 */
export function sandboxConfig(config: Config, run: { baseUrl: string; secrets: SandboxSecrets }): Config {
  const baseUrl = run.baseUrl.replace(/\/$/, '');
  return {
    ...config,
    SLACK_BOT_TOKEN: run.secrets.botToken,
    SLACK_SIGNING_SECRET: run.secrets.signingSecret,
    SLACK_APP_TOKEN: undefined,
    SLACK_API_URL: `${baseUrl}/api/`,
    EARSHOT_ADMINS: [...new Set([...config.EARSHOT_ADMINS, SEED.users.admin])],
    EARSHOT_ONCALL_GROUP: config.EARSHOT_ONCALL_GROUP ?? SEED.usergroups.oncall,
    EARSHOT_PUBLIC_URL: baseUrl,
    EARSHOT_DATA_DIR: sandboxDataDir(config.EARSHOT_DATA_DIR),
  };
}

/**
 * Empties the sandbox's database directory before a run. The sandbox's Slack workspace lives in
 * memory, so its database starts fresh with it: tickets never point at cards that are gone. Only a
 * directory that is empty or holds a PGlite database is removed; anything else is refused.
 */
export function resetSandboxData(dir: string): void {
  if (dir.startsWith('memory://') || !existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw new Error(`${dir} is not a sandbox database directory; move it away or set EARSHOT_DATA_DIR elsewhere`);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** The seeded workspace, its three channels named as the config names them. */
export function sandboxSeed(config: Config): WorkspaceSeed {
  const seed = defaultSeed();
  const names: Record<string, string> = {
    [SEED.channels.feedback]: config.EARSHOT_FEEDBACK_CHANNEL,
    [SEED.channels.oncall]: config.EARSHOT_CRISIS_CHANNEL,
    [SEED.channels.leads]: config.EARSHOT_LEADS_CHANNEL,
  };
  // A channel configured by id (C0123…) cannot be a sandbox name: the seeded name stays.
  const asName = (value: string | undefined) =>
    value && !/^[CG][A-Z0-9]{6,}$/.test(value) ? value.replace(/^#/, '') : undefined;
  return { ...seed, channels: seed.channels.map((c) => ({ ...c, name: asName(names[c.id]) ?? c.name })) };
}

const SANDBOX_ACTOR: Actor = { kind: 'system', name: 'sandbox' };

/** The Earshot roles of the seeded people (the admin comes from EARSHOT_ADMINS). */
const SEED_ROLES: Record<string, Role> = {
  [SEED.users.lead]: 'lead',
  [SEED.users.agent1]: 'agent',
  [SEED.users.agent2]: 'agent',
  [SEED.users.viewer]: 'viewer',
};

/** What sandbox mode prints at start: where to look, and how to leave it. */
export function sandboxBanner(options: { port: string; embedded: boolean; demo: boolean }): string {
  return [
    `Sandbox mode: SLACK_BOT_TOKEN is not set, so Earshot runs against a local Slack sandbox${options.embedded ? ' on an embedded database' : ''}${options.demo ? ' with a demo feed' : ''}.`,
    `Open http://localhost:${options.port} to see it. Sandbox data starts fresh at every start.`,
    `To connect a real workspace, see "${CONNECT_WORKSPACE_SECTION}" in README.md.`,
  ].join('\n');
}

/** What the sandbox module offers as `ctx.services.get('sandbox')`. */
export interface SandboxService {
  sandbox: SlackSandbox;
  demo: DemoFeed | null;
  /** Replies the demo customers received, newest last. */
  demoReplies: DemoReply[];
}

async function seedRoles(ctx: AppContext, seed: WorkspaceSeed): Promise<void> {
  for (const user of seed.users) {
    const role = SEED_ROLES[user.id];
    // Registers a person Earshot has not seen with their seed role; a role changed since stays.
    if (role) await resolveActor(ctx.db, user.id, { admins: [], defaultRole: role }, { displayName: user.real_name });
  }
}

/**
 * Waits for the triage of what was posted, then runs one crisis detection tick at once rather than
 * on the cron minute; the tick reads every post received until it starts.
 */
export async function checkForCrisisNow(ctx: AppContext): Promise<void> {
  const ingest = ctx.services.get('ingest') as IngestService | undefined;
  const jobs = ctx.services.get('jobs') as JobScheduler | undefined;
  await ingest?.pipeline.idle();
  if (!jobs) return ctx.logger.warn('no jobs service: the crisis check waits for the next run');
  await jobs.runNow('crisis-detection');
}

/**
 * Sandbox mode (no SLACK_BOT_TOKEN): the local Slack on the app's own server (Web API under /api/,
 * the page at /), the seeded people's roles, and the demo feed replayed through the signed webhook.
 * Registered last, so it starts after everything it feeds and stops before it.
 */
export const sandboxModule: ModuleFactory = (ctx): EarshotModule | null => {
  if (!ctx.sandbox) return null;
  const { config, logger } = ctx;
  const log = logger.child({ component: 'sandbox' });
  if (!config.SLACK_SIGNING_SECRET || !config.SLACK_BOT_TOKEN) throw new Error('sandbox mode needs its derived config');
  const seed = sandboxSeed(config);
  const sandbox = createSlackSandbox({
    signingSecret: config.SLACK_SIGNING_SECRET,
    botToken: config.SLACK_BOT_TOKEN,
    logger,
    seed,
    appEventsUrl: () => `${ctx.baseUrl()}${SLACK_EVENTS_PATH}`,
  });
  let demoSecret: string | null = null;
  const replies = demoReplyEndpoint({ secret: () => demoSecret, logger });
  const demo = ctx.sandbox.demo
    ? createDemoFeed({
        posts: loadDemoPosts(),
        speed: ctx.sandbox.demo.speed,
        runId: `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`,
        secret: () => {
          if (!demoSecret) throw new Error('the demo source has no secret yet');
          return demoSecret;
        },
        ingestUrl: () => `${ctx.baseUrl()}/ingest/${DEMO_SOURCE}`,
        logger,
        afterBurst: () => checkForCrisisNow(ctx),
      })
    : null;
  const service: SandboxService = { sandbox, demo, demoReplies: replies.received };
  ctx.services.set('sandbox', service);

  return {
    name: 'sandbox',
    routes: [...sandbox.routes, ...replies.routes],
    start: async () => {
      await seedRoles(ctx, seed);
      // Replies to the demo source go to this server's stand-in customer channel, over http on loopback.
      const sealer = sealerFromConfig(config);
      const settings = { [ALLOW_LOOPBACK_HTTP]: true };
      await ensureSource(ctx.db, { name: DEMO_SOURCE, kind: 'webhook', settings }, sealer);
      const source = await setSourceReplyUrl(ctx.db, SANDBOX_ACTOR, DEMO_SOURCE, `${ctx.baseUrl()}${DEMO_REPLY_PATH}`);
      demoSecret = source.secret && openSourceSecret(source.secret, sealer);
      if (demo) {
        await seedDemoTemplates(ctx.db, SANDBOX_ACTOR);
        await seedDemoVips(ctx.db, SANDBOX_ACTOR);
      }
      if (config.NODE_ENV === 'production')
        log.warn('NODE_ENV is production but SLACK_BOT_TOKEN is not set: this is the sandbox, not a workspace');
      const port = new URL(ctx.baseUrl()).port;
      log.info(
        { url: `http://localhost:${port}` },
        sandboxBanner({ port, embedded: ctx.database.kind === 'pglite', demo: demo !== null }),
      );
      demo?.start();
    },
    stop: async () => {
      await demo?.stop();
      await sandbox.close();
    },
  };
};
