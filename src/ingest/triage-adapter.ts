import type { Assessment } from '../triage/types.js';
import type { AssessFn } from './pipeline.js';

/**
 * The part of the triage engine's service the pipeline needs (src/triage/triage-service.ts):
 * `assess(text, context)`. Typed structurally here so ingestion depends on the contract, not the file.
 */
export interface TextAssessor {
  assess(
    text: string,
    context?: {
      author?: { followerCount: number; verified: boolean; vip: boolean; handle?: string | null } | null;
      source?: { name: string; kind: string } | null;
      tags?: readonly string[];
      previousContacts?: number;
      hints?: { language?: string | null };
    },
  ): Promise<Assessment>;
}

/**
 * Adapts the triage service to the pipeline's `assess(item, author, source, history)`, adding what
 * Earshot knows of the author.
 */
export function assessWith(triage: TextAssessor): AssessFn {
  return async (item, author, source, history) =>
    triage.assess(item.text, {
      author: {
        followerCount: author.followerCount,
        verified: author.verified,
        vip: author.vip,
        handle: author.handle,
      },
      source: { name: source.name, kind: source.kind },
      tags: item.tags,
      previousContacts: history.previousContacts,
      hints: { language: item.language },
    });
}
