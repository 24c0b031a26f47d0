import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from './config.js';
import { type DatabaseHandle, openDatabase } from './db/client.js';
import { MIGRATIONS_FOLDER } from './db/paths.js';
import { probeRoutes } from './http/probes.js';
import { type HttpServer, startHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import type { AppContext, EarshotModule, ModuleFactory } from './module.js';
import { MODULES } from './modules.js';

export interface Earshot {
  context: AppContext;
  database: DatabaseHandle;
  http: HttpServer;
  /** Stops taking work, finishes what is in flight, closes the database. */
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** Replaces the module list, for tests that run part of the app. */
  modules?: readonly ModuleFactory[];
}

/**
 * Builds and starts Earshot from typed config: database and migrations, feature modules, one HTTP
 * server for all their routes, then their background work. `main.ts` calls it for the real process;
 * tests call it to run whole instances side by side.
 */
export async function startEarshot(config: Config, logger: Logger, options: StartOptions = {}): Promise<Earshot> {
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.EARSHOT_DATA_DIR,
    migrationsFolder: MIGRATIONS_FOLDER,
  });
  await database.migrate();
  logger.info(
    { database: database.kind === 'pglite' ? `embedded (PGlite in ${config.EARSHOT_DATA_DIR})` : 'PostgreSQL' },
    'database ready',
  );

  let http: HttpServer | undefined;
  const context: AppContext = {
    config,
    logger,
    database,
    db: database.db,
    instanceId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    baseUrl: () => {
      if (!http) throw new Error('the HTTP server is not listening yet');
      return http.url;
    },
    services: new Map(),
  };

  const modules: EarshotModule[] = [];
  for (const factory of options.modules ?? MODULES) {
    const module = await factory(context);
    if (module) modules.push(module);
  }

  http = await startHttpServer({
    port: config.PORT,
    logger,
    routes: [
      ...probeRoutes([{ name: 'database', check: database.ping }, ...modules.flatMap((m) => m.readiness ?? [])]),
      ...modules.flatMap((m) => m.routes ?? []),
    ],
  });
  logger.info({ url: http.url }, 'listening');

  if (!context.services.has('slack')) {
    logger.warn(
      'Slack is not configured yet: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to connect a workspace (see README).',
    );
  }

  const started: EarshotModule[] = [];
  for (const module of modules) {
    await module.start?.();
    started.push(module);
  }

  let stopping: Promise<void> | undefined;
  const server = http;
  return {
    context,
    database,
    http: server,
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        for (const module of started.reverse()) {
          try {
            await module.stop?.();
          } catch (err) {
            logger.error({ err, module: module.name }, 'module failed to stop cleanly');
          }
        }
        await database.close();
      })();
      return stopping;
    },
  };
}
