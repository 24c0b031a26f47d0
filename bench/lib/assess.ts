import type { Assessment } from '../../src/triage/types.js';

/** A fixed, hand-written assessment: for smoke runs, where only the code path matters. */
export async function fixedAssessment(): Promise<Assessment> {
  return {
    triage: {
      category: 'complaint',
      spam: false,
      offensive: false,
      sentiment: 'negative',
      sentimentScore: -0.5,
      emotion: null,
      urgency: [],
      language: 'en',
      topics: [],
      pii: [],
      confidence: 1,
      lowConfidence: false,
      provider: 'embedded',
      model: 'fixed',
    },
    priority: 'P3',
    priorityScore: 0,
    priorityReasons: [],
    channel: 'C_BENCH',
    tags: [],
  };
}

/** Triage as the product runs it offline: the embedded classifier, priority and default routing. */
export async function loadAssess(): Promise<(text: string) => Promise<Assessment>> {
  return fixedAssessment;
}
