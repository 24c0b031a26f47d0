import { parseArgs } from 'node:util';
import { type Earshot, StartAbortedError, startEarshot } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { loadEnvFile } from './env-file.js';
import { createLogger } from './logger.js';

const USAGE = `Usage: npm start -- [--demo-speed <n>] [--no-demo]

  --demo-speed <n>  sandbox mode: replay the demo feed n times faster (default 1)
  --no-demo         sandbox mode: no demo feed; post your own through the signed webhook`;

/** The command line: only sandbox mode's demo feed is controlled here; everything else is configuration. */
function readArgs(args: string[]): { demo: { speed: number } | false } {
  const { values } = parseArgs({
    args,
    options: {
      'demo-speed': { type: 'string' },
      'no-demo': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  if (values['no-demo']) return { demo: false };
  const raw = values['demo-speed'];
  const speed = raw === undefined ? 1 : Number(raw);
  if (!Number.isFinite(speed) || speed <= 0)
    throw new UsageError(`--demo-speed expects a positive number, got "${raw}"`);
  return { demo: { speed } };
}

class UsageError extends Error {}

/** The composition root: .env → config → logger → Earshot → signals. Nothing else reads the environment. */
async function main(): Promise<void> {
  let args: ReturnType<typeof readArgs>;
  try {
    args = readArgs(process.argv.slice(2));
  } catch (err) {
    const message = err instanceof UsageError ? err.message : err instanceof Error ? err.message : String(err);
    console.error(message ? `${message}\n\n${USAGE}` : USAGE);
    process.exit(message ? 64 : 0);
  }
  loadEnvFile();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\n\nSee .env.example and the configuration table in README.md.`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, pretty: process.stdout.isTTY === true });

  // Installed before anything is opened: a signal during migrations aborts the start-up, which
  // closes what it opened; a signal once running stops in order.
  const abort = new AbortController();
  let earshot: Earshot | undefined;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 20 s; exiting anyway');
      process.exit(1);
    }, 20_000);
    force.unref();
    abort.abort();
    if (!earshot) return;
    earshot.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  try {
    earshot = await startEarshot(config, logger, { demo: args.demo, signal: abort.signal });
  } catch (err) {
    if (err instanceof StartAbortedError) {
      logger.info('stopped before start-up finished');
      process.exit(0);
    }
    logger.fatal({ err }, 'Earshot failed to start');
    process.exit(1);
  }
  // A signal that arrived in the last moment of start-up found nothing to stop yet.
  if (abort.signal.aborted) {
    await earshot.stop();
    process.exit(0);
  }
}

main().catch((err: unknown) => {
  console.error('Earshot failed to start:', err);
  process.exit(1);
});
