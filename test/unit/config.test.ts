import { describe, expect, it } from 'vitest';
import { ConfigError, configKeys, loadConfig } from '../../src/config.js';

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

  it('gives every setting its default when its value is blank, exactly as when it is absent', () => {
    const blank = Object.fromEntries(configKeys.map((key, i) => [key, i % 2 === 0 ? '' : '  ']));
    expect(loadConfig(blank)).toEqual(loadConfig({}));
  });

  it('keeps blank numbers from turning into 0 (grouping, escalation, port) or an error', () => {
    const config = loadConfig({
      PORT: '',
      EARSHOT_GROUPING_WINDOW_MINUTES: '',
      EARSHOT_ESCALATE_ON_DUTY_MINUTES: ' ',
      EARSHOT_ESCALATE_LEADS_MINUTES: '',
      EARSHOT_MAX_TEXT_LENGTH: '',
      EARSHOT_DATA_DIR: '',
      OPENAI_MODEL: '',
      EARSHOT_FEEDBACK_CHANNEL: ' ',
    });
    expect(config).toMatchObject({
      PORT: 3000,
      EARSHOT_GROUPING_WINDOW_MINUTES: 24 * 60,
      EARSHOT_ESCALATE_ON_DUTY_MINUTES: 30,
      EARSHOT_ESCALATE_LEADS_MINUTES: 120,
      EARSHOT_MAX_TEXT_LENGTH: 20_000,
      EARSHOT_DATA_DIR: './data',
      OPENAI_MODEL: 'gpt-4o-mini',
      EARSHOT_FEEDBACK_CHANNEL: 'earshot-feedback',
    });
    // An explicit 0 still means 0 where the setting allows it.
    expect(loadConfig({ EARSHOT_GROUPING_WINDOW_MINUTES: '0' }).EARSHOT_GROUPING_WINDOW_MINUTES).toBe(0);
  });

  it('refuses a delete-mode retention short enough for a backfill to bring a deleted post back', () => {
    expect(() => loadConfig({ EARSHOT_RETENTION_MODE: 'delete', EARSHOT_RETENTION_DAYS: '7' })).toThrow(
      /EARSHOT_RETENTION_DAYS: expected more than 7 days/,
    );
    expect(loadConfig({ EARSHOT_RETENTION_MODE: 'delete', EARSHOT_RETENTION_DAYS: '8' }).EARSHOT_RETENTION_DAYS).toBe(
      8,
    );
    expect(
      loadConfig({ EARSHOT_RETENTION_MODE: 'anonymize', EARSHOT_RETENTION_DAYS: '1' }).EARSHOT_RETENTION_DAYS,
    ).toBe(1);
    expect(loadConfig({ EARSHOT_RETENTION_MODE: 'delete' }).EARSHOT_RETENTION_DAYS).toBe(0);
  });

  it('takes a secret key of 32 bytes in base64, and refuses a previous key without a current one', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ EARSHOT_SECRET_KEY: key }).EARSHOT_SECRET_KEY).toBe(key);
    expect(() => loadConfig({ EARSHOT_SECRET_KEY: 'hunter2' })).toThrow(
      /EARSHOT_SECRET_KEY: expected 32 random bytes in base64: openssl rand -base64 32/,
    );
    expect(() => loadConfig({ EARSHOT_SECRET_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/EARSHOT_SECRET_KEY/);
    expect(() => loadConfig({ EARSHOT_SECRET_KEY_PREVIOUS: key })).toThrow(/EARSHOT_SECRET_KEY: expected a key/);
  });

  it('accepts cron expressions node-cron runs and refuses others, naming the variable', () => {
    expect(loadConfig({ EARSHOT_SLA_SWEEP_CRON: '*/5 * * * *', EARSHOT_CRISIS_CRON: '0 */2 * * * *' })).toMatchObject({
      EARSHOT_SLA_SWEEP_CRON: '*/5 * * * *',
      EARSHOT_CRISIS_CRON: '0 */2 * * * *',
    });
    const message = configError({ EARSHOT_SLA_SWEEP_CRON: '61 * * * *', EARSHOT_CRISIS_CRON: 'every minute' });
    expect(message).toMatch(/EARSHOT_SLA_SWEEP_CRON: expected a cron expression/);
    expect(message).toMatch(/EARSHOT_CRISIS_CRON: expected a cron expression/);
  });

  it('accepts IANA time zones and refuses unknown ones, naming the variable', () => {
    expect(loadConfig({ EARSHOT_DIGEST_TIMEZONE: 'Europe/Berlin' }).EARSHOT_DIGEST_TIMEZONE).toBe('Europe/Berlin');
    expect(configError({ EARSHOT_DIGEST_TIMEZONE: 'Mars/Olympus_Mons' })).toMatch(
      /EARSHOT_DIGEST_TIMEZONE: expected an IANA time zone/,
    );
  });
});

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}
