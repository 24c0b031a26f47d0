import { ErrorCode, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackSandbox, SEED, type SlackSandbox } from '../../src/sandbox/index.js';
import { BOT_TOKEN, logger, sandboxClient } from './helpers.js';

let sandbox: SlackSandbox;
let now = 1_767_000_000_000;

beforeEach(async () => {
  now = 1_767_000_000_000;
  sandbox = createSlackSandbox({
    signingSecret: 'secret',
    appEventsUrl: 'http://127.0.0.1:9/slack/events',
    botToken: BOT_TOKEN,
    logger,
    clock: () => now,
  });
  await sandbox.listen();
});

afterEach(async () => {
  await sandbox.close();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('fault injection', () => {
  it('fails the next calls of one method with HTTP 500, then recovers', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    sandbox.workspace.failNext('chat.postMessage', { status: 500, count: 2 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await failure(client.chat.postMessage({ channel: 'earshot-feedback', text: 'card' }));
      expect(err).toBeInstanceOf(WebAPIHTTPError);
      expect((err as WebAPIHTTPError).statusCode).toBe(500);
    }
    // Other methods are untouched.
    await client.auth.test();
    const posted = await client.chat.postMessage({ channel: 'earshot-feedback', text: 'card' });
    expect(posted.ok).toBe(true);
    expect(sandbox.workspace.callsTo('chat.postMessage').map((call) => call.status)).toEqual([500, 500, 200]);
    expect(sandbox.workspace.channelMessages(SEED.channels.feedback)).toHaveLength(1);
  });

  it('answers 429 with Retry-After, which the real client surfaces as WebAPIRateLimitedError', async () => {
    const client = sandboxClient(sandbox.apiUrl(), { rejectRateLimitedCalls: true });
    sandbox.workspace.failNext('*', { status: 429, retryAfter: 7 });
    const err = await failure(client.chat.update({ channel: 'earshot-feedback', ts: '1.1', text: 'x' }));
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).code).toBe(ErrorCode.RateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
  });

  it('answers a Slack error in the body when asked to', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    sandbox.workspace.failNext('views.open', { error: 'internal_error' });
    const err = await failure(client.views.open({ trigger_id: 'x', view: { type: 'modal' } as never }));
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    expect((err as WebAPIPlatformError).data.error).toBe('internal_error');
  });

  it('takes the whole API down with 503s until it is switched back', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    sandbox.workspace.setDown(true);
    const err = await failure(client.auth.test());
    expect((err as WebAPIHTTPError).statusCode).toBe(503);
    sandbox.workspace.setDown(false);
    expect((await client.auth.test()).ok).toBe(true);
  });

  it('can drop connections, as an unreachable Slack does', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    sandbox.workspace.setDown('unreachable');
    const err = await failure(client.auth.test());
    expect((err as { code?: string }).code).toBe(ErrorCode.RequestError);
    sandbox.workspace.setDown(false);
    expect((await client.auth.test()).ok).toBe(true);
  });
});

describe('answers lost after the work was done', () => {
  for (const answerLost of ['drop', 500] as const) {
    it(`posts the message, then loses the answer (${answerLost}), so the client cannot know it posted`, async () => {
      const client = sandboxClient(sandbox.apiUrl());
      sandbox.workspace.failNext('chat.postMessage', { answerLost });
      const err = await failure(client.chat.postMessage({ channel: 'earshot-feedback', text: 'card' }));
      expect((err as { code?: string }).code).toBe(
        answerLost === 'drop' ? ErrorCode.RequestError : ErrorCode.HTTPError,
      );
      expect(sandbox.workspace.channelMessages(SEED.channels.feedback).map((m) => m.text)).toEqual(['card']);
      const [call] = sandbox.workspace.callsTo('chat.postMessage');
      expect(call?.ok).toBe(false);
      expect((call!.response as { performed?: { ok?: boolean } }).performed?.ok).toBe(true);
      await client.chat.postMessage({ channel: 'earshot-feedback', text: 'next' });
      expect(sandbox.workspace.channelMessages(SEED.channels.feedback)).toHaveLength(2);
    });
  }

  it('can hold the answer back until released, like a call that times out', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    sandbox.workspace.failNext('chat.postMessage', { answerLost: 'hang' });
    const pending = failure(client.chat.postMessage({ channel: 'earshot-feedback', text: 'card' }));
    await sandbox.workspace.waitForCall('chat.postMessage');
    expect(sandbox.workspace.channelMessages(SEED.channels.feedback)).toHaveLength(1);
    expect(sandbox.workspace.releaseHeld()).toBe(1);
    expect(((await pending) as { code?: string }).code).toBe(ErrorCode.RequestError);
  });
});

describe('per-channel rate limit', () => {
  it('lets a burst through, then answers 429 with Retry-After until tokens refill, per channel', async () => {
    const client = sandboxClient(sandbox.apiUrl(), { rejectRateLimitedCalls: true });
    sandbox.workspace.enableRateLimit({ perSecond: 1, burst: 2 });
    await client.chat.postMessage({ channel: 'earshot-feedback', text: '1' });
    await client.chat.postMessage({ channel: 'earshot-feedback', text: '2' });
    const err = await failure(client.chat.postMessage({ channel: 'earshot-feedback', text: '3' }));
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(1);

    // Another channel has its own bucket.
    await client.chat.postMessage({ channel: 'earshot-oncall', text: 'alert' });

    now += 1000;
    await client.chat.postMessage({ channel: 'earshot-feedback', text: '3' });
    expect(sandbox.workspace.channelMessages(SEED.channels.feedback).map((m) => m.text)).toEqual(['1', '2', '3']);
    const statuses = sandbox.workspace.callsTo('chat.postMessage').map((call) => call.status);
    expect(statuses).toEqual([200, 200, 429, 200, 200]);
    expect(sandbox.workspace.callsTo('chat.postMessage').map((call) => call.retryAfter)).toEqual([
      undefined,
      undefined,
      1,
      undefined,
      undefined,
    ]);
  });

  it('is off unless turned on', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    for (let i = 0; i < 10; i++) await client.chat.postMessage({ channel: 'earshot-feedback', text: String(i) });
    expect(sandbox.workspace.channelMessages(SEED.channels.feedback)).toHaveLength(10);
  });
});

describe('trigger_id lifetime', () => {
  it('expires a trigger_id after about 3 seconds, as Slack does', async () => {
    const client = sandboxClient(sandbox.apiUrl());
    const modal = { type: 'modal', title: { type: 'plain_text', text: 'Reply' }, blocks: [] } as never;
    const trigger = sandbox.workspace.issueTrigger(SEED.users.agent1);
    now += 3001;
    const err = await failure(client.views.open({ trigger_id: trigger, view: modal }));
    expect((err as WebAPIPlatformError).data.error).toBe('expired_trigger_id');
  });

  it('drops trigger ids once they expire, so a long-running sandbox does not pile them up', async () => {
    const ws = sandbox.workspace;
    const old = Array.from({ length: 500 }, () => ws.issueTrigger(SEED.users.agent1));
    expect(ws.heldInteractionTokens().triggers).toBe(500);
    now += 3001;
    const fresh = ws.issueTrigger(SEED.users.agent1);
    expect(ws.heldInteractionTokens().triggers).toBe(1);
    // A dropped id is still told expired (it carries its issue time), a made-up one invalid.
    expect(() => ws.useTrigger(old[0])).toThrow('expired_trigger_id');
    expect(() => ws.useTrigger('not-a-trigger')).toThrow('invalid_trigger_id');
    expect(ws.useTrigger(fresh).user).toBe(SEED.users.agent1);
    expect(() => ws.useTrigger(fresh)).toThrow('exchanged_trigger_id');
    now += 3001;
    expect(ws.heldInteractionTokens().triggers).toBe(0);
  });
});

describe('response_url lifetime', () => {
  const target = { user: SEED.users.agent1, channel: SEED.channels.feedback };
  const idOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

  it('serves a response_url 5 times, then drops it', () => {
    const ws = sandbox.workspace;
    const id = idOf(ws.issueResponseUrl(target));
    for (let use = 1; use <= 5; use++) expect(ws.useResponseUrl(id)?.channel).toBe(SEED.channels.feedback);
    expect(ws.useResponseUrl(id)).toBeNull();
    expect(ws.heldInteractionTokens().responseUrls).toBe(0);
  });

  it('drops response URLs after 30 minutes, used or not', () => {
    const ws = sandbox.workspace;
    const ids = Array.from({ length: 300 }, () => idOf(ws.issueResponseUrl(target)));
    expect(ws.useResponseUrl(ids[0]!)).not.toBeNull();
    now += 29 * 60_000;
    const later = idOf(ws.issueResponseUrl(target));
    expect(ws.heldInteractionTokens().responseUrls).toBe(301);
    now += 60_001;
    expect(ws.heldInteractionTokens().responseUrls).toBe(1);
    expect(ws.useResponseUrl(ids[1]!)).toBeNull();
    expect(ws.useResponseUrl(later)).not.toBeNull();
    now += 30 * 60_000;
    expect(ws.heldInteractionTokens().responseUrls).toBe(0);
  });
});
