import type { Database } from '../../src/db/database.js';
import { processItem } from '../../src/ingest/process-item.js';
import { type InboundItem, storeItem } from '../../src/ingest/store-item.js';
import { ensureSource } from '../../src/sources/sources.js';
import type { Actor, Priority, Role } from '../../src/tickets/types.js';
import type { Assessment, TriageResult } from '../../src/triage/types.js';

export function userActor(userId: string, role: Role = 'agent'): Actor {
  return { kind: 'user', userId, role };
}

/** A triage outcome written by hand, for tests of what happens after triage. */
export function assessmentFixture(
  overrides: Omit<Partial<Assessment>, 'triage'> & { triage?: Partial<TriageResult> } = {},
): Assessment {
  const triage: TriageResult = {
    category: 'complaint',
    spam: false,
    offensive: false,
    sentiment: 'negative',
    sentimentScore: -0.6,
    emotion: 'anger',
    urgency: [],
    language: 'en',
    topics: ['checkout'],
    pii: [],
    confidence: 0.9,
    lowConfidence: false,
    provider: 'embedded',
    model: 'fixture',
    ...overrides.triage,
  };
  return {
    priority: 'P3' as Priority,
    priorityScore: 40,
    priorityReasons: ['negative'],
    channel: 'C_FEEDBACK',
    tags: [],
    ...overrides,
    triage,
  };
}

let counter = 0;

/** A unique inbound post from one author; pass `externalId` to repeat one. */
export function inboundFixture(sourceId: number, overrides: Partial<InboundItem> = {}): InboundItem {
  counter += 1;
  return {
    sourceId,
    externalId: `${Date.now()}${counter}`,
    author: { externalId: 'author-1', handle: 'dana', displayName: 'Dana', followerCount: 120 },
    text: 'My order never arrived and support is not answering',
    createdAt: new Date(),
    ...overrides,
  };
}

export async function seedSource(db: Database, name = 'webhook-test') {
  return ensureSource(db, { name, kind: 'webhook' }, null);
}

/** Stores and processes one item: the full ingest path with a hand-written assessment. */
export async function ingestFixture(
  db: Database,
  inbound: InboundItem,
  assessment: Assessment = assessmentFixture(),
  windowMinutes = 60,
) {
  const stored = await storeItem(db, inbound, { maxTextLength: 20_000 });
  return processItem(db, { itemId: stored.item.id, assessment }, { groupingWindowMinutes: windowMinutes });
}
