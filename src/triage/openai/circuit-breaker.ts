/** How the breaker behaves: open after `threshold` consecutive failures, for `cooldownMs`. */
export interface CircuitBreakerOptions {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  state(): CircuitState;
  /** True while calls should not even be tried: open and cooling down, or a trial call is in flight. */
  isOpen(): boolean;
  /**
   * Asks to make one call. Closed: yes. Open with the cool-down over: yes for exactly one trial
   * call (half-open); its outcome closes or re-opens the breaker. Otherwise no.
   */
  tryAcquire(): boolean;
  success(): void;
  failure(): void;
}

/**
 * A circuit breaker for an upstream that can go away (OpenAI): after a run of failures, callers
 * skip it for a cool-down instead of each paying the timeout and retries, then one call tries again.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let failures = 0;
  let openUntil = 0;
  let probing = false;
  const tripped = () => failures >= options.threshold;
  return {
    state: () => (!tripped() ? 'closed' : now() < openUntil ? 'open' : 'half-open'),
    isOpen: () => tripped() && (now() < openUntil || probing),
    tryAcquire() {
      if (!tripped()) return true;
      if (now() < openUntil || probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      probing = false;
    },
    failure() {
      failures++;
      probing = false;
      if (tripped()) openUntil = now() + options.cooldownMs;
    },
  };
}
