import type { ModuleFactory } from '../module.js';
import { createTriage, type TriageService } from './triage-service.js';

/**
 * Triage as one service for the whole app: the embedded classifier is loaded once, and OpenAI's
 * batching, circuit breaker and cache are shared by ingestion, `/earshot route test` and reply
 * drafts. Registers `triage`; list it in src/modules.ts before the modules that use it.
 */
export const triageModule: ModuleFactory = (ctx) => {
  const triage: TriageService = createTriage({ config: ctx.config, logger: ctx.logger, db: ctx.db });
  ctx.services.set('triage', triage);
  ctx.logger.info({ provider: triage.provider, model: triage.model }, 'triage ready');
  return { name: 'triage' };
};

/** The registered triage service, or null when the app runs without the triage module. */
export function triageService(services: ReadonlyMap<string, unknown> | undefined): TriageService | null {
  return (services?.get('triage') as TriageService | undefined) ?? null;
}
