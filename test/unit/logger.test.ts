import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isSecretKey, redactLogLine, scrubSecrets } from '../../src/logger.js';

/** A logger writing into memory: the raw text (what reaches a log store) and the parsed lines. */
function sink() {
  let raw = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      raw += String(chunk);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination: stream });
  return {
    logger,
    raw: () => raw,
    lines: () =>
      raw
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('log redaction', () => {
  it('blanks secret-named keys in any case at any depth: headers, error config, client options, config', () => {
    const log = sink();
    const axiosLike = Object.assign(new Error('Request failed with status code 401'), {
      config: { url: 'https://api.x.com/2/tweets', headers: { Authorization: 'opaque-err-header', Accept: 'json' } },
    });
    log.logger.error(
      {
        err: axiosLike,
        headers: { Authorization: 'opaque-header', 'X-Slack-Signature': 'v0=opaque-signature' },
        client: { options: { token: 'opaque-client-token', slackApiUrl: 'http://127.0.0.1/api/' } },
        deep: { a: { b: { c: { d: { accessToken: 'opaque-nested', refresh_token: ['opaque-in-array'] } } } } },
        config: {
          X_API_KEY: 'opaque-x-api-key',
          X_ACCESS_TOKEN: 'opaque-x-access-token',
          X_API_SECRET: 'opaque-x-api-secret',
          SLACK_SIGNING_SECRET: 'opaque-signing',
          PORT: 3000,
        },
        usage: { prompt_tokens: 12 },
        ticketId: 7,
        authorId: 3,
      },
      'call failed',
    );
    const text = log.raw();
    expect(text).not.toMatch(/opaque-/);
    const [line] = log.lines();
    expect(line).toMatchObject({
      msg: 'call failed',
      headers: { Authorization: '[redacted]', 'X-Slack-Signature': '[redacted]' },
      client: { options: { token: '[redacted]', slackApiUrl: 'http://127.0.0.1/api/' } },
      config: { X_API_KEY: '[redacted]', X_ACCESS_TOKEN: '[redacted]', PORT: 3000 },
      usage: { prompt_tokens: 12 },
      ticketId: 7,
      authorId: 3,
      err: {
        message: 'Request failed with status code 401',
        config: { url: 'https://api.x.com/2/tweets', headers: { Authorization: '[redacted]', Accept: 'json' } },
      },
    });
    expect(String((line?.err as { stack?: string } | undefined)?.stack)).toContain('Request failed');
  });

  it('strips the password from URLs (DATABASE_URL), in fields, URL objects and the message', () => {
    const log = sink();
    log.logger.info(
      {
        url: 'postgres://earshot:pg-pass-1@db.internal:5432/earshot',
        target: new URL('postgresql://admin:pg-pass-2@10.0.0.5/earshot'),
        webhook: 'https://example.com/hook?token=pg-pass-3&ticket=9',
      },
      'connecting to postgres://earshot:pg-pass-4@db.internal/earshot',
    );
    expect(log.raw()).not.toMatch(/pg-pass-/);
    const [line] = log.lines();
    expect(line?.url).toBe('postgres://earshot:[redacted]@db.internal:5432/earshot');
    expect(line?.webhook).toBe('https://example.com/hook?token=[redacted]&ticket=9');
    expect(line?.msg).toBe('connecting to postgres://earshot:[redacted]@db.internal/earshot');
  });

  it('redacts child bindings, error causes and token shapes in text', () => {
    const log = sink();
    const child = log.logger.child({ component: 'x', clientOptions: { token: 'opaque-binding' } });
    const err = new Error('outer', { cause: new Error('Slack said invalid_auth for xoxb-1234-5678-abcdef') });
    child.warn({ err }, 'retrying with Bearer opaque-bearer-token');
    const text = log.raw();
    expect(text).not.toMatch(/opaque-|xoxb-1234/);
    const [line] = log.lines();
    expect(line).toMatchObject({ component: 'x', clientOptions: { token: '[redacted]' } });
    expect(JSON.stringify(line?.err)).toContain('invalid_auth for [redacted]');
  });

  it('leaves lines with nothing secret exactly as pino wrote them', () => {
    const line = '{"level":30,"time":1,"app":"earshot","ticketId":5,"msg":"card posted"}\n';
    expect(redactLogLine(line)).toBe(line);
  });

  it('knows secret key names and leaves ordinary ones alone', () => {
    for (const key of [
      'token',
      'BOT_TOKEN',
      'signingSecret',
      'Authorization',
      'x-api-key',
      'apiKey',
      'password',
      'cookie',
    ])
      expect(isSecretKey(key), key).toBe(true);
    for (const key of ['authorId', 'author', 'idempotencyKey', 'dedupeKey', 'ticketId', 'url', 'passed'])
      expect(isSecretKey(key), key).toBe(false);
    expect(scrubSecrets('key sk-abcdefghijklmnopqrstuvwx and whsec_abc= end')).toBe(
      'key [redacted] and [redacted] end',
    );
  });
});
