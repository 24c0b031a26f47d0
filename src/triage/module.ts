import type { Unlisten } from '../db/client.js';
import type { ModuleFactory } from '../module.js';
import { createTriage, SETTINGS_CHANNEL, SETTINGS_TTL_MS, type TriageService } from './triage-service.js';

/**
 * Triage as one service for the whole app: the embedded classifier is loaded once, and OpenAI's
 * batching, circuit breaker and cache are shared by ingestion, `/earshot route test` and reply
 * drafts. Registers `triage`; list it in src/modules.ts before the modules that use it.
 * It listens for rule and settings changes, so a lead's `/earshot route add` on one replica routes
 * the next item on every replica; where notifications do not arrive (a pooler in transaction mode)
 * the cache's TTL still bounds how long another replica routes by the old rules.
 */
export const triageModule: ModuleFactory = (ctx) => {
  const log = ctx.logger.child({ component: 'triage' });
  const triage: TriageService = createTriage({ config: ctx.config, logger: ctx.logger, db: ctx.db });
  ctx.services.set('triage', triage);
  log.info({ provider: triage.provider, model: triage.model }, 'triage ready');
  let unlisten: Unlisten | null = null;
  return {
    name: 'triage',
    start: async () => {
      try {
        unlisten = await ctx.database.listen(SETTINGS_CHANNEL, triage.settingsChanged, () =>
          triage.settingsChanged(null),
        );
      } catch (err) {
        log.warn(
          { err, ttlSeconds: SETTINGS_TTL_MS / 1000 },
          "cannot LISTEN for rule changes: other replicas' changes apply here within the TTL",
        );
      }
    },
    stop: async () => {
      await unlisten?.();
    },
  };
};

/** The registered triage service, or null when the app runs without the triage module. */
export function triageService(services: ReadonlyMap<string, unknown> | undefined): TriageService | null {
  return (services?.get('triage') as TriageService | undefined) ?? null;
}
