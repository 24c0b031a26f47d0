import { z } from 'zod';
import { CATEGORIES, PRIORITIES, type Priority } from '../tickets/types.js';
import { type TriageResult, URGENCY_SIGNALS } from './types.js';

const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1).optional();

/**
 * A rule's conditions. Every condition given must hold; within one, any listed value matches.
 * An empty object matches everything (a catch-all rule).
 */
export const routingConditionsSchema = z
  .object({
    category: list(z.enum(CATEGORIES)),
    sentiment: list(z.enum(['negative', 'neutral', 'positive'])),
    priority: list(z.enum(PRIORITIES)),
    /** At least this urgent: `P2` matches P1 and P2. */
    minPriority: z.enum(PRIORITIES).optional(),
    language: list(z.string().min(2)),
    /** Source names (as in the sources table) or kinds (`x`, `webhook`). */
    source: list(z.string().min(1)),
    tags: list(z.string().min(1)),
    topics: list(z.string().min(1)),
    urgency: list(z.enum(URGENCY_SIGNALS)),
    /** Author handles, with or without @. */
    author: list(z.string().min(1)),
    vip: z.boolean().optional(),
  })
  .strict();
export type RoutingConditions = z.infer<typeof routingConditionsSchema>;

export interface RoutingRule {
  id: number;
  position: number;
  name: string;
  conditions: Record<string, unknown>;
  channel: string;
  addTags: string[];
  notify: string | null;
  enabled: boolean;
}

/** What routing looks at for one item. */
export interface RoutingInput {
  triage: Pick<TriageResult, 'category' | 'sentiment' | 'language' | 'topics' | 'urgency'>;
  priority: Priority;
  source?: { name: string; kind: string } | null;
  tags?: readonly string[];
  author?: { handle?: string | null; vip?: boolean } | null;
}

export interface RoutingDecision {
  channel: string;
  tags: string[];
  notify: string | null;
  /** The rule that matched; null when the default channel took the item. */
  rule: { id: number; name: string } | null;
}

const lower = (value: string) => value.toLowerCase().replace(/^@/, '');
const anyOf = (wanted: readonly string[] | undefined, actual: readonly string[]) =>
  !wanted || wanted.some((w) => actual.map(lower).includes(lower(w)));

/** True when every condition of the rule holds for the input. */
export function matchesConditions(conditions: RoutingConditions, input: RoutingInput): boolean {
  const { triage } = input;
  if (conditions.category && !conditions.category.includes(triage.category)) return false;
  if (conditions.sentiment && !conditions.sentiment.includes(triage.sentiment)) return false;
  if (conditions.priority && !conditions.priority.includes(input.priority)) return false;
  if (conditions.minPriority && PRIORITIES.indexOf(input.priority) > PRIORITIES.indexOf(conditions.minPriority))
    return false;
  if (!anyOf(conditions.language, [triage.language])) return false;
  if (conditions.source && (!input.source || !anyOf(conditions.source, [input.source.name, input.source.kind])))
    return false;
  if (!anyOf(conditions.tags, input.tags ?? [])) return false;
  if (!anyOf(conditions.topics, triage.topics)) return false;
  if (conditions.urgency && !conditions.urgency.some((u) => triage.urgency.includes(u))) return false;
  if (conditions.author && !anyOf(conditions.author, input.author?.handle ? [input.author.handle] : [])) return false;
  if (conditions.vip !== undefined && Boolean(input.author?.vip) !== conditions.vip) return false;
  return true;
}

/**
 * Evaluates enabled rules in position order; the first match wins and the default channel takes
 * the rest. A rule whose stored conditions no longer parse is skipped, never matched by accident.
 */
export function routeItem(rules: readonly RoutingRule[], input: RoutingInput, defaultChannel: string): RoutingDecision {
  const ordered = [...rules].filter((rule) => rule.enabled).sort((a, b) => a.position - b.position || a.id - b.id);
  for (const rule of ordered) {
    const parsed = routingConditionsSchema.safeParse(rule.conditions);
    if (!parsed.success) continue;
    if (matchesConditions(parsed.data, input)) {
      return {
        channel: rule.channel,
        tags: [...new Set([...(input.tags ?? []), ...rule.addTags])],
        notify: rule.notify,
        rule: { id: rule.id, name: rule.name },
      };
    }
  }
  return { channel: defaultChannel, tags: [...(input.tags ?? [])], notify: null, rule: null };
}

/** A rule's conditions in words, for lists and confirmations: `category complaint or bug_report, priority P2 or higher`. */
export function describeConditions(conditions: Record<string, unknown>): string {
  const parts = Object.entries(conditions).map(([key, value]) => {
    if (key === 'vip') return value ? 'VIP authors' : 'non-VIP authors';
    if (key === 'minPriority') return `priority ${String(value)} or higher`;
    return `${key} ${Array.isArray(value) ? value.join(' or ') : String(value)}`;
  });
  return parts.length ? parts.join(', ') : 'everything';
}
