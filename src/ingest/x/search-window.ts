/**
 * Recent search reaches this far back, so this is how far back a backfill can find a post again.
 * A module of its own (no dependencies) so config's checks can read it without loading the X client.
 */
export const SEARCH_WINDOW_MS = 7 * 24 * 3600_000;
