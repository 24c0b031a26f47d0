/**
 * The webhook senders' own process (started by `startSenderProcess`, webhook.ts): it builds, signs
 * and posts the items the bench asks for and answers what each got back.
 */
import { runConcurrently, seededRandom } from './stats.js';
import {
  type SenderJob,
  type SenderReply,
  type SenderRequest,
  type SentItem,
  type WebhookItem,
  WebhookSender,
  webhookItem,
} from './webhook.js';

/** The job being sent, its items built ahead so building is not timed. */
let prepared: { sender: WebhookSender; batches: WebhookItem[][] } | undefined;

function prepare(job: SenderJob): void {
  const random = seededRandom(job.seed);
  prepared?.sender.close();
  prepared = {
    sender: new WebhookSender(job.baseUrl, job.sourceName, job.secret),
    batches: job.batches.map(({ run, count }) => Array.from({ length: count }, (_, i) => webhookItem(run, i, random))),
  };
}

async function send(batch: number, concurrency: number): Promise<SentItem[]> {
  if (!prepared) throw new Error('send before prepare');
  const { sender, batches } = prepared;
  const items = batches[batch] ?? [];
  const sent = new Array<SentItem>(items.length);
  await runConcurrently(items.length, concurrency, async (index) => {
    sent[index] = await sender.post(items[index]!);
  });
  return sent;
}

async function answer(request: SenderRequest): Promise<SenderReply> {
  try {
    if (request.type === 'prepare') {
      prepare(request.job);
      return { id: request.id };
    }
    return { id: request.id, sent: await send(request.batch, request.concurrency) };
  } catch (err) {
    return { id: request.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

process.on('message', async (request: SenderRequest) => {
  process.send?.(await answer(request));
});
// The bench closed the channel (done, or gone): there is no one left to send for.
process.once('disconnect', () => process.exit(0));
