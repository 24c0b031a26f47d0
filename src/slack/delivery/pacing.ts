/**
 * Slack allows about one message per second per channel, with short bursts. A token bucket per
 * channel keeps the worker inside that, and a channel Slack answered 429 for is held until its
 * `Retry-After` has passed. Pure: the caller passes the time.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerSecond);
    this.updatedAt = now;
  }

  /** Takes a token if one is there. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes a token whether or not one is there (the balance may go below zero and refills from there). */
  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }
}

export interface PacerOptions {
  ratePerSecond: number;
  burst: number;
}

/**
 * One bucket per channel, plus the channels on hold after a 429. Tokens are taken when rows are
 * claimed (so no more rows are leased than can go out), but what Slack counts is when each message
 * arrives: a send delayed after its claim (the reads before it) followed by one that is not would
 * arrive closer together than the claims were. So the sends are paced as well, by a second bucket
 * per channel that is debited as each message goes out.
 */
export class ChannelPacer {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sends = new Map<string, TokenBucket>();
  private readonly holds = new Map<string, number>();

  constructor(private readonly options: PacerOptions) {}

  private bucket(channel: string, now: number, of = this.buckets): TokenBucket {
    let bucket = of.get(channel);
    if (!bucket) {
      bucket = new TokenBucket(this.options.ratePerSecond, this.options.burst, now);
      of.set(channel, bucket);
    }
    return bucket;
  }

  /** Milliseconds to wait before a message claimed for the channel actually goes out (0: now). */
  sendWaitMs(channel: string, now: number): number {
    return this.bucket(channel, now, this.sends).waitMs(now);
  }

  /** A message went out to the channel. */
  sent(channel: string, now: number): void {
    this.bucket(channel, now, this.sends).take(now);
  }

  /** When the channel may be sent to again after a 429, or null. */
  heldUntil(channel: string, now: number): number | null {
    const until = this.holds.get(channel);
    if (until === undefined) return null;
    if (until <= now) {
      this.holds.delete(channel);
      return null;
    }
    return until;
  }

  hold(channel: string, until: number): void {
    this.holds.set(channel, Math.max(until, this.holds.get(channel) ?? 0));
  }

  /** Takes a send slot for the channel, or says no (held, or no token yet). */
  tryTake(channel: string, now: number): boolean {
    if (this.heldUntil(channel, now) !== null) return false;
    return this.bucket(channel, now).tryTake(now);
  }

  /** Milliseconds until the channel can take a message again. */
  waitMs(channel: string, now: number): number {
    const held = this.heldUntil(channel, now);
    return Math.max(held === null ? 0 : held - now, this.bucket(channel, now).waitMs(now));
  }
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with full jitter: attempt 1 waits up to `baseMs`, doubling to `maxMs`.
 * Jitter spreads replicas and rows apart, so a recovering Slack is not hit by all of them at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
