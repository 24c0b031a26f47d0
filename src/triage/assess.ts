import { type AuthorSignals, type PriorityWeights, scorePriority } from './priority.js';
import { type RoutingRule, routeItem } from './routing.js';
import type { Assessment, TriageResult } from './types.js';

export interface AssessmentContext {
  author?: (AuthorSignals & { handle?: string | null }) | null;
  source?: { name: string; kind: string } | null;
  /** Tags the item already carries (from the source or an earlier ticket). */
  tags?: readonly string[];
  /** Earlier contacts by the same author in the recent window. */
  previousContacts?: number;
}

export interface AssessmentOptions {
  defaultChannel: string;
  priorityWeights?: Partial<PriorityWeights>;
}

/** Triage + priority + routing → what ingestion stores and the card shows. Pure. */
export function buildAssessment(
  triage: TriageResult,
  context: AssessmentContext,
  rules: readonly RoutingRule[],
  options: AssessmentOptions,
): Assessment {
  const { priority, score, reasons } = scorePriority(
    { triage, author: context.author ?? null, previousContacts: context.previousContacts ?? 0 },
    options.priorityWeights,
  );
  const route = routeItem(
    rules,
    {
      triage,
      priority,
      source: context.source ?? null,
      tags: context.tags ?? [],
      author: context.author ? { handle: context.author.handle ?? null, vip: context.author.vip } : null,
    },
    options.defaultChannel,
  );
  return {
    triage,
    priority,
    priorityScore: score,
    priorityReasons: reasons,
    channel: route.channel,
    tags: route.tags,
    notify: route.notify,
    rule: route.rule,
  };
}
