import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY_WEIGHTS, formatCount, type PriorityInput, scorePriority } from '../../src/triage/priority.js';
import { mergePriorityWeights, PRIORITY_WEIGHT_NAMES } from '../../src/triage/priority-settings.js';

const calm: PriorityInput['triage'] = {
  sentiment: 'neutral',
  sentimentScore: 0,
  emotion: null,
  urgency: [],
  category: 'question',
  spam: false,
  topics: [],
};

describe('scorePriority', () => {
  it('makes a plain question P3 with no reasons', () => {
    expect(scorePriority({ triage: calm })).toEqual({ priority: 'P3', score: 5, reasons: [] });
  });

  it('makes praise and chatter P4', () => {
    expect(
      scorePriority({ triage: { ...calm, category: 'praise', sentiment: 'positive', sentimentScore: 0.9 } }).priority,
    ).toBe('P4');
    expect(scorePriority({ triage: { ...calm, category: 'other' } }).priority).toBe('P4');
  });

  it('raises an angry refund complaint from an influential author to P1, with the card reasons', () => {
    const result = scorePriority({
      triage: {
        ...calm,
        category: 'complaint',
        sentiment: 'negative',
        sentimentScore: -0.8,
        emotion: 'anger',
        urgency: ['payment'],
        topics: ['refund'],
      },
      author: { followerCount: 120_000, verified: false, vip: false },
    });
    expect(result.priority).toBe('P1');
    expect(result.reasons).toEqual(['120k followers', 'refund', 'angry']);
  });

  it('keeps the same complaint from a small account a step lower', () => {
    const result = scorePriority({
      triage: { ...calm, category: 'complaint', sentiment: 'negative', sentimentScore: -0.8, emotion: 'anger' },
      author: { followerCount: 150, verified: false, vip: false },
    });
    expect(result.priority).toBe('P2');
    expect(result.reasons).toEqual(['angry']);
  });

  it.each([
    ['security', 'P1'],
    ['safety', 'P1'],
    ['outage', 'P2'],
    ['legal', 'P2'],
    ['churn', 'P3'],
  ] as const)('an otherwise calm bug report with %s is %s', (signal, priority) => {
    expect(scorePriority({ triage: { ...calm, category: 'bug_report', urgency: [signal] } }).priority).toBe(priority);
  });

  it('adds VIP, verified and repeat contact, with reasons', () => {
    const result = scorePriority({
      triage: calm,
      author: { followerCount: 0, verified: true, vip: true },
      previousContacts: 2,
    });
    expect(result.reasons).toEqual(['VIP', '3rd contact', 'verified']);
    expect(result.priority).toBe('P2');
  });

  it('always puts spam last', () => {
    expect(scorePriority({ triage: { ...calm, spam: true, urgency: ['security'] } })).toEqual({
      priority: 'P4',
      score: 0,
      reasons: ['spam'],
    });
  });

  it('takes weight overrides from the team settings', () => {
    const result = scorePriority(
      { triage: { ...calm, category: 'bug_report', urgency: ['outage'] } },
      { urgency: { outage: 60, security: 50, legal: 30, payment: 15, safety: 50, churn: 20, media: 15 } },
    );
    expect(result.priority).toBe('P1');
  });

  it('scores follower counts on a log scale', () => {
    const score = (followerCount: number) =>
      scorePriority({ triage: calm, author: { followerCount, verified: false, vip: false } }).score;
    expect(score(10_000) - score(1_000)).toBeCloseTo(10);
    expect(score(100_000) - score(10_000)).toBeCloseTo(10);
    expect(score(1_000_000_000)).toBe(score(10_000_000)); // capped
  });

  it('formats counts the way the card shows them', () => {
    expect([950, 1_234, 24_800, 120_000, 2_500_000].map(formatCount)).toEqual(['950', '1.2k', '24.8k', '120k', '2.5M']);
  });
});

describe('stored priority weights', () => {
  it('lay changes over the documented defaults, group by group, and ignore a malformed row', () => {
    const merged = mergePriorityWeights({ urgency: { outage: 70 }, thresholds: { P1: 80 }, vip: 40 });
    expect(merged.urgency).toEqual({ ...DEFAULT_PRIORITY_WEIGHTS.urgency, outage: 70 });
    expect(merged.thresholds).toEqual({ ...DEFAULT_PRIORITY_WEIGHTS.thresholds, P1: 80 });
    expect(merged.vip).toBe(40);
    expect(merged.category).toEqual(DEFAULT_PRIORITY_WEIGHTS.category);
    expect(mergePriorityWeights({ urgency: { outage: 'lots' } })).toEqual(DEFAULT_PRIORITY_WEIGHTS);
    expect(mergePriorityWeights(null)).toEqual(DEFAULT_PRIORITY_WEIGHTS);
  });

  it('names every weight the way `/earshot priority set` takes it', () => {
    expect(PRIORITY_WEIGHT_NAMES).toEqual(
      expect.arrayContaining(['negativeSentiment', 'urgency.outage', 'category.praise', 'thresholds.P1', 'vip']),
    );
    expect(PRIORITY_WEIGHT_NAMES).not.toContain('urgency');
  });
});
