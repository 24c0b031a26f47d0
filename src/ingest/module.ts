import { sealerFromConfig } from '../db/sealed.js';
import { AppError } from '../errors.js';
import type { AppContext, EarshotModule, ModuleFactory } from '../module.js';
import { metricsOf } from '../observability/metrics.js';
import { xStreamCheck } from '../observability/readiness.js';
import { ensureSource } from '../sources/sources.js';
import { createTriage } from '../triage/index.js';
import { type AssessFn, createIngestPipeline, type IngestPipeline } from './pipeline.js';
import { assessWith, type TextAssessor } from './triage-adapter.js';
import { webhookRoutes } from './webhook.js';
import { createXAppClient } from './x/client.js';
import { createXUserAuth } from './x/user-auth.js';
import { createXIngest, type XIngest } from './x/x-ingest.js';

/** What the `ingest` service offers other modules: the pipeline, and X ingestion when it runs here. */
export interface IngestService {
  pipeline: IngestPipeline;
  x: XIngest | null;
}

/**
 * The `triage` service (the triage engine's `createTriage(...)`: `assess(text, context)`) is looked
 * up when an item is processed rather than at start, so the order of the triage and ingest modules
 * does not matter; without one, the triage this module built from config stands in.
 */
function triageOf(ctx: AppContext, fallback: TextAssessor | null): AssessFn {
  const current = () => (ctx.services.get('triage') as TextAssessor | undefined) ?? fallback;
  return async (item, author, source, history) => {
    const triage = current();
    if (!triage) {
      throw new AppError('upstream_failed', 'No triage service is registered; the item waits in the queue.');
    }
    return assessWith(triage)(item, author, source, history);
  };
}

/** What the ingest module needs of the Slack service (src/slack/module.ts): its delivery worker's nudge. */
interface DeliveryWaker {
  delivery?: { wake(channel?: string): void };
}

/**
 * Ingestion: the pipeline (durable receipt, triage queue, sweep), the signed webhook route
 * `POST /ingest/:source`, and X ingestion (stream or polling, on the replica holding the lease)
 * when `X_BEARER_TOKEN` is set. Registers the `ingest` service.
 */
export const ingestModule: ModuleFactory = async (ctx): Promise<EarshotModule> => {
  const { config, db, logger } = ctx;
  // Until a triage module registers the `triage` service, ingestion builds triage itself from config
  // (OpenAI with the embedded classifier as fallback, or the embedded classifier alone).
  const fallback = ctx.services.has('triage') ? null : createTriage({ config, logger, db });
  const pipeline = createIngestPipeline({
    db,
    logger,
    assess: triageOf(ctx, fallback),
    groupingWindowMinutes: config.EARSHOT_GROUPING_WINDOW_MINUTES,
    maxTextLength: config.EARSHOT_MAX_TEXT_LENGTH,
    concurrency: config.EARSHOT_INGEST_CONCURRENCY,
    metrics: metricsOf(ctx.services),
  });

  let x: XIngest | null = null;
  const client = config.X_INGEST_MODE === 'off' ? null : createXAppClient(config);
  if (client) {
    const source = await ensureSource(db, { name: config.X_SOURCE_NAME, kind: 'x' }, null);
    // Without X_ACCOUNT_ID, our account is whoever the reply credentials belong to (users/me).
    const userAuth = config.X_ACCOUNT_ID ? null : createXUserAuth({ db, config, logger });
    x = createXIngest({
      db,
      logger,
      client,
      pipeline,
      sourceId: source.id,
      mode: config.X_INGEST_MODE === 'poll' ? 'poll' : 'stream',
      holder: ctx.instanceId,
      accountId: config.X_ACCOUNT_ID ?? null,
      ...(userAuth ? { resolveAccountId: () => userAuth.accountId() } : {}),
      alertChannel: config.EARSHOT_LEADS_CHANNEL,
      timings: { pollIntervalMs: config.X_POLL_INTERVAL_SECONDS * 1000 },
      metrics: metricsOf(ctx.services),
    });
  }
  // A new ticket's card (or a joined ticket's thread line) is in the outbox once its item commits:
  // tell this process's delivery worker now rather than leave the card to its next poll.
  pipeline.onProcessed((result) => {
    (ctx.services.get('slack') as DeliveryWaker | undefined)?.delivery?.wake(result.ticket.channel);
  });
  const service: IngestService = { pipeline, x };
  ctx.services.set('ingest', service);

  return {
    name: 'ingest',
    routes: webhookRoutes({
      db,
      pipeline,
      logger,
      maxBytes: config.EARSHOT_WEBHOOK_MAX_BYTES,
      sealer: sealerFromConfig(config),
    }),
    readiness: x && config.X_INGEST_MODE === 'stream' ? [xStreamCheck(x)] : [],
    start: async () => {
      pipeline.start();
      await x?.start();
    },
    stop: async () => {
      await x?.stop();
      await pipeline.stop();
    },
  };
};
