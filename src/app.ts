import type { Config } from './config.js';
import { type DatabaseHandle, openDatabase } from './db/client.js';
import { MIGRATIONS_FOLDER } from './db/paths.js';
import { probeRoutes } from './http/probes.js';
import { type HttpServer, startHttpServer } from './http/server.js';
import type { Logger } from './logger.js';

export interface Earshot {
  config: Config;
  database: DatabaseHandle;
  http: HttpServer;
  /** Stops taking work, finishes what is in flight, closes the database. */
  stop: () => Promise<void>;
}

/**
 * Builds and starts Earshot from typed config: database, migrations, HTTP server. `main.ts` calls
 * it for the real process; tests call it to run whole instances side by side.
 */
export async function startEarshot(config: Config, logger: Logger): Promise<Earshot> {
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

  const stoppers: Array<() => Promise<void>> = [];
  const http = await startHttpServer({
    port: config.PORT,
    logger,
    routes: [...probeRoutes([{ name: 'database', check: database.ping }])],
  });
  stoppers.push(http.close);
  logger.info({ url: http.url }, 'listening');

  if (!config.SLACK_BOT_TOKEN) {
    logger.warn(
      'Slack is not configured yet: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to connect a workspace (see README).',
    );
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    database,
    http,
    stop: () => {
      stopping ??= (async () => {
        for (const stop of stoppers.reverse()) await stop();
        await database.close();
      })();
      return stopping;
    },
  };
}
