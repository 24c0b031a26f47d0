import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root, where `src/main.ts` and the migrations live. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A program run as its own process, as production runs it; memory read from /proc. */
export interface RunningProcess {
  pid: number;
  url: string;
  /** Milliseconds from spawn to the first 200 on the ready path. */
  readyMs: number;
  /** Resident memory now, and its peak so far (VmRSS, VmHWM), in MiB. */
  memory(): { rssMiB: number; peakMiB: number };
  /** The last lines the process wrote, for errors. */
  output(): string;
  stop(): Promise<void>;
}

/** A free loopback port: bound, read and released, for a child that must be told its port up front. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readMemory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/**
 * Spawns `args` with node and `env` (on top of PATH and HOME only, so nothing of the bench's own
 * environment leaks in), then polls `readyPath` until it answers 200.
 */
export async function spawnNode(options: {
  args: string[];
  env: Record<string, string>;
  port: number;
  readyPath: string;
  timeoutMs?: number;
}): Promise<RunningProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? 128 : 0);
      resolve();
    });
  });

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let readyMs: number | undefined;
  while (readyMs === undefined) {
    if (exited !== null) throw new Error(`process exited (${exited}) before ready:\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`not ready within ${options.timeoutMs ?? 60_000} ms:\n${lines.join('\n')}`);
    }
    try {
      const res = await fetch(`${url}${options.readyPath}`);
      await res.arrayBuffer();
      if (res.status === 200) readyMs = performance.now() - started;
    } catch {
      // Not listening yet.
    }
    if (readyMs === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const pid = child.pid!;
  return {
    pid,
    url,
    readyMs,
    memory: () => readMemory(pid),
    output: () => lines.join('\n'),
    stop: async () => {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** Earshot as production starts it (`node --import tsx src/main.ts`, as in the Dockerfile), ready at /readyz. */
export async function spawnEarshot(
  env: Record<string, string>,
  options: { port?: number; timeoutMs?: number } = {},
): Promise<RunningProcess> {
  const port = options.port ?? (await freePort());
  return spawnNode({
    args: ['--import', 'tsx', 'src/main.ts'],
    env: { NODE_ENV: 'production', LOG_LEVEL: 'warn', X_INGEST_MODE: 'off', ...env, PORT: String(port) },
    port,
    readyPath: '/readyz',
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/**
 * The floor for the figures above: node with the same TypeScript loader, answering 200 from a bare
 * HTTP server. What start-up and memory cost before Earshot runs a line of its own.
 */
export async function spawnBareNode(): Promise<RunningProcess> {
  const port = await freePort();
  const program =
    "import { createServer } from 'node:http';" +
    'const server = createServer((_req, res) => res.end("ok")).listen(Number(process.env.PORT), "127.0.0.1");' +
    "process.once('SIGTERM', () => server.close(() => process.exit(0)));";
  return spawnNode({
    args: ['--import', 'tsx', '--input-type=module', '-e', program],
    env: { PORT: String(port) },
    port,
    readyPath: '/',
  });
}
