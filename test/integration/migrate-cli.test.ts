import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/** Runs `npm run db:migrate`'s entry point with only the given environment (plus PATH). */
function migrateCli(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/db/migrate-cli.ts'], {
    cwd: root,
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
});
