import OpenAI from 'openai';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { type AssessmentContext, buildAssessment } from './assess.js';
import { createEmbeddedClassifier, type EmbeddedClassifier } from './embedded/classifier.js';
import { type EmbeddedModel, loadEmbeddedModel } from './embedded/model-files.js';
import type { TriageHints } from './hints.js';
import { createOpenAiTriage, type OpenAiLoadOptions } from './openai/openai-provider.js';
import { suggestReplyWithOpenAi } from './openai/reply.js';
import type { PriorityWeights } from './priority.js';
import { loadPriorityWeights, PRIORITY_SETTINGS_KEY } from './priority-settings.js';
import { matchTemplate, type ReplySuggestion, type SuggestReplyInput } from './reply-suggestion.js';
import type { RoutingRule } from './routing.js';
import { listRoutingRules } from './routing-rules.js';
import type { Assessment, TriageResult } from './types.js';

export interface TriageService {
  /** `openai` when OPENAI_API_KEY is set (with the embedded classifier as fallback), else `embedded`. */
  provider: 'openai' | 'embedded';
  /** The model that answers first, e.g. `openai:gpt-4o-mini` or `embedded:linear-hash18-…`. */
  model: string;
  triage(text: string, hints?: TriageHints): Promise<TriageResult>;
  /** Triage, then priority (stored weights) and routing (stored rules, cached). */
  assess(text: string, context?: AssessmentContext & { hints?: TriageHints }): Promise<Assessment>;
  /**
   * A reply for the Reply modal to prefill; the agent always edits and sends it. With OpenAI: a
   * draft in the customer's language and the brand's tone (EARSHOT_BRAND_TONE); else the best template.
   */
  suggestReply(input: SuggestReplyInput): Promise<ReplySuggestion>;
  /** The in-process classifier, for callers that must never wait on the network. */
  embedded: EmbeddedClassifier;
  /** Drops the cached routing rules; call after adding, removing or reordering one. */
  invalidateRules(): void;
  /** Drops the cached priority weights; call after changing one. */
  invalidatePriorityWeights(): void;
  /**
   * Drops what a change announced on SETTINGS_CHANNEL touched (`routing_rules`, `settings:<key>`),
   * whichever replica made it; `null`, when listening (re)starts and changes may have been missed,
   * drops everything.
   */
  settingsChanged(change: string | null): void;
  /** OpenAI's circuit: `closed` while it answers, `open` while the embedded classifier stands in. Null without OpenAI. */
  openaiCircuit(): 'closed' | 'open' | 'half-open' | null;
}

export interface CreateTriageOptions {
  config: Config;
  logger: Logger;
  /** Needed for the OpenAI cache and for `assess` (routing rules, priority weights); without it both are skipped. */
  db?: Database;
  /** A model already loaded (tests share one); read from src/triage/embedded/model/ otherwise. */
  model?: EmbeddedModel;
  /** Fixed weights instead of the stored setting (`/earshot priority`). */
  priorityWeights?: Partial<PriorityWeights>;
  /** Batching and circuit-breaker settings for OpenAI (see DEFAULT_OPENAI_LOAD). */
  openaiLoad?: Partial<OpenAiLoadOptions>;
  /**
   * How long routing rules and priority weights are reused before they are read again. A change
   * invalidates them at once on every replica that listens (`settingsChanged`); this bounds how
   * stale they get where notifications cannot reach (a pooler in transaction mode, a lost listener).
   */
  settingsTtlMs?: number;
  now?: () => number;
}

/** Rules and weights are read once per this many milliseconds at most, not once per item. */
export const SETTINGS_TTL_MS = 30_000;

/** The channel migration 0009's triggers notify on every committed change to rules or settings. */
export const SETTINGS_CHANNEL = 'earshot_settings';

/** Builds triage from config: OpenAI with embedded fallback when a key is set, the embedded classifier otherwise. */
export function createTriage(options: CreateTriageOptions): TriageService {
  const { config, logger, db } = options;
  const log = logger.child({ component: 'triage' });
  const embedded = createEmbeddedClassifier(options.model ?? loadEmbeddedModel());
  const now = options.now ?? Date.now;
  const ttl = options.settingsTtlMs ?? SETTINGS_TTL_MS;
  const brandTone = config.EARSHOT_BRAND_TONE;

  let triage: (text: string, hints?: TriageHints) => Promise<TriageResult>;
  let suggestReply: (input: SuggestReplyInput) => Promise<ReplySuggestion>;
  let circuit: TriageService['openaiCircuit'] = () => null;
  let model = embedded.model;

  if (config.OPENAI_API_KEY) {
    const client = new OpenAI({
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL ?? null,
      timeout: config.OPENAI_TIMEOUT_MS,
      maxRetries: 2,
    });
    const openai = createOpenAiTriage({
      client,
      model: config.OPENAI_MODEL,
      fallback: embedded,
      logger: log,
      db,
      load: { now, ...options.openaiLoad },
    });
    triage = openai.triage;
    model = openai.model;
    circuit = openai.circuit;
    suggestReply = (input) =>
      suggestReplyWithOpenAi(client, config.OPENAI_MODEL, { brandTone, ...input }, log, openai.breaker);
  } else {
    triage = async (text, hints) => embedded.classify(text, hints);
    suggestReply = async (input) => matchTemplate(input) ?? { text: '', source: 'none' as const };
  }

  const rules = cached<RoutingRule[]>(ttl, now, () => (db ? listRoutingRules(db) : Promise.resolve([])));
  const weights = cached<Partial<PriorityWeights>>(ttl, now, () =>
    options.priorityWeights || !db ? Promise.resolve(options.priorityWeights ?? {}) : loadPriorityWeights(db),
  );

  return {
    provider: config.OPENAI_API_KEY ? 'openai' : 'embedded',
    model,
    embedded,
    triage: (text, hints) => triage(truncate(text, config.EARSHOT_MAX_TEXT_LENGTH), hints),
    suggestReply,
    async assess(text, context = {}) {
      const [result, ruleList, priorityWeights] = await Promise.all([
        triage(truncate(text, config.EARSHOT_MAX_TEXT_LENGTH), context.hints),
        rules.get(),
        weights.get(),
      ]);
      return buildAssessment(result, context, ruleList, {
        defaultChannel: config.EARSHOT_FEEDBACK_CHANNEL,
        priorityWeights,
      });
    },
    invalidateRules: rules.invalidate,
    invalidatePriorityWeights: weights.invalidate,
    settingsChanged(change) {
      if (change === null || change === 'routing_rules') rules.invalidate();
      if (change === null || change === 'settings' || change === `settings:${PRIORITY_SETTINGS_KEY}`) {
        weights.invalidate();
      }
    },
    openaiCircuit: () => circuit(),
  };
}

/** A value loaded at most once per `ttlMs`; concurrent readers share one load, and a failed load is not kept. */
function cached<T>(ttlMs: number, now: () => number, load: () => Promise<T>) {
  let value: Promise<T> | null = null;
  let loadedAt = 0;
  let generation = 0;
  return {
    get(): Promise<T> {
      if (!value || now() - loadedAt >= ttlMs) {
        const mine = ++generation;
        loadedAt = now();
        value = load();
        value.catch(() => {
          if (generation === mine) value = null;
        });
      }
      return value;
    },
    invalidate(): void {
      generation++;
      value = null;
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}
