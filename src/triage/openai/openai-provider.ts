import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { Database } from '../../db/database.js';
import { triageCache } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import type { EmbeddedClassifier } from '../embedded/classifier.js';
import type { TriageHints } from '../hints.js';
import { findPii } from '../pii.js';
import type { TriageResult } from '../types.js';
import { type CircuitBreaker, createCircuitBreaker } from './circuit-breaker.js';
import {
  BATCH_INSTRUCTIONS,
  batchEntryIndexSchema,
  batchEnvelopeSchema,
  batchOutputSchema,
  TRIAGE_INSTRUCTIONS,
  type TriageOutput,
  triageOutputSchema,
} from './schema.js';

/** How OpenAI triage behaves under load and outages; every field has a default. */
export interface OpenAiLoadOptions {
  /** Completions in flight at once; more items wait their turn, so a burst is not a wall of 429s. */
  concurrency: number;
  /** Most posts sent in one completion when more are waiting than `concurrency` allows. */
  maxBatch: number;
  /** Consecutive failed or timed-out completions after which OpenAI is skipped… */
  breakerThreshold: number;
  /** …for this long: the embedded classifier answers at once, then one call tries OpenAI again. */
  breakerCooldownMs: number;
  now: () => number;
}

export const DEFAULT_OPENAI_LOAD: OpenAiLoadOptions = {
  concurrency: 4,
  maxBatch: 8,
  breakerThreshold: 3,
  breakerCooldownMs: 60_000,
  now: Date.now,
};

export interface OpenAiTriageOptions {
  client: OpenAI;
  model: string;
  /** Stands in whenever OpenAI fails, times out, refuses or answers out of shape. */
  fallback: EmbeddedClassifier;
  logger: Logger;
  /** Results are cached here by text hash; without it every call goes to OpenAI. */
  db?: Database | undefined;
  load?: Partial<OpenAiLoadOptions>;
}

/** Below this the card marks an OpenAI result low-confidence. */
const CONFIDENCE_THRESHOLD = 0.5;

interface Waiting {
  text: string;
  hints: TriageHints;
  resolve: (result: TriageResult) => void;
}

/** One answer per post of a completion: the validated output, or why that post falls back. */
type Answer = { output: TriageOutput } | { error: string };

/**
 * Triage by an OpenAI-compatible model with structured output, cached by text hash, falling back to
 * the embedded classifier. Under load, posts waiting beyond the concurrency limit share completions
 * (up to `maxBatch` each); after a run of failures a circuit breaker skips OpenAI for a cool-down.
 */
export function createOpenAiTriage(options: OpenAiTriageOptions) {
  const { client, model, fallback, logger, db } = options;
  const load: OpenAiLoadOptions = { ...DEFAULT_OPENAI_LOAD, ...options.load };
  const log = logger.child({ component: 'triage.openai' });
  const breaker: CircuitBreaker = createCircuitBreaker({
    threshold: load.breakerThreshold,
    cooldownMs: load.breakerCooldownMs,
    now: load.now,
  });
  const queue: Waiting[] = [];
  let active = 0;

  const standIn = (text: string, hints: TriageHints): TriageResult => ({
    ...fallback.classify(text, hints),
    provider: 'embedded-fallback',
  });

  async function triage(text: string, hints: TriageHints = {}): Promise<TriageResult> {
    if (db) {
      const cached = await readCache(db, cacheKey(model, text)).catch((err: unknown) => {
        log.warn({ err }, 'triage cache read failed');
        return null;
      });
      if (cached) return cached;
    }
    if (breaker.isOpen()) return standIn(text, hints);
    return new Promise<TriageResult>((resolve) => {
      queue.push({ text, hints, resolve });
      pump();
    });
  }

  /** Starts completions while slots are free; more waiting than free slots share completions. */
  function pump(): void {
    while (active < load.concurrency && queue.length > 0) {
      if (!breaker.tryAcquire()) {
        // Open (or a trial call is out): everyone waiting is answered now, nobody waits on a timeout.
        for (const waiting of queue.splice(0)) waiting.resolve(standIn(waiting.text, waiting.hints));
        return;
      }
      const free = load.concurrency - active;
      const size = breaker.state() === 'closed' ? Math.min(load.maxBatch, Math.ceil(queue.length / free)) : 1;
      const batch = queue.splice(0, size);
      active++;
      void complete(batch).finally(() => {
        active--;
        pump();
      });
    }
  }

  async function complete(batch: Waiting[]): Promise<void> {
    let answers: Answer[];
    try {
      answers = batch.length === 1 ? [await askOne(batch[0]!)] : await askMany(batch);
      breaker.success();
    } catch (err) {
      if (isOutage(err)) breaker.failure();
      else breaker.success();
      log.warn(
        { err, model, posts: batch.length, circuit: breaker.state() },
        'OpenAI triage failed; embedded classifier stands in',
      );
      answers = batch.map(() => ({ error: 'request failed' }));
    }
    for (const [i, waiting] of batch.entries()) {
      const answer = answers[i]!;
      if ('error' in answer) {
        if (batch.length > 1 && answer.error !== 'request failed') {
          log.warn(
            { model, index: i, reason: answer.error },
            'OpenAI batch entry unusable; embedded classifier stands in',
          );
        }
        waiting.resolve(standIn(waiting.text, waiting.hints));
        continue;
      }
      const result = toResult(waiting.text, answer.output, model);
      waiting.resolve(result);
      if (db) {
        await db
          .insert(triageCache)
          .values({
            key: cacheKey(model, waiting.text),
            provider: 'openai',
            result: result as unknown as Record<string, unknown>,
          })
          .onConflictDoNothing()
          .catch((err: unknown) => log.warn({ err }, 'triage cache write failed'));
      }
    }
  }

  async function ask(system: string, user: string, format: ReturnType<typeof zodResponseFormat>): Promise<unknown> {
    const completion = await client.chat.completions.create({
      model,
      temperature: 0,
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      response_format: format,
    });
    const message = completion.choices[0]?.message;
    if (!message) throw new ContentError('OpenAI answered with no choices');
    if (message.refusal) throw new ContentError(`OpenAI refused: ${message.refusal}`);
    try {
      return JSON.parse(message.content ?? '');
    } catch {
      throw new ContentError('OpenAI answered with content that is not JSON');
    }
  }

  async function askOne(waiting: Waiting): Promise<Answer> {
    const { text, hints } = waiting;
    let content: unknown;
    try {
      content = await ask(
        TRIAGE_INSTRUCTIONS,
        hints.language ? `Post (source says language "${hints.language}"):\n${text}` : `Post:\n${text}`,
        zodResponseFormat(triageOutputSchema, 'triage'),
      );
    } catch (err) {
      if (err instanceof ContentError) return answerError(err);
      throw err;
    }
    const parsed = triageOutputSchema.safeParse(content);
    return parsed.success ? { output: parsed.data } : { error: `out of schema: ${parsed.error.issues[0]?.message}` };
  }

  async function askMany(batch: Waiting[]): Promise<Answer[]> {
    const posts = batch.map((w, index) => ({ index, text: w.text, language: w.hints.language ?? null }));
    let content: unknown;
    try {
      content = await ask(
        BATCH_INSTRUCTIONS,
        `Posts:\n${JSON.stringify(posts)}`,
        zodResponseFormat(batchOutputSchema, 'triage_batch'),
      );
    } catch (err) {
      if (err instanceof ContentError) return batch.map(() => answerError(err));
      throw err;
    }
    const envelope = batchEnvelopeSchema.safeParse(content);
    if (!envelope.success) return batch.map(() => ({ error: 'batch answer without results' }));
    const answers: Answer[] = batch.map(() => ({ error: 'no entry for this index' }));
    const seen = new Set<number>();
    for (const entry of envelope.data.results) {
      const index = batchEntryIndexSchema.safeParse(entry);
      if (!index.success || index.data.index >= batch.length) continue;
      const at = index.data.index;
      if (seen.has(at)) {
        // Two answers for one post: neither can be trusted.
        answers[at] = { error: 'two entries for this index' };
        continue;
      }
      seen.add(at);
      const parsed = triageOutputSchema.safeParse(entry);
      answers[at] = parsed.success
        ? { output: parsed.data }
        : { error: `out of schema: ${parsed.error.issues[0]?.message}` };
    }
    return answers;
  }

  return {
    triage,
    model: `openai:${model}`,
    /** `closed` while OpenAI answers; `open` while the embedded classifier stands in without trying. */
    circuit: () => breaker.state(),
    /** Lets other OpenAI calls (reply drafts) share the breaker. */
    breaker,
  };
}

/** The call went through but its content is unusable: the model's fault, not an outage. */
class ContentError extends Error {}

function answerError(err: Error): Answer {
  return { error: err.message };
}

/** Timeouts, unreachable servers, rate limits and server errors (after the SDK's retries) trip the breaker. */
export function isOutage(err: unknown): boolean {
  if (err instanceof OpenAI.APIConnectionError) return true;
  if (err instanceof OpenAI.APIError) return err.status === undefined || err.status === 429 || err.status >= 500;
  return false;
}

export function cacheKey(model: string, text: string): string {
  return `openai:${model}:${createHash('sha256').update(text).digest('hex')}`;
}

async function readCache(db: Database, key: string): Promise<TriageResult | null> {
  const [row] = await db.select().from(triageCache).where(eq(triageCache.key, key));
  return row ? (row.result as unknown as TriageResult) : null;
}

/** Trusts the model for judgement, never for offsets: personal data is found locally. */
function toResult(text: string, output: TriageOutput, model: string): TriageResult {
  const confidence = clamp(output.confidence, 0, 1);
  const language = /^[a-z]{2}$/i.test(output.language) ? output.language.toLowerCase() : 'und';
  return {
    category: output.category,
    spam: output.spam,
    offensive: output.offensive,
    sentiment: output.sentiment,
    sentimentScore: clamp(output.sentimentScore, -1, 1),
    emotion: output.emotion,
    urgency: [...new Set(output.urgency)],
    language,
    topics: [...new Set(output.topics.map((t) => t.trim().toLowerCase()).filter(Boolean))].slice(0, 4),
    pii: findPii(text),
    confidence,
    lowConfidence: confidence < CONFIDENCE_THRESHOLD,
    provider: 'openai',
    model: `openai:${model}`,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : 0;
}
