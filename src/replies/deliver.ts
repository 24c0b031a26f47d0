import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { ApiRequestError, ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import type { Database } from '../db/database.js';
import { items, replies, sources, tickets } from '../db/schema/index.js';
import type { Sealer } from '../db/sealed.js';
import { isAppError } from '../errors.js';
import type { XUserAuth } from '../ingest/x/user-auth.js';
import type { Logger } from '../logger.js';
import { outsideLogContext, runWithLogContext } from '../observability/log-context.js';
import type { Metrics } from '../observability/metrics.js';
import { replyUrlProblem, replyUrlRulesFor } from '../sources/reply-url.js';
import { openSourceSecret } from '../sources/secrets.js';
import { recordEvent } from '../tickets/timeline.js';
import type { Actor, Item, Source, Ticket } from '../tickets/types.js';
import { splitReply, weighX, X_POST_LIMIT } from './split.js';

export type Reply = typeof replies.$inferSelect;

const REPLIES_ACTOR: Actor = { kind: 'system', name: 'replies' };

/** What one delivery attempt came to. */
export type DeliveryOutcome =
  | { status: 'sent'; externalIds: string[] }
  | { status: 'retry'; reason: string; retryInMs?: number }
  | { status: 'failed'; reason: string };

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** After this many attempts a transient failure becomes permanent. */
  maxAttempts: number;
}

export const REPLY_RETRY: RetryPolicy = { baseMs: 5_000, maxMs: 15 * 60_000, maxAttempts: 10 };

export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.baseMs * 2 ** Math.max(0, attempt - 1), policy.maxMs);
}

export interface ReplyDeliveryDeps {
  db: Database;
  logger: Logger;
  /** The user-context X credentials (OAuth 1.0a, or an OAuth 2.0 user token, refreshed); null when not configured. */
  xUser: XUserAuth | null;
  /** Opens webhook sources' sealed signing secrets (`EARSHOT_SECRET_KEY`); null when they are stored unsealed. */
  sealer: Sealer | null;
  retry?: RetryPolicy;
  /** How long a claimed reply stays invisible to other workers while it is being sent. */
  claimMs?: number;
  /** Time allowed for a webhook reply endpoint to answer. */
  webhookTimeoutMs?: number;
  /** X's 429s on posting; null records nothing. */
  metrics?: Metrics | null;
}

/**
 * Claims due replies race-free across replicas: `FOR UPDATE SKIP LOCKED` picks rows nobody else
 * holds, and pushing `next_attempt_at` forward hides them until this attempt finishes or times out.
 */
export async function claimDueReplies(db: Database, options: { limit: number; claimMs: number }): Promise<Reply[]> {
  const due = db
    .select({ id: replies.id })
    .from(replies)
    .where(and(eq(replies.status, 'pending'), lte(replies.nextAttemptAt, sql`now()`)))
    .orderBy(asc(replies.nextAttemptAt), asc(replies.id))
    .limit(options.limit)
    .for('update', { skipLocked: true });
  return db
    .update(replies)
    .set({
      attempts: sql`${replies.attempts} + 1`,
      nextAttemptAt: sql`now() + (${options.claimMs} * interval '1 millisecond')`,
    })
    .where(inArray(replies.id, due))
    .returning();
}

/** The customer's latest post in the ticket: what a reply answers. */
async function latestCustomerItem(db: Database, ticketId: number): Promise<Item | null> {
  const [item] = await db
    .select()
    .from(items)
    .where(eq(items.ticketId, ticketId))
    .orderBy(desc(items.createdAt), desc(items.id))
    .limit(1);
  return item ?? null;
}

/** Sorts an X failure: rate limits and server or network trouble are retried; refusals are final. */
export function classifyXFailure(err: unknown): DeliveryOutcome & { status: 'retry' | 'failed' } {
  if (err instanceof ApiResponseError) {
    const detail = err.data?.detail ?? err.data?.title ?? err.message;
    if (err.code === 429) {
      const reset = err.rateLimit?.reset;
      const retryInMs = reset ? Math.max(1_000, reset * 1000 - Date.now()) : undefined;
      return { status: 'retry', reason: `X rate limit: ${detail}`, ...(retryInMs ? { retryInMs } : {}) };
    }
    if (err.code >= 500) return { status: 'retry', reason: `X answered ${err.code}: ${detail}` };
    return { status: 'failed', reason: `X refused the reply (${err.code}): ${detail}` };
  }
  if (err instanceof ApiRequestError) return { status: 'retry', reason: `X unreachable: ${err.requestError.message}` };
  return { status: 'retry', reason: err instanceof Error ? err.message : String(err) };
}

/**
 * Posts a reply on X as a reply to the customer's post; a long reply goes out as a thread, each
 * part answering the one before. Each posted id is stored at once, so a retry resumes after the
 * last part X accepted instead of posting it twice.
 */
async function deliverToX(deps: ReplyDeliveryDeps, reply: Reply, target: Item): Promise<DeliveryOutcome> {
  const auth = deps.xUser;
  if (!auth) {
    return {
      status: 'failed',
      reason: 'X user credentials are not configured (X_API_KEY…, or X_OAUTH2_CLIENT_ID with X_OAUTH2_REFRESH_TOKEN).',
    };
  }
  let client: TwitterApi;
  try {
    client = await auth.client();
  } catch (err) {
    return authFailure(err);
  }
  let reauthorized = false;
  let parts = reply.parts;
  const posted = [...reply.externalIds];
  if (posted.length === 0 && parts.some((part) => weighX(part) > X_POST_LIMIT)) {
    // Parts split for another channel: split again by X's weighting before anything is posted.
    parts = splitReply(reply.text, { limit: X_POST_LIMIT, weigh: weighX });
    await deps.db.update(replies).set({ parts }).where(eq(replies.id, reply.id));
  }
  for (let index = posted.length; index < parts.length; index += 1) {
    const inReplyTo = index === 0 ? target.externalId : posted[index - 1]!;
    try {
      const { data } = await client.v2.reply(parts[index]!, inReplyTo);
      posted.push(data.id);
      await deps.db
        .update(replies)
        .set({ externalIds: [...posted] })
        .where(eq(replies.id, reply.id));
    } catch (err) {
      // An OAuth 2.0 token X no longer takes: refresh once and post this part again.
      if (err instanceof ApiResponseError && err.code === 401 && !reauthorized && auth.rejected(client)) {
        reauthorized = true;
        try {
          client = await auth.client();
        } catch (refreshErr) {
          return authFailure(refreshErr);
        }
        index -= 1;
        continue;
      }
      if (err instanceof ApiResponseError && err.code === 429) deps.metrics?.rateLimited.inc({ service: 'x' });
      const outcome = classifyXFailure(err);
      const where = parts.length > 1 ? ` (part ${index + 1} of ${parts.length})` : '';
      return { ...outcome, reason: `${outcome.reason}${where}` };
    }
  }
  return { status: 'sent', externalIds: posted };
}

/** A failure to get user credentials: a refused refresh is final, trouble reaching X is retried. */
function authFailure(err: unknown): DeliveryOutcome & { status: 'retry' | 'failed' } {
  if (isAppError(err)) return { status: err.retryable ? 'retry' : 'failed', reason: err.message };
  return classifyXFailure(err);
}

/**
 * Where a webhook source takes replies: the item's own `reply_url` (checked again here, for items
 * stored before the intake check), else the source's `settings.replyUrl`.
 */
export function replyEndpoint(source: Source, target: Item | null): { url: string } | { problem: string } | null {
  const raw = target?.raw as { reply_url?: unknown } | null | undefined;
  if (typeof raw?.reply_url === 'string' && raw.reply_url) {
    const problem = replyUrlProblem(raw.reply_url, replyUrlRulesFor(source, true));
    return problem ? { problem: `The item's reply_url ${problem}.` } : { url: raw.reply_url };
  }
  const configured = source.settings?.replyUrl;
  if (typeof configured !== 'string' || !configured) return null;
  const problem = replyUrlProblem(configured, replyUrlRulesFor(source, false));
  return problem ? { problem: `The source's reply URL ${problem}.` } : { url: configured };
}

/**
 * POSTs a reply to the webhook channel's reply endpoint, signed with the source's secret per Standard
 * Webhooks. The message id stays the same across retries so the receiver can deduplicate.
 */
async function deliverToWebhook(
  deps: ReplyDeliveryDeps,
  reply: Reply,
  ticket: Ticket,
  source: Source,
  target: Item | null,
): Promise<DeliveryOutcome> {
  const endpoint = replyEndpoint(source, target);
  if (!endpoint) return { status: 'failed', reason: 'This webhook source has no reply endpoint (settings.replyUrl).' };
  if ('problem' in endpoint) return { status: 'failed', reason: endpoint.problem };
  const { url } = endpoint;
  if (!source.secret) return { status: 'failed', reason: 'This webhook source has no signing secret.' };
  let secret: string;
  try {
    secret = openSourceSecret(source.secret, deps.sealer);
  } catch (err) {
    // A configuration fault (the key is missing or wrong): retried, so the reply goes once it is fixed.
    return { status: 'retry', reason: err instanceof Error ? err.message : String(err) };
  }
  const payload = JSON.stringify({
    type: 'reply',
    id: `reply_${reply.id}`,
    ticket_id: ticket.id,
    in_reply_to: target?.externalId ?? null,
    thread_id: ticket.conversationId,
    text: reply.text,
    parts: reply.parts,
    sent_by: reply.sentBy,
    created_at: reply.createdAt.toISOString(),
  });
  const messageId = `reply_${reply.id}`;
  const at = new Date();
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      body: payload,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Earshot',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(messageId, at, payload),
      },
      signal: AbortSignal.timeout(deps.webhookTimeoutMs ?? 10_000),
      // A redirect could lead anywhere (an internal host); the endpoint must answer itself.
      redirect: 'manual',
    });
  } catch (err) {
    return {
      status: 'retry',
      reason: `Reply endpoint unreachable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const body = (await response.text().catch(() => '')).slice(0, 300);
  if (response.ok) {
    const id = (safeJson(body) as { id?: unknown } | null)?.id;
    return { status: 'sent', externalIds: typeof id === 'string' || typeof id === 'number' ? [String(id)] : [] };
  }
  const reason = `Reply endpoint answered ${response.status}${body ? `: ${body}` : ''}`;
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    const retryAfter = Number(response.headers.get('retry-after'));
    return { status: 'retry', reason, ...(retryAfter > 0 ? { retryInMs: retryAfter * 1000 } : {}) };
  }
  return { status: 'failed', reason };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Sends one claimed reply through its source's outbound path and records the outcome: sent and
 * failed replies append `reply_sent` / `reply_failed` to the ticket's timeline (so the card and its
 * thread show it); transient failures are rescheduled with backoff until attempts run out.
 */
export async function deliverReply(deps: ReplyDeliveryDeps, reply: Reply): Promise<DeliveryOutcome> {
  const { db } = deps;
  const policy = deps.retry ?? REPLY_RETRY;
  const [row] = await db
    .select({ ticket: tickets, source: sources })
    .from(tickets)
    .innerJoin(sources, eq(sources.id, tickets.sourceId))
    .where(eq(tickets.id, reply.ticketId));
  let outcome: DeliveryOutcome;
  if (!row) outcome = { status: 'failed', reason: 'The ticket no longer exists.' };
  else {
    const target = await latestCustomerItem(db, row.ticket.id);
    if (row.source.kind === 'x') {
      outcome = target
        ? await deliverToX(deps, reply, target)
        : { status: 'failed', reason: 'The ticket has no customer post to reply to.' };
    } else outcome = await deliverToWebhook(deps, reply, row.ticket, row.source, target);
  }
  if (outcome.status === 'retry' && reply.attempts >= policy.maxAttempts) {
    outcome = { status: 'failed', reason: `${outcome.reason} (gave up after ${reply.attempts} attempts)` };
  }
  await recordOutcome(deps, reply, outcome, policy);
  return outcome;
}

async function recordOutcome(
  deps: ReplyDeliveryDeps,
  reply: Reply,
  outcome: DeliveryOutcome,
  policy: RetryPolicy,
): Promise<void> {
  const log = deps.logger.child({ component: 'replies', replyId: reply.id, ticketId: reply.ticketId });
  if (outcome.status === 'retry') {
    const delay = outcome.retryInMs ?? retryDelay(policy, reply.attempts);
    await deps.db
      .update(replies)
      .set({ lastError: outcome.reason, nextAttemptAt: sql`now() + (${delay} * interval '1 millisecond')` })
      .where(and(eq(replies.id, reply.id), eq(replies.status, 'pending')));
    log.warn({ reason: outcome.reason, retryInMs: delay, attempts: reply.attempts }, 'reply not delivered; will retry');
    return;
  }
  await deps.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(replies)
      .set(
        outcome.status === 'sent'
          ? { status: 'done', sentAt: sql`now()`, lastError: null, externalIds: outcome.externalIds }
          : { status: 'failed', lastError: outcome.reason },
      )
      .where(and(eq(replies.id, reply.id), eq(replies.status, 'pending')))
      .returning();
    if (!updated) return;
    // The card renders reply state from the ticket, so its version moves with the outcome.
    const [ticket] = await tx
      .update(tickets)
      .set({ version: sql`${tickets.version} + 1`, updatedAt: sql`now()` })
      .where(eq(tickets.id, reply.ticketId))
      .returning();
    if (!ticket) return;
    await recordEvent(tx, ticket, {
      actor: REPLIES_ACTOR,
      type: outcome.status === 'sent' ? 'reply_sent' : 'reply_failed',
      details:
        outcome.status === 'sent'
          ? { replyId: reply.id, externalIds: outcome.externalIds, parts: updated.parts.length }
          : { replyId: reply.id, reason: outcome.reason, posted: updated.externalIds.length },
    });
  });
  if (outcome.status === 'sent') log.info({ externalIds: outcome.externalIds }, 'reply delivered');
  else log.warn({ reason: outcome.reason }, 'reply failed for good');
}

export interface ReplyWorker {
  /** Delivers every reply due now; returns how many it attempted. */
  runOnce(): Promise<number>;
  /** Asks for a round soon (after a reply is recorded), instead of at the next poll. */
  poke(): void;
  start(): void;
  stop(): Promise<void>;
}

/** Polls for due replies and delivers them; a round in flight finishes before `stop` resolves. */
export function createReplyWorker(deps: ReplyDeliveryDeps & { intervalMs?: number; batch?: number }): ReplyWorker {
  const log = deps.logger.child({ component: 'replies' });
  const intervalMs = deps.intervalMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let round: Promise<number> | null = null;
  let again = false;

  const runOnce = async (): Promise<number> => {
    let attempted = 0;
    for (;;) {
      const claimed = await claimDueReplies(deps.db, { limit: deps.batch ?? 10, claimMs: deps.claimMs ?? 120_000 });
      for (const reply of claimed) {
        await runWithLogContext({ ticketId: reply.ticketId, replyId: reply.id }, () => deliverReply(deps, reply), {
          fresh: true,
        }).catch((err: unknown) => log.error({ err, replyId: reply.id }, 'reply delivery crashed; it will be retried'));
      }
      attempted += claimed.length;
      if (claimed.length < (deps.batch ?? 10)) return attempted;
    }
  };

  const tick = () => {
    if (round) {
      again = true;
      return;
    }
    round = runOnce()
      .catch((err: unknown) => {
        log.error({ err }, 'reply round failed');
        return 0;
      })
      .finally(() => {
        round = null;
        if (stopped) return;
        if (again) {
          again = false;
          tick();
          return;
        }
        schedule();
      });
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, intervalMs);
  };

  return {
    runOnce,
    poke: () => {
      if (stopped) return;
      if (timer) clearTimeout(timer);
      // Poked from a request: its rounds, and the rounds they schedule, are not that request's.
      outsideLogContext(tick);
    },
    start: () => {
      stopped = false;
      tick();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
    },
  };
}
