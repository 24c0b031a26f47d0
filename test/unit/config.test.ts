import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives working defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.EARSHOT_DATA_DIR).toBe('./data');
    expect(config.EARSHOT_DEFAULT_ROLE).toBe('agent');
    expect(config.EARSHOT_ADMINS).toEqual([]);
  });

  it('parses lists and numbers', () => {
    const config = loadConfig({ EARSHOT_ADMINS: 'U01ADMIN, U02LEAD', PORT: '8080', EARSHOT_MASK_PII: 'false' });
    expect(config.EARSHOT_ADMINS).toEqual(['U01ADMIN', 'U02LEAD']);
    expect(config.PORT).toBe(8080);
    expect(config.EARSHOT_MASK_PII).toBe(false);
  });

  it('names every bad variable and what it expects', () => {
    let thrown: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', SLACK_BOT_TOKEN: 'xoxp-user', EARSHOT_ADMINS: 'bob' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL: expected postgres://');
    expect(message).toContain('SLACK_BOT_TOKEN: expected a bot token starting with xoxb-');
    expect(message).toContain('EARSHOT_ADMINS');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', SLACK_BOT_TOKEN: ' ' }).DATABASE_URL).toBeUndefined();
  });
});
