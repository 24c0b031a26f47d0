import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * `src/main.ts` as `npm start` runs it, in a process of its own: the command line, `.env`, the
 * sandbox banner, and signals (during start-up and once running).
 */

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

interface Run {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the first log line matching, or rejects when the process exits first. */
  line: (match: (line: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-main-'));
  dirs.push(dir);
  return dir;
}

function start(args: string[], options: { cwd: string; env?: Record<string, string> }): Run {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...options.env };
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: options.cwd, env });
  running.push(child);
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    match: (line: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts.filter(Boolean)) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(part) as Record<string, unknown>;
      } catch {
        line = { msg: part };
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exit,
    line: (match) =>
      new Promise((resolve, reject) => {
        const found = lines.find(match);
        if (found) return resolve(found);
        waiters.push({ match, resolve });
        void exit.then(({ code }) => reject(new Error(`exited (${code}) first; stderr: ${stderr}`)));
      }),
  };
}

describe('npm start (src/main.ts)', () => {
  it('refuses a bad --demo-speed with the usage', async () => {
    const run = start(['--demo-speed', 'fast'], { cwd: tempDir() });
    expect((await run.exit).code).toBe(64);
    expect(run.stderr()).toContain('--demo-speed expects a positive number, got "fast"');
    expect(run.stderr()).toContain('Usage: npm start -- [--demo-speed <n>] [--no-demo]');
  });

  it('reads .env (the environment wins), prints the sandbox banner, and stops cleanly on SIGTERM', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, '.env'), 'EARSHOT_DATA_DIR=./from-dotenv\nPORT=1\nLOG_LEVEL=info\n');
    const run = start(['--no-demo'], { cwd, env: { PORT: '0' } });
    const banner = await run.line((line) => String(line.msg).startsWith('Sandbox mode'));
    expect(banner.msg).not.toContain('demo feed');
    const url = String(banner.url);
    expect(url).toMatch(/^http:\/\/localhost:\d+$/);
    expect(url).not.toBe('http://localhost:1');
    const ready = await fetch(`${url.replace('localhost', '127.0.0.1')}/readyz`);
    expect(ready.status).toBe(200);
    expect(existsSync(join(cwd, 'from-dotenv', 'sandbox', 'PG_VERSION'))).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.lines.some((line) => line.msg === 'stopped')).toBe(true);
  }, 120_000);

  it('handles a signal that arrives during start-up: it exits 0, having closed what it opened', async () => {
    const run = start(['--no-demo'], { cwd: tempDir(), env: { PORT: '0', EARSHOT_DATA_DIR: './data' } });
    // The server listens before the database opens and migrates: the signal lands in start-up.
    await run.line((line) => line.msg === 'listening');
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.lines.some((line) => line.msg === 'stopped before start-up finished' || line.msg === 'stopped')).toBe(
      true,
    );
  }, 120_000);
});
