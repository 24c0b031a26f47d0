/**
 * `npm run import -- <file.jsonl|file.csv> --source <name> [--kind webhook|x] [--live] [--archive-days N]`:
 * loads an export through the ingest pipeline (see src/ingest/import.ts), idempotently, with a
 * progress bar on a terminal and a summary at the end. By default it imports history: answered or
 * older items land on closed tickets without Slack cards or SLA clocks; `--live` makes every item a
 * live ticket. Importing into the live X source (X_SOURCE_NAME) needs `--live`. Items are triaged as
 * they are stored; with `--store-only` they are only stored, and a running Earshot's sweep triages them.
 * An import that stored anything ends by analyzing the tables it filled.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { analyzeImported } from '../src/db/maintenance.js';
import { MIGRATIONS_FOLDER } from '../src/db/paths.js';
import { sealerFromConfig } from '../src/db/sealed.js';
import { loadEnvFile } from '../src/env-file.js';
import {
  DEFAULT_ARCHIVE_DAYS,
  type ImportMode,
  type ImportSummary,
  importFile,
  importRefusal,
} from '../src/ingest/import.js';
import { createIngestPipeline } from '../src/ingest/pipeline.js';
import { assessWith } from '../src/ingest/triage-adapter.js';
import { createLogger } from '../src/logger.js';
import { ensureSource, getSourceByName } from '../src/sources/sources.js';
import { createTriage } from '../src/triage/index.js';

const USAGE =
  'Usage: npm run import -- <file.jsonl|file.csv> --source <name> [--kind webhook|x] [--live] [--archive-days N] [--store-only]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      kind: { type: 'string', default: 'webhook' },
      'store-only': { type: 'boolean' },
      live: { type: 'boolean' },
      'archive-days': { type: 'string', default: String(DEFAULT_ARCHIVE_DAYS) },
      help: { type: 'boolean' },
    },
  });
  const path = positionals[0];
  const sourceName = values.source;
  if (values.help || !path || !sourceName) {
    console.error(USAGE);
    return values.help ? 0 : 64;
  }
  if (!/\.(csv|jsonl|ndjson)$/i.test(path)) {
    console.error(`${path}: expected a .csv or .jsonl file.\n${USAGE}`);
    return 64;
  }
  if (!existsSync(path)) {
    console.error(`${path}: no such file.`);
    return 66;
  }
  if (values.kind !== 'webhook' && values.kind !== 'x') {
    console.error(`--kind must be webhook or x.\n${USAGE}`);
    return 64;
  }
  const archiveDays = Number(values['archive-days']);
  if (!Number.isInteger(archiveDays) || archiveDays < 0) {
    console.error(`--archive-days must be a whole number of days.\n${USAGE}`);
    return 64;
  }
  const live = values.live === true;
  const mode: ImportMode = live ? { kind: 'live' } : { kind: 'archive', afterDays: archiveDays, now: new Date() };

  loadEnvFile();
  const config = loadConfig(process.env);
  const refusal = (existingKind: 'webhook' | 'x' | null) =>
    importRefusal({
      sourceName,
      kind: values.kind as 'webhook' | 'x',
      existingKind,
      live,
      liveXSourceName: config.X_SOURCE_NAME,
    });
  const early = refusal(null);
  if (early) {
    console.error(early);
    return 64;
  }
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.EARSHOT_DATA_DIR,
    migrationsFolder: MIGRATIONS_FOLDER,
  });
  try {
    await database.migrate();
    const { db } = database;
    const refused = refusal((await getSourceByName(db, sourceName))?.kind ?? null);
    if (refused) {
      console.error(refused);
      return 64;
    }
    const source = await ensureSource(db, { name: sourceName, kind: values.kind }, sealerFromConfig(config));
    const assess = values['store-only'] ? null : assessWith(createTriage({ config, logger, db }));
    let processed = 0;
    const pipeline = createIngestPipeline({
      db,
      logger,
      assess,
      groupingWindowMinutes: config.EARSHOT_GROUPING_WINDOW_MINUTES,
      maxTextLength: config.EARSHOT_MAX_TEXT_LENGTH,
      concurrency: config.EARSHOT_INGEST_CONCURRENCY,
    });
    pipeline.onProcessed(() => {
      processed += 1;
    });
    const bar = process.stderr.isTTY ? progressBar() : null;
    const started = Date.now();
    const summary = await importFile(pipeline, {
      path,
      sourceId: source.id,
      mode,
      onProgress: bar ? (done, total, s) => bar(done, total, s) : undefined,
    });
    await pipeline.idle();
    await pipeline.stop();
    if (summary.stored > 0) await analyzeImported(db);
    if (bar) process.stderr.write('\n');
    printSummary(summary, {
      source: source.name,
      live,
      processed,
      triaged: Boolean(assess),
      seconds: (Date.now() - started) / 1000,
    });
    return summary.invalid > 0 && summary.stored + summary.duplicates === 0 ? 65 : 0;
  } finally {
    await database.close();
  }
}

function progressBar() {
  let last = 0;
  return (done: number, total: number, s: ImportSummary) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = total ? Math.round((done / total) * width) : 0;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}  new ${s.stored}  seen ${s.duplicates}  skipped ${s.skipped}  invalid ${s.invalid}`;
    process.stderr.write(`\r${line}`);
  };
}

function printSummary(
  s: ImportSummary,
  info: { source: string; live: boolean; processed: number; triaged: boolean; seconds: number },
): void {
  const lines = [
    `Imported into source "${info.source}" in ${info.seconds.toFixed(1)} s:`,
    `  records read        ${s.read}`,
    `  new items stored    ${s.stored}`,
    info.live
      ? '  as history          none (--live: every item is a live ticket)'
      : `  as history          ${s.archived} (closed, no Slack card, no SLA clock)`,
    `  already there       ${s.duplicates}`,
    `  skipped (outbound)  ${s.skipped}`,
    `  invalid             ${s.invalid}`,
    info.triaged
      ? `  triaged into tickets ${info.processed}`
      : '  not triaged here (--store-only): a running Earshot triages them on its next sweep',
  ];
  for (const error of s.errors) lines.push(`  ! ${error}`);
  console.log(lines.join('\n'));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error('Import failed:', err);
    process.exit(1);
  },
);
