import { Webhook } from 'standardwebhooks';
import type { Database } from '../../src/db/database.js';
import { createSource } from '../../src/sources/sources.js';
import { sampleText } from './texts.js';

/**
 * Data timestamps start here rather than at the wall clock, so two runs store the same rows. Only
 * what must be current is (the webhook signature's timestamp, which Standard Webhooks checks).
 */
export const BENCH_EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);

const BENCH_ACTOR = { kind: 'system', name: 'bench' } as const;

/** A signed-webhook source; its secret signs the bench's requests. */
export async function createWebhookSource(db: Database, name: string): Promise<{ id: number; secret: string }> {
  const source = await createSource(db, BENCH_ACTOR, { name, kind: 'webhook' });
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

/** Posts items to `POST /ingest/:source` signed as the Standard Webhooks spec says, as a sender's integration would. */
export class WebhookSender {
  private readonly signer: Webhook;

  constructor(
    private readonly baseUrl: string,
    private readonly sourceName: string,
    secret: string,
  ) {
    this.signer = new Webhook(secret);
  }

  /** Sends one item; answers the status and the milliseconds from sending to the end of the response. */
  async post(item: WebhookItem): Promise<{ status: number; ms: number }> {
    const payload = JSON.stringify(item);
    const id = `msg_${item.id}`;
    const at = new Date();
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}/ingest/${this.sourceName}`, {
      method: 'POST',
      body: payload,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.signer.sign(id, at, payload),
      },
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  }
}
