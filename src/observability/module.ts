import { count, eq } from 'drizzle-orm';
import { MIGRATIONS_FOLDER } from '../db/paths.js';
import { outbox } from '../db/schema/index.js';
import type { ModuleFactory } from '../module.js';
import { createMetrics } from './metrics.js';
import { migrationsCheck } from './readiness.js';

/**
 * `GET /metrics` in Prometheus text format, and the `migrations` readiness check; registers the
 * `metrics` service, which the modules after it record into. List it first in src/modules.ts.
 */
export const observabilityModule: ModuleFactory = (ctx) => {
  const metrics = createMetrics();
  ctx.services.set('metrics', metrics);
  return {
    name: 'observability',
    readiness: [migrationsCheck(ctx.db, MIGRATIONS_FOLDER)],
    routes: [
      {
        method: 'GET',
        path: '/metrics',
        handler: async (_req, res) => {
          // The backlog is read from the database at scrape time, so every replica reports the same truth.
          const [row] = await ctx.db.select({ n: count() }).from(outbox).where(eq(outbox.status, 'pending'));
          metrics.outboxBacklog.set(row?.n ?? 0);
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(await metrics.registry.metrics());
        },
      },
    ],
  };
};
