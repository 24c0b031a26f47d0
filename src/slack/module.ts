import { WebClient } from '@slack/web-api';
import type { AppContext, EarshotModule, ModuleFactory } from '../module.js';
import { metricsOf } from '../observability/metrics.js';
import { slackAuthCheck } from '../observability/readiness.js';
import { getTicket } from '../tickets/queries.js';
import { queueCardRefresh } from '../tickets/timeline.js';
import { createActorResolver } from './actors.js';
import { createSlackApp, type SlackApp, slackClientOptions } from './app.js';
import { createDeliveryWorker, type DeliveryOptions, type DeliveryWorker } from './delivery/worker.js';
import type { SlackDeps } from './deps.js';
import { pruneProcessedSlackEvents } from './event-dedupe.js';
import { registerListeners } from './listeners/index.js';

/** What the Slack module offers other modules as `ctx.services.get('slack')`. */
export interface SlackService {
  /** The bot's Web API client (no automatic retries on 429: callers decide). */
  client: WebClient;
  /** The listeners' dependencies, for modules that add Slack surfaces of their own. */
  deps: SlackDeps;
  bolt: SlackApp;
  delivery: DeliveryWorker;
  refreshCard: (ticketId: number) => Promise<void>;
  wakeDelivery: () => void;
}

export interface SlackModuleOptions {
  /** See SlackAppOptions.processBeforeResponse: tests turn it on. */
  processBeforeResponse?: boolean;
  clientRetries?: number;
  delivery?: Partial<DeliveryOptions>;
  /** Skip starting the delivery loop (tests drive `delivery.runOnce()` themselves). */
  startDelivery?: boolean;
}

/** Reply drafts come from the triage service when a module before this one registered it. */
function suggesterOf(ctx: AppContext): Pick<SlackDeps, 'suggestReply'> {
  const triage = ctx.services.get('triage') as { suggestReply?: SlackDeps['suggestReply'] } | undefined;
  const suggest = triage?.suggestReply;
  return suggest ? { suggestReply: (input) => suggest.call(triage, input) } : {};
}

/**
 * The Slack module: the Bolt app (HTTP route or Socket Mode), its listeners, and the delivery
 * worker that posts and updates cards from the outbox. Without SLACK_BOT_TOKEN it stays out and
 * the app says how to connect a workspace.
 */
export function slackModule(options: SlackModuleOptions = {}): ModuleFactory {
  return (ctx: AppContext): EarshotModule | null => {
    const { config, logger, db } = ctx;
    const token = config.SLACK_BOT_TOKEN;
    if (!token) return null;
    const bolt = createSlackApp({
      config,
      logger,
      ...(options.processBeforeResponse !== undefined ? { processBeforeResponse: options.processBeforeResponse } : {}),
      ...(options.clientRetries !== undefined ? { clientRetries: options.clientRetries } : {}),
    });
    // The worker's own client: 429s come back as errors (it holds the channel itself) and it retries
    // by rescheduling rows, never inside one call.
    const client = new WebClient(token, { ...slackClientOptions(config, logger, 0), rejectRateLimitedCalls: true });
    const delivery = createDeliveryWorker({
      db,
      client,
      logger,
      metrics: metricsOf(ctx.services),
      options: {
        maskPii: config.EARSHOT_MASK_PII,
        fallbackChannel: config.EARSHOT_FEEDBACK_CHANNEL,
        alertChannel: config.EARSHOT_LEADS_CHANNEL,
        digest:
          config.EARSHOT_BURST_THRESHOLD > 0
            ? { threshold: config.EARSHOT_BURST_THRESHOLD, windowMinutes: config.EARSHOT_BURST_WINDOW_MINUTES }
            : null,
        ...options.delivery,
      },
    });
    const refreshCard = async (ticketId: number) => {
      const ticket = await getTicket(db, ticketId);
      if (!ticket) return;
      await queueCardRefresh(db, ticket);
      delivery.wake();
    };
    const deps: SlackDeps = {
      db,
      config,
      logger,
      client,
      // A client with the bot token: Bolt's app.client has none (the app authorizes per request).
      resolveActor: createActorResolver({ db, config, client, logger }),
      refreshCard,
      wakeDelivery: () => delivery.wake(),
      services: ctx.services,
      ...suggesterOf(ctx),
    };
    registerListeners(bolt.app, deps);
    const service: SlackService = { client, deps, bolt, delivery, refreshCard, wakeDelivery: deps.wakeDelivery };
    ctx.services.set('slack', service);

    let prune: NodeJS.Timeout | undefined;
    return {
      name: 'slack',
      routes: bolt.route ? [bolt.route] : [],
      readiness: [slackAuthCheck(client)],
      start: async () => {
        await bolt.start();
        if (options.startDelivery !== false) delivery.start();
        prune = setInterval(() => {
          pruneProcessedSlackEvents(db, new Date(Date.now() - 24 * 3600_000)).catch((err: unknown) =>
            logger.warn({ err }, 'could not prune processed Slack event ids'),
          );
        }, 3600_000);
        prune.unref();
        logger.info({ transport: bolt.transport }, 'Slack app ready');
      },
      stop: async () => {
        clearInterval(prune);
        await delivery.stop();
        await bolt.stop();
      },
    };
  };
}
