import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SEED } from '../../src/sandbox/index.js';
import {
  newSandboxSecrets,
  sandboxBanner,
  sandboxConfig,
  sandboxDataDir,
  sandboxSeed,
} from '../../src/sandbox/module.js';

describe('the configuration sandbox mode derives', () => {
  const secrets = { signingSecret: 'f'.repeat(64), botToken: 'xoxb-sandbox-abc' };

  it('points Bolt at the sandbox on the app server with made-up credentials, over HTTP', () => {
    const config = sandboxConfig(
      loadConfig({ SLACK_SIGNING_SECRET: 'real', SLACK_APP_TOKEN: 'xapp-1', SLACK_API_URL: 'https://slack.com/api/' }),
      { baseUrl: 'http://127.0.0.1:3000', secrets },
    );
    expect(config).toMatchObject({
      SLACK_BOT_TOKEN: 'xoxb-sandbox-abc',
      SLACK_SIGNING_SECRET: secrets.signingSecret,
      SLACK_API_URL: 'http://127.0.0.1:3000/api/',
      EARSHOT_PUBLIC_URL: 'http://127.0.0.1:3000',
    });
    expect(config.SLACK_APP_TOKEN).toBeUndefined();
  });

  it('keeps the operator admins, adds the seed admin once, and mentions the seed on-call group', () => {
    const derived = sandboxConfig(loadConfig({ EARSHOT_ADMINS: `U0OTHER,${SEED.users.admin}` }), {
      baseUrl: 'http://127.0.0.1:1/',
      secrets,
    });
    expect(derived.EARSHOT_ADMINS).toEqual(['U0OTHER', SEED.users.admin]);
    expect(derived.EARSHOT_ONCALL_GROUP).toBe(SEED.usergroups.oncall);
    expect(derived.EARSHOT_PUBLIC_URL).toBe('http://127.0.0.1:1');
    expect(
      sandboxConfig(loadConfig({ EARSHOT_ONCALL_GROUP: 'S0MINE' }), { baseUrl: 'http://x', secrets }),
    ).toMatchObject({ EARSHOT_ONCALL_GROUP: 'S0MINE' });
  });

  it('keeps the embedded database in a directory of its own, and memory as memory', () => {
    expect(sandboxDataDir('./data')).toBe('data/sandbox');
    expect(sandboxDataDir('memory://')).toBe('memory://');
    expect(sandboxConfig(loadConfig({}), { baseUrl: 'http://x', secrets }).EARSHOT_DATA_DIR).toBe('data/sandbox');
  });

  it('makes new credentials every run', () => {
    const a = newSandboxSecrets();
    const b = newSandboxSecrets();
    expect(a.botToken).toMatch(/^xoxb-sandbox-[0-9a-f]{24}$/);
    expect(a.signingSecret).not.toBe(b.signingSecret);
  });

  it('names the seeded channels as the config names them', () => {
    const seed = sandboxSeed(
      loadConfig({ EARSHOT_FEEDBACK_CHANNEL: '#social-care', EARSHOT_CRISIS_CHANNEL: 'C0123456789' }),
    );
    const name = (id: string) => seed.channels.find((channel) => channel.id === id)?.name;
    expect(name(SEED.channels.feedback)).toBe('social-care');
    expect(name(SEED.channels.oncall)).toBe('earshot-oncall');
    expect(name(SEED.channels.leads)).toBe('earshot-leads');
  });

  it('prints where to look and how to leave', () => {
    expect(sandboxBanner({ port: '3000', embedded: true, demo: true })).toBe(
      [
        'Sandbox mode: SLACK_BOT_TOKEN is not set, so Earshot runs against a local Slack sandbox on an embedded database with a demo feed.',
        'Open http://localhost:3000 to see it. Sandbox data starts fresh at every start.',
        'To connect a real workspace, see "Connect a real workspace" in README.md.',
      ].join('\n'),
    );
  });
});
