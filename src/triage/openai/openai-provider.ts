import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { Database } from '../../db/database.js';
import { triageCache } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import type { EmbeddedClassifier } from '../embedded/classifier.js';
import type { TriageHints } from '../hints.js';
import { findPii } from '../pii.js';
import type { TriageResult } from '../types.js';
import { TRIAGE_INSTRUCTIONS, type TriageOutput, triageOutputSchema } from './schema.js';

export interface OpenAiTriageOptions {
  client: OpenAI;
  model: string;
  /** Stands in whenever OpenAI fails, times out, refuses or answers out of shape. */
  fallback: EmbeddedClassifier;
  logger: Logger;
  /** Results are cached here by text hash; without it every call goes to OpenAI. */
  db?: Database | undefined;
  /** Calls in flight at once; more wait their turn, so a burst does not turn into a wall of 429s. */
  concurrency?: number;
}

/** Below this the card marks an OpenAI result low-confidence. */
const CONFIDENCE_THRESHOLD = 0.5;

/** Triage by an OpenAI-compatible model with structured output, cached, falling back to the embedded classifier. */
export function createOpenAiTriage(options: OpenAiTriageOptions) {
  const { client, model, fallback, logger, db } = options;
  const limit = createLimiter(options.concurrency ?? 4);
  const log = logger.child({ component: 'triage.openai' });

  async function triage(text: string, hints: TriageHints = {}): Promise<TriageResult> {
    const key = cacheKey(model, text);
    if (db) {
      const cached = await readCache(db, key).catch((err: unknown) => {
        log.warn({ err }, 'triage cache read failed');
        return null;
      });
      if (cached) return cached;
    }
    let output: TriageOutput;
    try {
      output = await limit(() => ask(text, hints));
    } catch (err) {
      log.warn({ err, model }, 'OpenAI triage failed; embedded classifier stands in');
      return { ...fallback.classify(text, hints), provider: 'embedded-fallback' };
    }
    const result = toResult(text, output, model);
    if (db) {
      await db
        .insert(triageCache)
        .values({ key, provider: 'openai', result: result as unknown as Record<string, unknown> })
        .onConflictDoNothing()
        .catch((err: unknown) => log.warn({ err }, 'triage cache write failed'));
    }
    return result;
  }

  async function ask(text: string, hints: TriageHints): Promise<TriageOutput> {
    const completion = await client.chat.completions.parse({
      model,
      temperature: 0,
      messages: [
        { role: 'system', content: TRIAGE_INSTRUCTIONS },
        {
          role: 'user',
          content: hints.language ? `Post (source says language "${hints.language}"):\n${text}` : `Post:\n${text}`,
        },
      ],
      response_format: zodResponseFormat(triageOutputSchema, 'triage'),
    });
    const message = completion.choices[0]?.message;
    if (!message) throw new Error('OpenAI answered with no choices');
    if (message.refusal) throw new Error(`OpenAI refused: ${message.refusal}`);
    if (!message.parsed) throw new Error('OpenAI answered without parsed content');
    return message.parsed;
  }

  return { triage, model: `openai:${model}` };
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

/** At most `max` tasks run at once; the rest queue in arrival order. */
export function createLimiter(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
