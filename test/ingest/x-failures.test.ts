import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, classifyFailure, X_BACKOFF } from '../../src/ingest/x/backoff.js';
import { classifySearchRefusal, idAt, idTime, isNotEnrolled } from '../../src/ingest/x/refusals.js';
import { FakeXServer, snowflakeAt } from '../fakes/x-server.js';
import { xClients } from './helpers.js';

describe('X reconnect backoff (X’s published schedule)', () => {
  const schedule = (kind: Parameters<typeof backoffDelay>[1], attempts: number) =>
    Array.from({ length: attempts }, (_, i) => backoffDelay(X_BACKOFF, kind, i + 1));

  it('backs off network errors linearly in 250 ms steps up to 16 s', () => {
    expect(schedule('network', 4)).toEqual([250, 500, 750, 1000]);
    expect(backoffDelay(X_BACKOFF, 'network', 64)).toBe(16_000);
    expect(backoffDelay(X_BACKOFF, 'network', 65)).toBe(16_000);
    expect(backoffDelay(X_BACKOFF, 'network', 1000)).toBe(16_000);
  });

  it('backs off HTTP errors exponentially from 5 s to 320 s', () => {
    expect(schedule('http', 8)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 320_000]);
  });

  it('backs off 429s exponentially from 60 s, capped at 15 minutes', () => {
    expect(schedule('rate_limit', 6)).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
  });

  it('treats attempt 0 or below as the first attempt', () => {
    expect(backoffDelay(X_BACKOFF, 'http', 0)).toBe(5_000);
    expect(backoffDelay(X_BACKOFF, 'network', -3)).toBe(250);
  });
});

describe('sorting X failures, from the real client against the fake X', () => {
  let x: FakeXServer;
  let closedPort = 0;

  beforeAll(async () => {
    x = new FakeXServer();
    await x.start();
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
  afterAll(async () => {
    await x.close();
  });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (err: unknown) => err,
    );

  it('calls a refused connection a network failure, a 5xx an HTTP one and a 429 a rate limit', async () => {
    const unreachable = await failure(xClients(`http://127.0.0.1:${closedPort}`).app.v2.streamRules());
    expect(classifyFailure(unreachable)).toBe('network');
    x.searchFailures = [503];
    expect(classifyFailure(await failure(xClients(x.url).app.v2.get('tweets/search/recent', { query: 'a' })))).toBe(
      'http',
    );
    x.searchFailures = [429];
    expect(classifyFailure(await failure(xClients(x.url).app.v2.get('tweets/search/recent', { query: 'a' })))).toBe(
      'rate_limit',
    );
    expect(classifyFailure(new Error('socket hang up'))).toBe('network');
  });

  it('tells a cursor outside the search window from a refused query, and leaves other errors for retrying', async () => {
    const client = xClients(x.url).app;
    const old = snowflakeAt(new Date(Date.now() - 8 * 86_400_000));
    const window = classifySearchRefusal(
      await failure(client.v2.get('tweets/search/recent', { query: 'acme', since_id: old })),
    );
    expect(window).toEqual({
      kind: 'outside_window',
      message: expect.stringContaining("'since_id' must be a tweet id created after"),
    });
    const badQuery = classifySearchRefusal(
      await failure(client.v2.get('tweets/search/recent', { query: 'acme bogus:op' })),
    );
    expect(badQuery).toEqual({ kind: 'bad_query', message: expect.stringContaining("invalid operator 'bogus'") });
    x.searchFailures = [503];
    expect(classifySearchRefusal(await failure(client.v2.get('tweets/search/recent', { query: 'acme' })))).toBeNull();
  });

  it('recognises X’s client-not-enrolled refusal of the stream on tiers without it', async () => {
    x.streamAccess = false;
    const err = await failure(xClients(x.url).app.v2.streamRules());
    x.streamAccess = true;
    expect(isNotEnrolled(err)).toBe(true);
    expect(isNotEnrolled(await failure(xClients(x.url).app.v2.get('nowhere')))).toBe(false);
  });
});

describe('post ids as times (snowflakes)', () => {
  it('reads the time out of an id and makes the smallest id of a moment, as X suggests them', () => {
    // From a real refusal: "'since_id' must be a tweet id created after 2026-06-22T16:35Z. Please use a
    // 'since_id' that is larger than 2069097036665323520".
    expect(idTime('2069097036665323520').toISOString()).toBe('2026-06-22T16:35:50.162Z');
    const at = new Date('2026-06-22T16:35:50.162Z');
    expect(idAt(at)).toBe('2069097036665323520');
    expect(BigInt(idAt(new Date(at.getTime() + 1)))).toBeGreaterThan(BigInt(idAt(at)));
  });
});
