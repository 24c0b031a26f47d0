/**
 * X's published reconnect guidance for the filtered stream, as data: network errors back off
 * linearly (250 ms steps up to 16 s), HTTP errors exponentially from 5 s to 320 s, 429s
 * exponentially from a minute. Tests scale it down; production uses the defaults.
 */
export interface BackoffPolicy {
  networkStepMs: number;
  networkMaxMs: number;
  httpBaseMs: number;
  httpMaxMs: number;
  rateLimitBaseMs: number;
  rateLimitMaxMs: number;
}

export const X_BACKOFF: BackoffPolicy = {
  networkStepMs: 250,
  networkMaxMs: 16_000,
  httpBaseMs: 5_000,
  httpMaxMs: 320_000,
  rateLimitBaseMs: 60_000,
  rateLimitMaxMs: 15 * 60_000,
};

export type FailureKind = 'network' | 'http' | 'rate_limit';

/** How long to wait before attempt `attempt` (1-based) after a failure of this kind. */
export function backoffDelay(policy: BackoffPolicy, kind: FailureKind, attempt: number): number {
  const n = Math.max(1, attempt);
  if (kind === 'network') return Math.min(policy.networkStepMs * n, policy.networkMaxMs);
  if (kind === 'http') return Math.min(policy.httpBaseMs * 2 ** (n - 1), policy.httpMaxMs);
  return Math.min(policy.rateLimitBaseMs * 2 ** (n - 1), policy.rateLimitMaxMs);
}

/** Sorts a thrown value from twitter-api-v2 into X's three backoff classes. */
export function classifyFailure(err: unknown): FailureKind {
  const code = (err as { code?: unknown } | null)?.code;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'response' && typeof code === 'number') return code === 429 ? 'rate_limit' : 'http';
  return 'network';
}
