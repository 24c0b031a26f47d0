import { App, type AppOptions, HTTPReceiver } from '@slack/bolt';
import type { ExtendedErrorHandlerArgs } from '@slack/bolt/dist/App.js';
import type { WebClientOptions } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Route } from '../http/router.js';
import type { Logger } from '../logger.js';
import { boltLogger } from './bolt-logger.js';

/** Where Slack sends events, interactivity and slash commands (all three) in HTTP mode. */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackAppOptions {
  config: Config;
  logger: Logger;
  /**
   * HTTP mode: answer Slack only after the listeners finish. Off in production (Earshot is a
   * long-running server: handlers ack first and the rest runs after the response, inside Slack's
   * 3 s). Tests turn it on so a request's effects are complete when its response arrives.
   */
  processBeforeResponse?: boolean;
  /** Retries of the listeners' Web API client; the delivery worker has its own client and retries. */
  clientRetries?: number;
}

export interface SlackApp {
  app: App;
  /** `POST /slack/events` on Earshot's own server; null in Socket Mode. */
  route: Route | null;
  transport: 'http' | 'socket';
  /** Socket Mode connects here; HTTP mode has nothing to start (the route is mounted on the shared server). */
  start: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Web API client settings shared by Bolt's client and the delivery worker's. */
export function slackClientOptions(config: Config, logger: Logger, retries: number): WebClientOptions {
  return {
    ...(config.SLACK_API_URL ? { slackApiUrl: withTrailingSlash(config.SLACK_API_URL) } : {}),
    logger: boltLogger(logger.child({ component: 'slack-web-api' })),
    retryConfig: { retries, factor: 2, minTimeout: 500, maxTimeout: 5000, randomize: true },
    timeout: 30_000,
  };
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * The Bolt app over either transport. HTTP: the real HTTPReceiver (signature check, 5-minute
 * timestamp window, retries' headers) exposed as a route on Earshot's server through its
 * `requestListener`, so Bolt never opens a port. Socket Mode when SLACK_APP_TOKEN is set.
 * The bot identity comes from one `auth.test`, cached, retried after a failure rather than
 * poisoning every later request.
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { config, logger } = options;
  const token = config.SLACK_BOT_TOKEN;
  if (!token) throw new Error('SLACK_BOT_TOKEN is required for the Slack app');
  const log = logger.child({ component: 'slack' });
  const clientOptions = slackClientOptions(config, logger, options.clientRetries ?? 2);

  let identity: Promise<{ botUserId?: string; botId?: string }> | undefined;
  const authorize: NonNullable<AppOptions['authorize']> = async () => {
    identity ??= app.client.auth.test({ token }).then(
      (result) => ({ botUserId: result.user_id, botId: result.bot_id }),
      (err: unknown) => {
        identity = undefined;
        throw err;
      },
    );
    return { botToken: token, ...(await identity) };
  };

  const socket = Boolean(config.SLACK_APP_TOKEN);
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (socket) {
    app = new App({
      socketMode: true,
      appToken: config.SLACK_APP_TOKEN,
      authorize,
      clientOptions,
      logger: boltLogger(logger),
      extendedErrorHandler: true,
    });
  } else {
    const signingSecret = config.SLACK_SIGNING_SECRET;
    if (!signingSecret) throw new Error('SLACK_SIGNING_SECRET is required for Slack over HTTP');
    receiver = new HTTPReceiver({
      signingSecret,
      endpoints: SLACK_EVENTS_PATH,
      processBeforeResponse: options.processBeforeResponse ?? false,
      logger: boltLogger(logger),
      // Anything else reaching the listener is a routing bug on our side: say so plainly.
      dispatchErrorHandler: ({ error, response }) => {
        log.warn({ err: error }, 'Slack receiver could not route a request');
        if (!response.headersSent) {
          response.writeHead(404);
          response.end();
        }
      },
    });
    app = new App({ receiver, authorize, clientOptions, logger: boltLogger(logger), extendedErrorHandler: true });
  }

  // The last line of defence: anything a listener did not turn into a message for the user.
  app.error(async ({ error, body, context }: ExtendedErrorHandlerArgs) => {
    const payload = body as { type?: string; event?: { type?: string }; actions?: { action_id?: string }[] };
    log.error(
      {
        err: (error as { original?: unknown }).original ?? error,
        type: payload?.type,
        event: payload?.event?.type,
        actionId: payload?.actions?.[0]?.action_id,
        userId: context?.userId,
      },
      'Slack listener failed',
    );
  });

  const route: Route | null = receiver
    ? {
        method: 'POST',
        path: SLACK_EVENTS_PATH,
        handler: (req, res) => receiver.requestListener(req, res),
      }
    : null;

  return {
    app,
    route,
    transport: socket ? 'socket' : 'http',
    start: async () => {
      if (socket) await app.start();
    },
    stop: async () => {
      if (socket) await app.stop();
    },
  };
}
