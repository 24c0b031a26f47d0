import { type ChildProcess, fork } from 'node:child_process';
import type { Database } from '../../src/db/database.js';
import { webhookSecretKey, webhookSignature } from '../../src/ingest/webhook-signature.js';
import { createSource } from '../../src/sources/sources.js';
import { REPO_ROOT } from './app-process.js';
import { RawHttpClient } from './raw-http.js';
import { sampleText } from './texts.js';

/**
 * Data timestamps start here rather than at the wall clock, so two runs store the same rows. Only
 * what must be current is (the webhook signature's timestamp, which Standard Webhooks checks).
 */
export const BENCH_EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);

const BENCH_ACTOR = { kind: 'system', name: 'bench' } as const;

/** A signed-webhook source; its secret signs the bench's requests. */
export async function createWebhookSource(db: Database, name: string): Promise<{ id: number; secret: string }> {
  const source = await createSource(db, BENCH_ACTOR, { name, kind: 'webhook' }, null);
  return { id: source.id, secret: source.secret! };
}

/** The documented webhook body of item `index` of a run: a distinct customer each, text from the seeded generator. */
export function webhookItem(run: string, index: number, random: () => number) {
  return {
    id: `${run}-${index}`,
    author: { id: `${run}-customer-${index}`, handle: `customer${index}`, followers: Math.floor(random() * 5_000) },
    text: sampleText(random),
    created_at: new Date(BENCH_EPOCH + index * 100).toISOString(),
  };
}

export type WebhookItem = ReturnType<typeof webhookItem>;

/**
 * Posts items to `POST /ingest/:source` signed as the Standard Webhooks spec says, as a sender's
 * integration would, over kept-alive HTTP/1.1 connections. The senders' own CPU is not what the
 * bench measures, and on a shared 2-core machine it comes out of what the server under test could
 * use: so the least client that speaks the protocol (`RawHttpClient`), about half of node:http's CPU
 * per request here (0.1–0.28 ms against 0.19–0.5, measured in the ingest runs) and a fifth of fetch's.
 */
export class WebhookSender {
  private readonly key: Buffer;
  private readonly client: RawHttpClient;
  private readonly path: string;

  constructor(baseUrl: string, sourceName: string, secret: string) {
    this.key = webhookSecretKey(secret);
    this.client = new RawHttpClient(baseUrl);
    this.path = `/ingest/${encodeURIComponent(sourceName)}`;
  }

  /** Sends one item; answers the status and the milliseconds from sending to the end of the response. */
  async post(item: WebhookItem): Promise<{ status: number; ms: number }> {
    const payload = JSON.stringify(item);
    const id = `msg_${item.id}`;
    const seconds = Math.floor(Date.now() / 1000);
    const started = performance.now();
    const status = await this.client.post(
      this.path,
      {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(seconds),
        // node:crypto's HMAC: the `standardwebhooks` package's JavaScript SHA-256 cost the senders four
        // times the CPU. The server verifies every one, and an item it refuses fails the run's check.
        'webhook-signature': webhookSignature(this.key, id, seconds, payload),
      },
      payload,
    );
    return { status, ms: performance.now() - started };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.client.close();
  }
}

/** One item's answer as its sender saw it. */
export interface SentItem {
  status: number;
  ms: number;
}

/** What a sender process posts: to one source, items built batch by batch from one seeded random sequence. */
export interface SenderJob {
  baseUrl: string;
  sourceName: string;
  secret: string;
  seed: number;
  /** In order, each drawing on from where the one before stopped, as `webhookItem` calls on one `random` would. */
  batches: { run: string; count: number }[];
}

/** The messages between the bench and its sender process (bench/lib/sender-process.ts). */
type SenderCommand = { type: 'prepare'; job: SenderJob } | { type: 'send'; batch: number; concurrency: number };
export type SenderRequest = SenderCommand & { id: number };
export type SenderReply = { id: number; sent?: SentItem[]; error?: string };

/**
 * Webhook senders in a Node process of their own, as production's senders are other machines:
 * building and signing bodies, fetch and timing then take nothing from the event loop of the
 * Earshot under test (on this machine they still take a share of the same cores).
 */
export interface SenderProcess {
  /** Builds the job's items in the sender process, ready to send; replaces the job before. */
  prepare(job: SenderJob): Promise<void>;
  /** Posts batch `batch` of the job on `concurrency` lanes; answers every item's status and time, in order. */
  send(batch: number, concurrency: number): Promise<SentItem[]>;
  stop(): Promise<void>;
  /** The process's id, for counting its CPU. */
  pid: number;
}

/** Forks the sender process (node with the TypeScript loader, as the bench runs). */
export async function startSenderProcess(): Promise<SenderProcess> {
  const child: ChildProcess = fork(new URL('./sender-process.ts', import.meta.url), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (sent: SentItem[]) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let exited: Error | undefined;
  child.on('message', (reply: SenderReply) => {
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) call?.reject(new Error(`sender process: ${reply.error}`));
    else call?.resolve(reply.sent ?? []);
  });
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = new Error(`the sender process exited (${code ?? signal})`);
      for (const call of pending.values()) call.reject(exited);
      pending.clear();
      resolve();
    });
  });
  const request = (message: SenderCommand) =>
    new Promise<SentItem[]>((resolve, reject) => {
      if (exited) return reject(exited);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...message, id });
    });
  return {
    pid: child.pid!,
    prepare: async (job) => {
      await request({ type: 'prepare', job });
    },
    send: (batch, concurrency) => request({ type: 'send', batch, concurrency }),
    stop: async () => {
      if (exited) return;
      // It exits once its channel closes; the kill is for one stuck mid-send.
      child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(killer);
    },
  };
}
