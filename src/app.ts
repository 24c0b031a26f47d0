import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from './config.js';
import { type DatabaseHandle, openDatabase } from './db/client.js';
import { MIGRATIONS_FOLDER } from './db/paths.js';
import { sealerFromConfig } from './db/sealed.js';
import { probeRoutes, type Readiness } from './http/probes.js';
import { type HttpServer, startHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import type { AppContext, EarshotModule, ModuleFactory, SandboxRun } from './module.js';
import { MODULES } from './modules.js';
import { newSandboxSecrets, resetSandboxData, sandboxConfig } from './sandbox/module.js';
import { sealSourceSecrets } from './sources/secrets.js';

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
  /** Sandbox mode only: replay the demo feed at this speed (1 = as written). Off unless given. */
  demo?: { speed: number } | false;
  /** Aborting (a signal during start-up) stops the start at the next step; what was opened is closed. */
  signal?: AbortSignal;
}

/** Start-up was aborted (a signal arrived before it finished); everything it opened is closed again. */
export class StartAbortedError extends Error {
  override name = 'StartAbortedError';
  constructor() {
    super('start-up was interrupted');
  }
}

/**
 * Builds and starts Earshot from typed config. The HTTP server listens first (so the app knows its
 * own URL, and `/readyz` answers 503 `starting` meanwhile), then the database and migrations, the
 * feature modules, their routes, and their background work; only then is it ready. Without
 * SLACK_BOT_TOKEN it runs in sandbox mode: the same app against a local Slack on its own server,
 * bound to loopback, with a config derived from the operator's (see src/sandbox/module.ts).
 * `main.ts` calls it for the real process; tests call it to run whole instances side by side. A
 * failure or an abort part-way closes whatever was opened, in reverse order, and rejects.
 */
export async function startEarshot(config: Config, logger: Logger, options: StartOptions = {}): Promise<Earshot> {
  const sandbox: SandboxRun | null = config.SLACK_BOT_TOKEN
    ? null
    : { demo: options.demo ? { speed: options.demo.speed } : null };
  const readiness: Readiness = { phase: 'starting', checks: [] };
  const http = await startHttpServer({
    port: config.PORT,
    // The sandbox page lets whoever reaches it act as anyone in the workspace: loopback only, by default.
    ...(sandbox ? { host: config.EARSHOT_SANDBOX_HOST } : {}),
    logger,
    routes: probeRoutes(() => readiness),
  });
  logger.info({ url: http.url }, 'listening');

  let database: DatabaseHandle | undefined;
  const started: EarshotModule[] = [];
  const stopStarted = async () => {
    for (const module of [...started].reverse()) {
      try {
        await module.stop?.();
      } catch (err) {
        logger.error({ err, module: module.name }, 'module failed to stop cleanly');
      }
    }
  };
  const checkAborted = () => {
    if (options.signal?.aborted) throw new StartAbortedError();
  };

  try {
    const effective = sandbox ? sandboxConfig(config, { baseUrl: http.url, secrets: newSandboxSecrets() }) : config;
    if (sandbox && !effective.DATABASE_URL) resetSandboxData(effective.EARSHOT_DATA_DIR);
    database = await openDatabase({
      url: effective.DATABASE_URL,
      dataDir: effective.EARSHOT_DATA_DIR,
      migrationsFolder: MIGRATIONS_FOLDER,
    });
    checkAborted();
    await database.migrate();
    logger.info(
      {
        database: database.kind === 'pglite' ? `embedded (PGlite in ${effective.EARSHOT_DATA_DIR})` : 'PostgreSQL',
      },
      'database ready',
    );
    // Before any module reads a webhook secret: seal what was stored before the key was set (or
    // under the previous key), and refuse to start when sealed secrets cannot be opened.
    await sealSourceSecrets(database.db, sealerFromConfig(effective), logger);
    checkAborted();

    const context: AppContext = {
      config: effective,
      logger,
      database,
      db: database.db,
      instanceId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      baseUrl: () => http.url,
      services: new Map(),
      sandbox,
    };
    const modules: EarshotModule[] = [];
    for (const factory of options.modules ?? MODULES) {
      const module = await factory(context);
      if (module) modules.push(module);
    }
    http.mount(modules.flatMap((m) => m.routes ?? []));
    const handle = database;
    readiness.checks = [{ name: 'database', check: handle.ping }, ...modules.flatMap((m) => m.readiness ?? [])];

    for (const module of modules) {
      checkAborted();
      await module.start?.();
      started.push(module);
    }
    checkAborted();
    readiness.phase = 'ready';
    logger.info({ modules: modules.map((m) => m.name), sandbox: sandbox !== null }, 'Earshot is ready');

    let stopping: Promise<void> | undefined;
    return {
      context,
      database: handle,
      http,
      stop: () => {
        stopping ??= (async () => {
          readiness.phase = 'stopping';
          await http.close();
          await stopStarted();
          await handle.close();
        })();
        return stopping;
      },
    };
  } catch (err) {
    readiness.phase = 'stopping';
    await http.close();
    await stopStarted();
    await database?.close().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'database failed to close'));
    throw err;
  }
}
