import type { IncomingMessage } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { isAppError } from '../errors.js';
import { BodyTooLargeError, type Route, readBody, sendJson } from '../http/router.js';
import type { Logger } from '../logger.js';
import { replyUrlProblem, replyUrlRulesFor } from '../sources/reply-url.js';
import { getSourceByName } from '../sources/sources.js';
import type { IngestPipeline } from './pipeline.js';
import type { InboundItem } from './store-item.js';

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
}

/**
 * `POST /ingest/:source`: the signed webhook every non-X channel posts to. The order of checks is
 * the order of trust: unknown source (404), size (413), Standard Webhooks signature and timestamp
 * (401), body (400); only then is anything stored. A resend of a stored id answers 200 instead of
 * 202 with the same body, `{ status, id, itemId }`: with triage over the network the ticket is made
 * off the request path, so its id is not part of the answer (it would be missing at 202 and present
 * at a later 200); with the embedded classifier it is made before the answer, which stays the same.
 */
export function webhookRoutes(options: WebhookRouteOptions): Route[] {
  const log = options.logger.child({ component: 'webhook' });
  return [
    {
      method: 'POST',
      path: '/ingest/:source',
      handler: async (req, res, params) => {
        const name = params.source ?? '';
        const source = await getSourceByName(options.db, name);
        if (source?.kind !== 'webhook' || !source.enabled || !source.secret) {
          req.resume();
          return sendJson(res, 404, { error: 'unknown_source', message: `No webhook source named "${name}".` });
        }
        let body: Buffer;
        try {
          body = await readBody(req, options.maxBytes);
        } catch (err) {
          if (err instanceof BodyTooLargeError) {
            return sendJson(
              res,
              413,
              { error: 'payload_too_large', message: err.message, limit: options.maxBytes },
              { connection: 'close' },
            );
          }
          throw err;
        }
        try {
          new Webhook(source.secret).verify(body, signatureHeaders(req), { jsonParse: false });
        } catch (err) {
          if (!(err instanceof WebhookVerificationError)) throw err;
          log.warn({ source: source.name, reason: err.message }, 'webhook signature refused');
          return sendJson(res, 401, { error: 'bad_signature', message: err.message });
        }
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          return sendJson(res, 400, {
            error: 'invalid_input',
            message: 'The body is not valid JSON.',
            fields: [{ path: '', message: 'invalid JSON' }],
          });
        }
        const parsed = webhookItemSchema.safeParse(json);
        if (!parsed.success) {
          return sendJson(res, 400, {
            error: 'invalid_input',
            message: 'The body does not match the documented shape.',
            fields: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
          });
        }
        const replyUrl = parsed.data.reply_url;
        const replyProblem = replyUrl ? replyUrlProblem(replyUrl, replyUrlRulesFor(source, true)) : null;
        if (replyProblem) {
          return sendJson(res, 400, {
            error: 'invalid_input',
            message: 'The body does not match the documented shape.',
            fields: [{ path: 'reply_url', message: `reply_url ${replyProblem}` }],
          });
        }
        try {
          const stored = await options.pipeline.receive(toInboundItem(source.id, parsed.data, new Date()), { source });
          const result = { status: 'accepted', id: stored.item.externalId, itemId: stored.item.id };
          return sendJson(res, stored.duplicate ? 200 : 202, result);
        } catch (err) {
          if (isAppError(err, 'payload_too_large')) {
            return sendJson(res, 413, { error: err.code, message: err.message, fields: [err.details] });
          }
          if (isAppError(err, 'invalid_input')) {
            return sendJson(res, 400, { error: err.code, message: err.message, fields: [err.details] });
          }
          throw err;
        }
      },
    },
  ];
}

function signatureHeaders(req: IncomingMessage): Record<string, string> {
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
