import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { Sealer } from '../db/sealed.js';
import { isAppError } from '../errors.js';
import { BodyTooLargeError, type Route, readBody, sendJson } from '../http/router.js';
import type { Logger } from '../logger.js';
import { replyUrlProblem, replyUrlRulesFor } from '../sources/reply-url.js';
import { openSourceSecret } from '../sources/secrets.js';
import { getSourceByName } from '../sources/sources.js';
import type { Source } from '../tickets/types.js';
import { type IngestPipeline, isSourceChanged } from './pipeline.js';
import type { InboundItem } from './store-item.js';
import { type SignatureHeaders, WebhookSignatureError, WebhookVerifier } from './webhook-signature.js';

/**
 * The documented body of `POST /ingest/:source`. Only `id`, `author.id` and `text` are required;
 * `thread_id` groups a conversation, `parent_id` names the message this one answers, and
 * `reply_url` overrides the source's reply endpoint for this conversation (https, and on the host
 * of the source's own reply URL when it has one: see `replyUrlProblem`).
 */
const externalId = () =>
  z
    .union([z.string().trim().min(1).max(200), z.number().int().nonnegative()], {
      error: 'expected a non-empty string (at most 200 characters) or a whole number',
    })
    .transform(String);

export const webhookItemSchema = z.object({
  id: externalId(),
  author: z.object({
    id: externalId(),
    handle: z.string().max(200).nullish(),
    name: z.string().max(200).nullish(),
    followers: z.number().int().nonnegative().nullish(),
    verified: z.boolean().nullish(),
  }),
  text: z.string().trim().min(1, 'text must not be empty'),
  url: z.url().nullish(),
  created_at: z.iso.datetime({ offset: true }).nullish(),
  thread_id: z.string().max(200).nullish(),
  parent_id: z.string().max(200).nullish(),
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/, 'expected a language code such as en or pt-BR')
    .nullish(),
  reply_url: z.url().nullish(),
});

export type WebhookItem = z.infer<typeof webhookItemSchema>;

/** Turns a validated webhook body into Earshot's inbound item; the body is kept as `raw`. */
export function toInboundItem(sourceId: number, body: WebhookItem, now: Date): InboundItem {
  return {
    sourceId,
    externalId: body.id,
    author: {
      externalId: body.author.id,
      handle: body.author.handle ?? null,
      displayName: body.author.name ?? null,
      followerCount: body.author.followers ?? null,
      verified: body.author.verified ?? null,
      language: body.language ?? null,
    },
    text: body.text,
    url: body.url ?? null,
    createdAt: body.created_at ? new Date(body.created_at) : now,
    conversationId: body.thread_id ?? null,
    parentExternalId: body.parent_id ?? null,
    language: body.language ?? null,
    raw: body,
  };
}

export interface WebhookRouteOptions {
  db: Database;
  pipeline: IngestPipeline;
  logger: Logger;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Opens the sealed signing secrets (`EARSHOT_SECRET_KEY`); null when they are stored unsealed. */
  sealer: Sealer | null;
}

/**
 * How long a webhook source read by name is reused. Reading it cost every request a round trip of
 * its own; a cached row is only ever trusted after `receive` confirmed it unchanged in the read it
 * makes anyway (`confirmSource`), so a rotated secret or a disabled source takes effect at once, on
 * every replica, and this only bounds how long an unused entry lingers.
 */
const SOURCE_CACHE_TTL_MS = 30_000;

/**
 * A webhook source that can take deliveries, with its verifier (opening and decoding the secret
 * once). `source.secret` stays as stored: `receive`'s confirmation compares it with the row.
 */
interface WebhookSource {
  source: Source;
  verifier: WebhookVerifier;
}

/** Webhook sources by lower-cased name: `get` may answer a cached row, `reload` always reads. */
function createSourceCache(db: Database, sealer: Sealer | null) {
  const entries = new Map<string, WebhookSource & { readAt: number }>();
  const reload = async (name: string): Promise<WebhookSource | null> => {
    const key = name.toLowerCase();
    const source = await getSourceByName(db, name);
    // Only sources that take deliveries are kept, so unknown names never grow the map.
    if (source?.kind !== 'webhook' || !source.enabled || !source.secret) {
      entries.delete(key);
      return null;
    }
    const verifier = new WebhookVerifier(openSourceSecret(source.secret, sealer));
    const entry = { source, verifier, readAt: Date.now() };
    entries.set(key, entry);
    return entry;
  };
  return {
    async get(name: string): Promise<{ entry: WebhookSource | null; cached: boolean }> {
      const entry = entries.get(name.toLowerCase());
      if (entry && Date.now() - entry.readAt < SOURCE_CACHE_TTL_MS) return { entry, cached: true };
      return { entry: await reload(name), cached: false };
    },
    reload,
  };
}

/**
 * `POST /ingest/:source`: the signed webhook every non-X channel posts to. The order of checks is
 * the order of trust: unknown source (404), size (413), Standard Webhooks signature and timestamp
 * (401), body (400); only then is anything stored. A resend of a stored id answers 200 instead of
 * 202 with the same body, `{ status, id, itemId }`: the 202 follows the item's durable store, and
 * its ticket is made off the request path (triage, then a batch), so the ticket's id is not part of
 * the answer (it would be missing at 202 and present at a later 200).
 * The source row is kept by name (see `SOURCE_CACHE_TTL_MS`); a request it would refuse, or that
 * `receive` finds it outdated for, is checked again against the row as it is now.
 */
export function webhookRoutes(options: WebhookRouteOptions): Route[] {
  const log = options.logger.child({ component: 'webhook' });
  const sources = createSourceCache(options.db, options.sealer);
  return [
    {
      method: 'POST',
      path: '/ingest/:source',
      handler: async (req, res, params) => {
        const name = params.source ?? '';
        const unknown = {
          status: 404,
          body: { error: 'unknown_source', message: `No webhook source named "${name}".` },
        };
        const found = await sources.get(name);
        if (!found.entry) {
          req.resume();
          return sendJson(res, unknown.status, unknown.body);
        }
        let body: Buffer;
        try {
          body = await readBody(req, options.maxBytes);
        } catch (err) {
          if (err instanceof BodyTooLargeError) {
            // As every refusal on a kept row, decided against the current one (404 first if it is gone).
            if (found.cached && !(await sources.reload(name))) {
              return sendJson(res, unknown.status, unknown.body, { connection: 'close' });
            }
            return sendJson(
              res,
              413,
              { error: 'payload_too_large', message: err.message, limit: options.maxBytes },
              { connection: 'close' },
            );
          }
          throw err;
        }
        const delivery = { headers: signatureHeaders(req), body };
        let answer = await admit(options.pipeline, delivery, found.entry, found.cached);
        // A kept row is trusted only to accept: a refusal is decided again against the row as it is
        // now (a rotated secret, a new reply URL, a disabled source), so it answers what it did before.
        if (found.cached && (answer === 'source_changed' || answer.status >= 400)) {
          const fresh = await sources.reload(name);
          answer = fresh ? await admit(options.pipeline, delivery, fresh, false) : unknown;
        }
        if (answer === 'source_changed') throw new Error('a source read just now was found changed');
        if (answer.status === 401) log.warn({ source: name, reason: answer.body.message }, 'webhook signature refused');
        sendJson(res, answer.status, answer.body);
      },
    },
  ];
}

/** What the route answers: a status and its JSON body. */
interface Answer {
  status: number;
  body: { message?: string } & Record<string, unknown>;
}

/**
 * Checks a delivery against its source and, when it passes, receives it. With `cached`, `receive`
 * first confirms the source row unchanged; 'source_changed' when it was not (nothing is stored).
 */
async function admit(
  pipeline: IngestPipeline,
  delivery: { headers: SignatureHeaders; body: Buffer },
  { source, verifier }: WebhookSource,
  cached: boolean,
): Promise<Answer | 'source_changed'> {
  try {
    verifier.verify(delivery.body, delivery.headers);
  } catch (err) {
    if (!(err instanceof WebhookSignatureError)) throw err;
    return { status: 401, body: { error: 'bad_signature', message: err.message } };
  }
  let json: unknown;
  try {
    json = JSON.parse(delivery.body.toString('utf8'));
  } catch {
    return invalid('The body is not valid JSON.', [{ path: '', message: 'invalid JSON' }]);
  }
  const parsed = webhookItemSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    return invalid('The body does not match the documented shape.', fields);
  }
  const replyUrl = parsed.data.reply_url;
  const replyProblem = replyUrl ? replyUrlProblem(replyUrl, replyUrlRulesFor(source, true)) : null;
  if (replyProblem) {
    return invalid('The body does not match the documented shape.', [
      { path: 'reply_url', message: `reply_url ${replyProblem}` },
    ]);
  }
  try {
    const inbound = toInboundItem(source.id, parsed.data, new Date());
    const stored = await pipeline.receive(inbound, { source, confirmSource: cached });
    const result = { status: 'accepted', id: stored.item.externalId, itemId: stored.item.id };
    return { status: stored.duplicate ? 200 : 202, body: result };
  } catch (err) {
    if (cached && isSourceChanged(err)) return 'source_changed';
    if (isAppError(err, 'payload_too_large')) {
      return { status: 413, body: { error: err.code, message: err.message, fields: [err.details] } };
    }
    if (isAppError(err, 'invalid_input')) {
      return { status: 400, body: { error: err.code, message: err.message, fields: [err.details] } };
    }
    throw err;
  }
}

function invalid(message: string, fields: { path: string; message: string }[]): Answer {
  return { status: 400, body: { error: 'invalid_input', message, fields } };
}

function signatureHeaders(req: IncomingMessage): SignatureHeaders {
  const pick = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  };
  return {
    'webhook-id': pick('webhook-id'),
    'webhook-timestamp': pick('webhook-timestamp'),
    'webhook-signature': pick('webhook-signature'),
  };
}
