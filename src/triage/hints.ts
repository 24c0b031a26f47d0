/** What the source already knows about a post, which triage may use instead of guessing. */
export interface TriageHints {
  /** The language the source reported (X's `lang`), ISO 639-1; `und` or absent when unknown. */
  language?: string | null;
}
