import type { Category, Priority } from '../tickets/types.js';
import type { TriageResult, UrgencySignal } from './types.js';

/**
 * Priority is a sum of points, then cut into P1–P4:
 *
 *   score = sentiment intensity   negativeSentiment × max(0, −sentimentScore)
 *         + anger                 when the emotion is anger and sentiment negative
 *         + urgency signals       each signal's points (outage, security, legal, payment, safety, churn, media)
 *         + category              complaint and bug_report up, praise and other down
 *         + author influence      followers on a log scale above 1,000 (10 points per ×10), verified, VIP
 *         + repeat contact        per earlier contact, capped
 *
 *   P1 ≥ thresholds.P1, P2 ≥ thresholds.P2, P3 ≥ thresholds.P3, else P4. Spam is always P4.
 *
 * Every weight can be overridden (e.g. from a team setting) by passing a partial `PriorityWeights`.
 */
export interface PriorityWeights {
  negativeSentiment: number;
  anger: number;
  urgency: Record<UrgencySignal, number>;
  category: Record<Category, number>;
  /** Points per tenfold of followers above `followersFloor`. */
  followersPerDecade: number;
  followersFloor: number;
  followersCap: number;
  verified: number;
  vip: number;
  repeatContact: number;
  repeatContactCap: number;
  thresholds: { P1: number; P2: number; P3: number };
}

export const DEFAULT_PRIORITY_WEIGHTS: PriorityWeights = {
  negativeSentiment: 25,
  anger: 10,
  urgency: { outage: 30, security: 50, legal: 30, payment: 15, safety: 50, churn: 20, media: 15 },
  category: { complaint: 10, bug_report: 10, question: 5, suggestion: 0, praise: -10, other: -5 },
  followersPerDecade: 10,
  followersFloor: 1_000,
  followersCap: 30,
  verified: 5,
  vip: 25,
  repeatContact: 8,
  repeatContactCap: 20,
  thresholds: { P1: 60, P2: 35, P3: 5 },
};

export interface AuthorSignals {
  followerCount: number;
  verified: boolean;
  vip: boolean;
}

export interface PriorityInput {
  triage: Pick<TriageResult, 'sentiment' | 'sentimentScore' | 'emotion' | 'urgency' | 'category' | 'spam' | 'topics'>;
  author?: AuthorSignals | null;
  /** How many earlier tickets or posts this author sent recently. */
  previousContacts?: number;
}

export interface PriorityScore {
  priority: Priority;
  score: number;
  /** Short, in order of weight: "refund", "angry", "120k followers". */
  reasons: string[];
}

const URGENCY_REASON: Record<UrgencySignal, string> = {
  outage: 'outage',
  security: 'security',
  legal: 'legal threat',
  payment: 'payment',
  safety: 'safety',
  churn: 'churn risk',
  media: 'media',
};

/** Scores an item's priority; pure, so the same inputs always give the same priority and reasons. */
export function scorePriority(input: PriorityInput, overrides: Partial<PriorityWeights> = {}): PriorityScore {
  const w: PriorityWeights = { ...DEFAULT_PRIORITY_WEIGHTS, ...overrides };
  const parts: { points: number; reason: string | null }[] = [];
  const { triage } = input;
  if (triage.spam) return { priority: 'P4', score: 0, reasons: ['spam'] };

  if (triage.sentiment === 'negative') {
    const intensity = Math.max(0, -triage.sentimentScore);
    const angry = triage.emotion === 'anger';
    parts.push({
      points: w.negativeSentiment * intensity,
      reason: angry ? null : intensity >= 0.6 ? 'very negative' : null,
    });
    if (angry) parts.push({ points: w.anger, reason: 'angry' });
  }
  for (const signal of triage.urgency) {
    const reason = signal === 'payment' && triage.topics.includes('refund') ? 'refund' : URGENCY_REASON[signal];
    parts.push({ points: w.urgency[signal] ?? 0, reason });
  }
  parts.push({ points: w.category[triage.category] ?? 0, reason: null });

  const author = input.author;
  if (author) {
    if (author.followerCount > w.followersFloor) {
      const decades = Math.log10(author.followerCount / w.followersFloor);
      const points = Math.min(w.followersCap, w.followersPerDecade * decades);
      parts.push({
        points,
        reason: author.followerCount >= 10_000 ? `${formatCount(author.followerCount)} followers` : null,
      });
    }
    if (author.verified) parts.push({ points: w.verified, reason: 'verified' });
    if (author.vip) parts.push({ points: w.vip, reason: 'VIP' });
  }
  const previous = input.previousContacts ?? 0;
  if (previous > 0) {
    parts.push({
      points: Math.min(w.repeatContactCap, w.repeatContact * previous),
      reason: previous === 1 ? 'repeat contact' : `${ordinal(previous + 1)} contact`,
    });
  }

  const score = Math.round(parts.reduce((sum, part) => sum + part.points, 0) * 10) / 10;
  const reasons = parts
    .filter((part) => part.reason && part.points > 0)
    .sort((a, b) => b.points - a.points)
    .map((part) => part.reason!);
  return { priority: priorityFor(score, w.thresholds), score, reasons: [...new Set(reasons)] };
}

function priorityFor(score: number, thresholds: PriorityWeights['thresholds']): Priority {
  if (score >= thresholds.P1) return 'P1';
  if (score >= thresholds.P2) return 'P2';
  if (score >= thresholds.P3) return 'P3';
  return 'P4';
}

/**
 * 950, 1.2k, 24.8k, 120k, 2.5M: follower counts as the priority reasons and the card's byline both
 * show them, so one card never reads "25k followers" beside "24.8k followers".
 */
export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trim(n / 1000)}k`;
  return `${trim(n / 1_000_000)}M`;
}

function trim(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
