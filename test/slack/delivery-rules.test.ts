import { describe, expect, it } from 'vitest';
import { buildDigestCard, decodeDigestValue, encodeDigestValue } from '../../src/slack/blocks/digest-card.js';
import { classifySlackError } from '../../src/slack/delivery/classify.js';
import { backoffDelay, ChannelPacer, TokenBucket } from '../../src/slack/delivery/pacing.js';

describe('TokenBucket and ChannelPacer', () => {
  it('allows a small burst, then about one message a second', () => {
    const bucket = new TokenBucket(1, 3, 0);
    expect([bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.waitMs(0)).toBe(1000);
    expect(bucket.tryTake(999)).toBe(false);
    expect(bucket.tryTake(1000)).toBe(true);
    expect(bucket.tryTake(10_000_000)).toBe(true);
  });

  it('paces channels independently and holds a channel after a 429 until Retry-After passed', () => {
    const pacer = new ChannelPacer({ ratePerSecond: 1, burst: 1 });
    expect(pacer.tryTake('C1', 0)).toBe(true);
    expect(pacer.tryTake('C1', 0)).toBe(false);
    expect(pacer.tryTake('C2', 0)).toBe(true);
    pacer.hold('C2', 30_000);
    expect(pacer.heldUntil('C2', 1000)).toBe(30_000);
    expect(pacer.tryTake('C2', 29_999)).toBe(false);
    expect(pacer.waitMs('C2', 10_000)).toBe(20_000);
    expect(pacer.tryTake('C2', 30_000)).toBe(true);
  });

  it('paces the sends as well as the claims: a send delayed after its claim makes the next one wait', () => {
    const pacer = new ChannelPacer({ ratePerSecond: 1, burst: 1 });
    // Claimed at 0 but sent at 900 (its reads were slow); the next is claimed at 1000.
    expect(pacer.tryTake('C1', 0)).toBe(true);
    expect(pacer.sendWaitMs('C1', 900)).toBe(0);
    pacer.sent('C1', 900);
    expect(pacer.tryTake('C1', 1000)).toBe(true);
    // Sent at once it would reach Slack 100 ms after the first: it waits out the second instead.
    expect(pacer.sendWaitMs('C1', 1000)).toBe(900);
    expect(pacer.sendWaitMs('C1', 1900)).toBe(0);
    pacer.sent('C1', 1900);
    // Sends to other channels are paced apart from it.
    expect(pacer.sendWaitMs('C2', 1900)).toBe(0);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base to the ceiling, with jitter in the upper half', () => {
    const options = { baseMs: 1000, maxMs: 60_000 };
    expect(backoffDelay(1, options, () => 0)).toBe(500);
    expect(backoffDelay(1, options, () => 1)).toBe(1000);
    expect(backoffDelay(4, options, () => 1)).toBe(8000);
    expect(backoffDelay(50, options, () => 1)).toBe(60_000);
    expect(backoffDelay(50, options, () => 0)).toBe(30_000);
  });
});

describe('classifySlackError', () => {
  it('reads Retry-After from rate-limit errors', () => {
    expect(classifySlackError({ code: 'slack_webapi_rate_limited_error', retryAfter: 7 })).toEqual({
      kind: 'rate_limited',
      retryAfterMs: 7000,
      error: 'ratelimited',
    });
  });

  it('gives up on errors a retry cannot fix, and retries the rest', () => {
    const platform = (error: string) => ({ code: 'slack_webapi_platform_error', data: { ok: false, error } });
    expect(classifySlackError(platform('channel_not_found')).kind).toBe('permanent');
    expect(classifySlackError(platform('invalid_blocks')).kind).toBe('permanent');
    expect(classifySlackError(platform('internal_error')).kind).toBe('transient');
    expect(classifySlackError(platform('invalid_auth')).kind).toBe('transient');
    expect(classifySlackError({ code: 'slack_webapi_http_error', statusCode: 503 })).toEqual({
      kind: 'transient',
      error: 'http_503',
    });
    expect(classifySlackError({ code: 'slack_webapi_request_error' }).kind).toBe('transient');
    expect(classifySlackError(new Error('socket hang up')).kind).toBe('transient');
  });
});

describe('buildDigestCard', () => {
  const tickets = [
    ...Array.from({ length: 80 }, (_, i) => ({
      id: i + 1,
      category: 'complaint' as const,
      priority: 'P3' as const,
      topics: ['checkout'],
    })),
    ...Array.from({ length: 30 }, (_, i) => ({
      id: i + 81,
      category: 'question' as const,
      priority: 'P4' as const,
      topics: ['refund'],
    })),
    ...Array.from({ length: 14 }, (_, i) => ({
      id: i + 111,
      category: 'other' as const,
      priority: 'P3' as const,
      topics: ['<!channel>'],
    })),
  ];

  it('summarises the burst by category and topic, with a button that points at the stored digest', () => {
    const card = buildDigestCard({ digestId: 77, tickets, windowMinutes: 5 });
    expect(card.text).toBe(
      '124 new items in the last 5 minutes: 80 complaints about checkout, 30 questions about refund, 14 other items about &lt;!channel&gt;',
    );
    const json = JSON.stringify(card.blocks);
    expect(json).toContain('digest_open');
    expect(json).toContain('Open the 124 items');
    expect(json).not.toContain('<!channel>');
    const actions = card.blocks.find((b) => b.type === 'actions');
    const button = actions?.type === 'actions' ? actions.elements[0] : undefined;
    expect(button?.type === 'button' && decodeDigestValue(button.value)).toEqual({ digestId: 77, offset: 0 });
  });

  it('carries only the digest id and page in button values, whatever the burst size', () => {
    const value = encodeDigestValue({ digestId: 123_456_789, offset: 900 });
    expect(value.length).toBeLessThan(40);
    expect(decodeDigestValue(value)).toEqual({ digestId: 123_456_789, offset: 900 });
    expect(decodeDigestValue('not json')).toBeNull();
    expect(decodeDigestValue('{"t":[1,2,3]}')).toBeNull();
  });
});
