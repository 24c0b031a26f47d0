import type { Source } from '../tickets/types.js';
import { splitReply, type Weigh, weighCharacters, weighX, X_POST_LIMIT } from './split.js';

/** How a source's outbound path takes replies: how long a post may be, how it is counted, whether it threads. */
export interface ReplyRules {
  /** Shown next to the character count: "X", "webhook". */
  label: string;
  limit: number;
  weigh: Weigh;
  /** A channel that threads takes a long reply as several posts; one that does not refuses it. */
  threads: boolean;
}

/** Webhook sources without `settings.replyMaxLength` take replies up to this many characters. */
export const DEFAULT_WEBHOOK_REPLY_LIMIT = 5000;

/**
 * The reply rules of a source. X: 280 weighted characters per post, long replies become a thread.
 * Webhook: `settings.replyMaxLength` characters (default 5,000), one message unless
 * `settings.replyThreads` is true.
 */
export function replyRulesFor(source: Pick<Source, 'kind' | 'settings'>): ReplyRules {
  if (source.kind === 'x') return { label: 'X', limit: X_POST_LIMIT, weigh: weighX, threads: true };
  const settings = source.settings ?? {};
  const max = settings.replyMaxLength;
  const limit = typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : DEFAULT_WEBHOOK_REPLY_LIMIT;
  return { label: 'webhook', limit, weigh: weighCharacters, threads: settings.replyThreads === true };
}

export interface PlannedReply {
  text: string;
  weight: number;
  /** The posts to send: one when it fits, several when the channel threads, none when empty. */
  parts: string[];
  /** Why the reply cannot be sent as it is, or null. */
  problem: 'empty' | 'too_long' | null;
}

/** Decides how a reply goes out on a channel, for the modal's live count and for submission alike. */
export function planReply(text: string, rules: ReplyRules): PlannedReply {
  const trimmed = text.trim();
  const weight = rules.weigh(trimmed);
  if (!trimmed) return { text: trimmed, weight, parts: [], problem: 'empty' };
  if (weight <= rules.limit) return { text: trimmed, weight, parts: [trimmed], problem: null };
  if (!rules.threads) return { text: trimmed, weight, parts: [], problem: 'too_long' };
  return { text: trimmed, weight, parts: splitReply(trimmed, rules), problem: null };
}
