import type { Config } from './config.js';
import type { DatabaseHandle } from './db/client.js';
import type { Database } from './db/database.js';
import type { ReadinessCheck } from './http/probes.js';
import type { Route } from './http/router.js';
import type { Logger } from './logger.js';

/** What the composition root hands every feature module. */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  db: Database;
  /** Identifies this process among replicas (job runs, leases). */
  instanceId: string;
  /** The app's own base URL (http://127.0.0.1:PORT): the server listens before the modules are built. */
  baseUrl: () => string;
  /** Services modules expose to each other by name, filled in module order (see src/modules.ts). */
  services: Map<string, unknown>;
  /** Set when Earshot runs against its local Slack sandbox (no SLACK_BOT_TOKEN); null with a real workspace. */
  sandbox: SandboxRun | null;
}

/** How this sandbox run goes: the demo feed's pace (posts per natural interval × speed), or no demo. */
export interface SandboxRun {
  demo: { speed: number } | null;
}

/**
 * A feature's part in the running app: routes on the shared HTTP server, readiness checks, and
 * background work started after the server listens and stopped, in reverse order, at shutdown.
 */
export interface EarshotModule {
  name: string;
  routes?: Route[];
  readiness?: ReadinessCheck[];
  start?: () => Promise<void>;
  /** Finish in-flight work, then release resources. */
  stop?: () => Promise<void>;
}

export type ModuleFactory = (ctx: AppContext) => Promise<EarshotModule | null> | EarshotModule | null;

/** Reads a service another module registered, failing loudly when the module order is wrong. */
export function requireService<T>(ctx: AppContext, name: string): T {
  if (!ctx.services.has(name))
    throw new Error(`service "${name}" is not registered; check the order in src/modules.ts`);
  return ctx.services.get(name) as T;
}
