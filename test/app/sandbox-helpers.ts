import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Earshot, type StartOptions, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { requireService } from '../../src/module.js';
import { DEMO_SOURCE } from '../../src/sandbox/demo/feed.js';
import type { SandboxService } from '../../src/sandbox/module.js';
import { getSourceByName } from '../../src/sources/sources.js';
import { signedHeaders } from '../helpers/webhooks.js';
import { createPostgresDatabase, logSink } from '../slack/harness.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** PGlite always; real PostgreSQL too when TEST_DATABASE_URL is set. */
export const KINDS: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface SandboxApp {
  app: Earshot;
  sandbox: SandboxService;
  /** The JSON log lines the app wrote. */
  lines: Record<string, unknown>[];
  /** EARSHOT_DATA_DIR of this run (a temp directory). */
  dataDir: string;
  /** Posts a customer message through the signed webhook of the demo source, as the demo feed does. */
  post: (body: { id: string; text: string; author?: Record<string, unknown> }) => Promise<Response>;
  close: () => Promise<void>;
}

/**
 * Earshot as `npm start` runs it with nothing configured: every module, sandbox mode, on PGlite in
 * a temp directory (or a fresh PostgreSQL database), on a port of its own.
 */
export async function startSandboxApp(
  options: {
    kind?: DatabaseKind;
    env?: Record<string, string>;
    start?: StartOptions;
    dataDir?: string;
    logger?: Logger;
  } = {},
): Promise<SandboxApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'earshot-sandbox-'));
  const postgres = options.kind === 'postgres' ? await createPostgresDatabase() : null;
  const sink = logSink('info');
  const config = loadConfig({
    PORT: '0',
    EARSHOT_DATA_DIR: dataDir,
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...options.env,
  });
  let app: Earshot;
  try {
    app = await startEarshot(config, options.logger ?? sink.logger, options.start);
  } catch (err) {
    await postgres?.drop();
    throw err;
  }
  const sandbox = requireService<SandboxService>(app.context, 'sandbox');
  return {
    app,
    sandbox,
    lines: sink.lines,
    dataDir,
    post: async ({ id, text, author }) => {
      const source = await getSourceByName(app.context.db, DEMO_SOURCE);
      if (!source?.secret) throw new Error('the demo source is missing');
      const body = JSON.stringify({ id, text, author: { id: `author-${id}`, ...author } });
      const at = new Date();
      return fetch(`${app.http.url}/ingest/${DEMO_SOURCE}`, {
        method: 'POST',
        body,
        headers: signedHeaders(source.secret, `msg_${id}`, body, at),
      });
    },
    close: async () => {
      await app.stop();
      await postgres?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
