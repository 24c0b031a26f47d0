/** How an injected failure answers: an HTTP error status (500, 503, 429 with Retry-After) or Slack's `{ ok: false }`. */
export interface FaultSpec {
  /** 500/502/503 answer that status; 429 answers `ratelimited` with a Retry-After header. */
  status?: 500 | 502 | 503 | 429;
  /** Seconds for Retry-After on a 429 (default 1). */
  retryAfter?: number;
  /** Answer HTTP 200 `{ ok: false, error }` instead, e.g. `channel_not_found` or `internal_error`. */
  error?: string;
  /** How many calls fail (default 1). */
  count?: number;
  /**
   * The call succeeds at Slack (the message is posted) but its answer is lost: `drop` closes the
   * connection, `500` answers HTTP 500, `hang` never answers (until `releaseHeld()`). This is the
   * timeout or dropped connection after which a client cannot know whether its post happened.
   */
  answerLost?: 'drop' | 500 | 'hang';
}

interface PendingFault {
  method: string;
  status: number;
  retryAfter: number;
  error?: string;
  answerLost?: 'drop' | 500 | 'hang';
  remaining: number;
}

/** What the HTTP layer answers instead of running the method. */
export type FaultAnswer =
  | { kind: 'status'; status: number; retryAfter?: number; error: string }
  | { kind: 'error'; error: string }
  | { kind: 'unreachable' }
  /** Run the method, then lose its answer as `how` says. */
  | { kind: 'lost'; how: 'drop' | 500 | 'hang' };

/** `true`/'http' answers 503 to everything; 'unreachable' drops connections, as an unreachable host does. */
export type DownMode = boolean | 'http' | 'unreachable';

/**
 * Outage tests: failures queued per method (or `*` for any), and a switch that takes the whole API
 * down. Faults are consumed in the order they were added.
 */
export class FaultInjector {
  private pending: PendingFault[] = [];
  private down: DownMode = false;
  private readonly held = new Set<() => void>();

  failNext(method: string, spec: FaultSpec = {}): void {
    this.pending.push({
      method,
      status: spec.error !== undefined ? 200 : (spec.status ?? 500),
      retryAfter: spec.retryAfter ?? 1,
      ...(spec.error !== undefined ? { error: spec.error } : {}),
      ...(spec.answerLost !== undefined ? { answerLost: spec.answerLost } : {}),
      remaining: spec.count ?? 1,
    });
  }

  setDown(mode: DownMode): void {
    this.down = mode;
  }

  get isDown(): boolean {
    return this.down !== false;
  }

  clear(): void {
    this.pending = [];
    this.down = false;
    this.releaseHeld();
  }

  /** Remembers how to end a request whose answer is held back (`answerLost: 'hang'`). */
  hold(end: () => void): void {
    this.held.add(end);
  }

  /** Ends every held request by dropping its connection, as a client timeout would find it. */
  releaseHeld(): number {
    const ends = [...this.held];
    this.held.clear();
    for (const end of ends) end();
    return ends.length;
  }

  /** The failure this call of `method` gets, if any; consumes one use of a queued fault. */
  take(method: string): FaultAnswer | null {
    if (this.down === 'unreachable') return { kind: 'unreachable' };
    if (this.down) return { kind: 'status', status: 503, error: 'service_unavailable' };
    const index = this.pending.findIndex((fault) => fault.method === method || fault.method === '*');
    if (index < 0) return null;
    const fault = this.pending[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.pending.splice(index, 1);
    if (fault.answerLost !== undefined) return { kind: 'lost', how: fault.answerLost };
    if (fault.error !== undefined) return { kind: 'error', error: fault.error };
    if (fault.status === 429)
      return { kind: 'status', status: 429, retryAfter: fault.retryAfter, error: 'ratelimited' };
    return { kind: 'status', status: fault.status, error: 'internal_error' };
  }
}

export interface RateLimitSettings {
  /** Messages per second per channel once the burst is spent (Slack: about 1). */
  perSecond: number;
  /** Messages a quiet channel may take at once. */
  burst: number;
}

/**
 * Slack's per-channel posting limit as a token bucket: off by default (tests that do not test it
 * should not wait for it), on for outage and burst tests and the demo.
 */
export class ChannelRateLimiter {
  private settings: RateLimitSettings | null = null;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number) {}

  enable(settings: Partial<RateLimitSettings> = {}): void {
    this.settings = { perSecond: settings.perSecond ?? 1, burst: settings.burst ?? 3 };
    this.buckets.clear();
  }

  disable(): void {
    this.settings = null;
    this.buckets.clear();
  }

  get enabled(): boolean {
    return this.settings !== null;
  }

  /** Takes one message from the channel's bucket: 0 when allowed, else the seconds to wait (Retry-After). */
  take(channel: string): number {
    const settings = this.settings;
    if (!settings) return 0;
    const now = this.now();
    const bucket = this.buckets.get(channel) ?? { tokens: settings.burst, at: now };
    bucket.tokens = Math.min(settings.burst, bucket.tokens + ((now - bucket.at) / 1000) * settings.perSecond);
    bucket.at = now;
    this.buckets.set(channel, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / settings.perSecond));
  }
}
