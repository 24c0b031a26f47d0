import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

/** A working directory with no .env in it: the CLI reads one from where it runs. */
const bare = mkdtempSync(join(tmpdir(), 'earshot-migrate-cwd-'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

/** Runs `npm run db:migrate`'s entry point with only the given environment (plus PATH), in `cwd`. */
function migrateCli(env: Record<string, string>, cwd = bare) {
  return spawnSync(process.execPath, ['--import', TSX, join(root, 'src/db/migrate-cli.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 80_000,
  });
}

describe('db:migrate', () => {
  it('stops on bad configuration with the message naming the variable and exit code 78, no stack', () => {
    const run = migrateCli({ DATABASE_URL: 'mysql://localhost/earshot', PORT: 'eighty' });
    expect(run.status).toBe(78);
    expect(run.stderr).toContain('DATABASE_URL: expected postgres://');
    expect(run.stderr).toContain('PORT');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('migrates the embedded database in EARSHOT_DATA_DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-migrate-'));
    try {
      const run = migrateCli({ EARSHOT_DATA_DIR: join(dir, 'data') });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`embedded database in ${join(dir, 'data')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('reads .env from the working directory as npm start does, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-migrate-'));
    try {
      // Were .env's DATABASE_URL used, the run would stop at config (78): the environment's blank one wins.
      writeFileSync(join(dir, '.env'), 'EARSHOT_DATA_DIR=./from-dotenv\nDATABASE_URL=not-a-database-url\n');
      const run = migrateCli({ DATABASE_URL: '' }, dir);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toBe('Migrations applied to the embedded database in ./from-dotenv.\n');
      expect(existsSync(join(dir, 'from-dotenv', 'PG_VERSION'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
