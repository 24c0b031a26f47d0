import OpenAI from 'openai';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { type AssessmentContext, buildAssessment } from './assess.js';
import { createEmbeddedClassifier, type EmbeddedClassifier } from './embedded/classifier.js';
import { type EmbeddedModel, loadEmbeddedModel } from './embedded/model-files.js';
import type { TriageHints } from './hints.js';
import { createOpenAiTriage } from './openai/openai-provider.js';
import { suggestReplyWithOpenAi } from './openai/reply.js';
import type { PriorityWeights } from './priority.js';
import { matchTemplate, type ReplySuggestion, type SuggestReplyInput } from './reply-suggestion.js';
import { listRoutingRules } from './routing-rules.js';
import type { Assessment, TriageResult } from './types.js';

export interface TriageService {
  /** `openai` when OPENAI_API_KEY is set (with the embedded classifier as fallback), else `embedded`. */
  provider: 'openai' | 'embedded';
  /** The model that answers first, e.g. `openai:gpt-4o-mini` or `embedded:linear-hash18-…`. */
  model: string;
  triage(text: string, hints?: TriageHints): Promise<TriageResult>;
  /** Triage, then priority and routing against the rules in the database. */
  assess(text: string, context?: AssessmentContext & { hints?: TriageHints }): Promise<Assessment>;
  /** A reply for the Reply modal to prefill; the agent always edits and sends it. */
  suggestReply(input: SuggestReplyInput): Promise<ReplySuggestion>;
  /** The in-process classifier, for callers that must never wait on the network. */
  embedded: EmbeddedClassifier;
}

export interface CreateTriageOptions {
  config: Config;
  logger: Logger;
  /** Needed for the OpenAI cache and for `assess` (routing rules); without it both are skipped. */
  db?: Database;
  /** A model already loaded (tests share one); read from src/triage/embedded/model/ otherwise. */
  model?: EmbeddedModel;
  priorityWeights?: Partial<PriorityWeights>;
}

/** Builds triage from config: OpenAI with embedded fallback when a key is set, the embedded classifier otherwise. */
export function createTriage(options: CreateTriageOptions): TriageService {
  const { config, logger, db } = options;
  const log = logger.child({ component: 'triage' });
  const embedded = createEmbeddedClassifier(options.model ?? loadEmbeddedModel());

  let triage: (text: string, hints?: TriageHints) => Promise<TriageResult>;
  let suggestReply: (input: SuggestReplyInput) => Promise<ReplySuggestion>;
  let model = embedded.model;
  const templateOnly = async (input: SuggestReplyInput) =>
    matchTemplate(input) ?? { text: '', source: 'none' as const };

  if (config.OPENAI_API_KEY) {
    const client = new OpenAI({
      apiKey: config.OPENAI_API_KEY,
      baseURL: config.OPENAI_BASE_URL ?? null,
      timeout: config.OPENAI_TIMEOUT_MS,
      maxRetries: 2,
    });
    const openai = createOpenAiTriage({ client, model: config.OPENAI_MODEL, fallback: embedded, logger: log, db });
    triage = openai.triage;
    model = openai.model;
    suggestReply = (input) => suggestReplyWithOpenAi(client, config.OPENAI_MODEL, input, log);
  } else {
    triage = async (text, hints) => embedded.classify(text, hints);
    suggestReply = templateOnly;
  }

  return {
    provider: config.OPENAI_API_KEY ? 'openai' : 'embedded',
    model,
    embedded,
    triage: (text, hints) => triage(truncate(text, config.EARSHOT_MAX_TEXT_LENGTH), hints),
    suggestReply,
    async assess(text, context = {}) {
      const result = await triage(truncate(text, config.EARSHOT_MAX_TEXT_LENGTH), context.hints);
      const rules = db ? await listRoutingRules(db) : [];
      return buildAssessment(result, context, rules, {
        defaultChannel: config.EARSHOT_FEEDBACK_CHANNEL,
        priorityWeights: options.priorityWeights,
      });
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}
