import type { Route } from '../http/router.js';
import { type HttpServer, startHttpServer } from '../http/server.js';
import type { Logger } from '../logger.js';
import { pageRoutes } from './page/routes.js';
import { webApiRoutes } from './slack-api/http.js';
import type { WorkspaceSeed } from './slack-api/seed.js';
import { SlackWorkspace } from './slack-api/workspace.js';
import { type AppDelivery, AppLink, type UserSession } from './user-actions.js';

export { signSlackRequest } from './signing.js';
export { BLOCK_KIT_LIMITS, checkBlocks, checkView } from './slack-api/block-limits.js';
export { SlackApiError } from './slack-api/errors.js';
export type { DownMode, FaultSpec, RateLimitSettings } from './slack-api/faults.js';
export { defaultSeed, SEED, type WorkspaceSeed } from './slack-api/seed.js';
export type * from './slack-api/types.js';
export type { FriendlyValues, InputValue } from './slack-api/view-state.js';
export { SlackWorkspace } from './slack-api/workspace.js';
export type { ActionTarget, AppDelivery, DeliveryOptions, SubmitResult, UserSession } from './user-actions.js';
export { AppLink } from './user-actions.js';

export interface SlackSandboxOptions {
  /** The app's signing secret: every request the sandbox sends the app is signed with it. */
  signingSecret: string;
  /** The app's `/slack/events` URL (a function when its port is known only after it listens). */
  appEventsUrl: string | (() => string);
  /** The bot token the app uses; any other token gets `invalid_auth`. */
  botToken: string;
  logger: Logger;
  /** Replaces parts of the default workspace (channels, people, user groups). */
  seed?: Partial<WorkspaceSeed>;
  /**
   * The sandbox's own base URL for the URLs it hands out (response_url, uploads, permalinks).
   * Defaults to the URL `listen()` bound, else the origin of `appEventsUrl` (mounted on the app's server).
   */
  publicUrl?: string | (() => string);
  /** Milliseconds since the epoch; tests may pin it. */
  clock?: () => number;
  /** How long trigger_ids stay valid (default 3 s, as in Slack). */
  triggerTtlMs?: number;
}

export interface SlackSandbox {
  /**
   * Routes for the app's own HTTP server: the Web API under /api/, response and upload URLs, and
   * the page at / with its API under /sandbox/. Mount them only in sandbox mode: the page lets
   * whoever reaches it act as any person in the workspace.
   */
  routes: Route[];
  workspace: SlackWorkspace;
  /** Every request sent to the app and its answer. */
  deliveries: AppDelivery[];
  /** Acts as a person (same as `workspace.as`). */
  as(userId: string): UserSession;
  /** The Web API base for `clientOptions.slackApiUrl` (ends in `/api/`). */
  apiUrl(): string;
  /** Starts a standalone server on loopback (port 0 picks one) for tests; answers its base URL. */
  listen(port?: number): Promise<string>;
  /** Ends the page's live-update streams and stops the standalone server, if any. */
  close(): Promise<void>;
}

/**
 * A local Slack for Earshot: a workspace that answers Slack's Web API wire protocol, sends the app
 * signed payloads when people act, and (mounted on the app's server) shows it all as a page.
 */
export function createSlackSandbox(options: SlackSandboxOptions): SlackSandbox {
  let server: HttpServer | undefined;
  const resolve = (value: string | (() => string)) => (typeof value === 'function' ? value() : value);
  const baseUrl = () => {
    if (server) return server.url;
    if (options.publicUrl) return resolve(options.publicUrl).replace(/\/$/, '');
    return new URL(resolve(options.appEventsUrl)).origin;
  };
  const workspace = new SlackWorkspace({
    baseUrl,
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.triggerTtlMs !== undefined ? { triggerTtlMs: options.triggerTtlMs } : {}),
  });
  const link = new AppLink({
    signingSecret: options.signingSecret,
    appEventsUrl: options.appEventsUrl,
    logger: options.logger,
  });
  workspace.connect(link);
  const page = pageRoutes({ workspace, link, logger: options.logger });
  const routes: Route[] = [
    ...webApiRoutes({ workspace, botToken: options.botToken, logger: options.logger }),
    ...page.routes,
  ];

  return {
    routes,
    workspace,
    deliveries: link.deliveries,
    as: (userId) => workspace.as(userId),
    apiUrl: () => `${baseUrl()}/api/`,
    async listen(port = 0) {
      if (server) return server.url;
      server = await startHttpServer({ port, host: '127.0.0.1', routes, logger: options.logger });
      return server.url;
    },
    async close() {
      page.close();
      const running = server;
      server = undefined;
      if (running) await running.close();
    },
  };
}
