import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createSlackApp, SLACK_EVENTS_PATH } from '../../src/slack/app.js';
import { boltLogger } from '../../src/slack/bolt-logger.js';

describe('createSlackApp', () => {
  const logger = createLogger({ level: 'silent' });

  it('serves POST /slack/events on Earshot’s server in HTTP mode', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
    const slack = createSlackApp({ config, logger });
    expect(slack.transport).toBe('http');
    expect(slack.route).toMatchObject({ method: 'POST', path: SLACK_EVENTS_PATH });
  });

  it('uses Socket Mode when SLACK_APP_TOKEN is set, with no HTTP route', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });
    const slack = createSlackApp({ config, logger });
    expect(slack.transport).toBe('socket');
    expect(slack.route).toBeNull();
  });

  it('names the missing setting', () => {
    expect(() => createSlackApp({ config: loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' }), logger })).toThrow(
      'SLACK_SIGNING_SECRET',
    );
  });
});

describe('boltLogger', () => {
  it('writes Bolt’s lines into pino, errors as err, secrets still redacted', () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const log = boltLogger(createLogger({ level: 'debug', destination: stream }));
    log.warn('Failed to verify', { token: 'xoxb-secret' }, 'with Bearer xoxb-1-2-inline');
    log.error(new Error('boom'), 'while handling');
    log.debug('quiet');
    expect(lines[0]).toMatchObject({ component: 'bolt', level: 40 });
    expect(String(lines[0]?.msg)).toContain('Failed to verify');
    expect(lines[1]).toMatchObject({ component: 'bolt', level: 50, msg: 'while handling' });
    expect((lines[1]?.err as { message?: string } | undefined)?.message).toBe('boom');
    expect(lines[2]).toMatchObject({ level: 20, msg: 'quiet' });
    expect(log.getLevel()).toBe('debug');
    expect(lines[0]?.details).toEqual({ token: '[redacted]' });
    expect(JSON.stringify(lines)).not.toContain('xoxb-');
  });
});
