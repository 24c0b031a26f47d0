import { sealerFromConfig } from '../db/sealed.js';
import { createXUserAuth } from '../ingest/x/user-auth.js';
import type { ModuleFactory } from '../module.js';
import { metricsOf } from '../observability/metrics.js';
import { createReplyWorker, type ReplyWorker } from './deliver.js';

/**
 * Delivers recorded replies to X and to webhook reply endpoints on every replica (claims are
 * race-free). Registers the `replies` service: call `poke()` after `recordReply` to send at once.
 */
export const repliesModule: ModuleFactory = (ctx) => {
  const worker: ReplyWorker = createReplyWorker({
    db: ctx.db,
    logger: ctx.logger,
    xUser: createXUserAuth({ db: ctx.db, config: ctx.config, logger: ctx.logger }),
    sealer: sealerFromConfig(ctx.config),
    metrics: metricsOf(ctx.services),
  });
  ctx.services.set('replies', worker);
  return {
    name: 'replies',
    start: async () => worker.start(),
    stop: () => worker.stop(),
  };
};
