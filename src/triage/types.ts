import type { Category, Priority, Sentiment } from '../tickets/types.js';

/** Signals that make an item urgent whatever its sentiment. */
export const URGENCY_SIGNALS = ['outage', 'security', 'legal', 'payment', 'safety', 'churn', 'media'] as const;
export type UrgencySignal = (typeof URGENCY_SIGNALS)[number];

export const EMOTIONS = ['anger', 'joy', 'optimism', 'sadness'] as const;
export type Emotion = (typeof EMOTIONS)[number];

export interface PiiSpan {
  kind: 'email' | 'phone' | 'order' | 'card';
  start: number;
  end: number;
}

/** What triage learns from an item's text alone, whichever provider produced it. */
export interface TriageResult {
  category: Category;
  /** Spam and abuse are flagged apart from the category. */
  spam: boolean;
  offensive: boolean;
  sentiment: Sentiment;
  /** -1 (very negative) … 1 (very positive). */
  sentimentScore: number;
  emotion: Emotion | null;
  urgency: UrgencySignal[];
  /** ISO 639-1 code, or `und` when it cannot be told. */
  language: string;
  /** A few normalized keywords or phrases: the input to crisis clustering. */
  topics: string[];
  pii: PiiSpan[];
  /** 0 … 1; below the provider's threshold the card marks the result low-confidence. */
  confidence: number;
  lowConfidence: boolean;
  /** `embedded`, `openai`, or `embedded-fallback` when OpenAI failed and the embedded classifier stood in. */
  provider: 'embedded' | 'openai' | 'embedded-fallback';
  model: string;
}

/** Triage plus what the author and history add: the priority and why. */
export interface Assessment {
  triage: TriageResult;
  priority: Priority;
  priorityScore: number;
  /** Short reasons shown on the card: "refund", "angry", "120k followers". */
  priorityReasons: string[];
  /** Slack channel the routing rules chose. */
  channel: string;
  /** Tags the routing rule adds. */
  tags: string[];
  /** A Slack user group or channel the routing rule notifies. */
  notify?: string | null;
  /** The routing rule that matched; null when the default channel took the item. */
  rule?: { id: number; name: string } | null;
}
