import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSealer } from '../../src/db/sealed.js';
import { listStreamRules } from '../../src/ingest/x/rules.js';
import { replyRulesFor } from '../../src/replies/channel-rules.js';
import { dispatchCommand } from '../../src/slack/commands/dispatch.js';
import { SUBCOMMANDS } from '../../src/slack/commands/index.js';
import { ensureSource, getSourceByName } from '../../src/sources/sources.js';
import type { Role } from '../../src/tickets/types.js';
import { FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';
import { silentLogger } from './helpers.js';

describeEachDatabase('/earshot source and monitor', (handle) => {
  let x: FakeXServer;
  beforeAll(async () => {
    x = new FakeXServer();
    await x.start();
  });
  afterAll(async () => {
    await x.close();
  });

  const run = (text: string, role: Role, env: Record<string, string> = {}) => {
    const config = loadConfig({ EARSHOT_DATA_DIR: 'memory://', X_BEARER_TOKEN: 'bearer', X_API_URL: x.url, ...env });
    return dispatchCommand(
      SUBCOMMANDS,
      {
        db: handle().db,
        config,
        logger: silentLogger,
        actor: userActor(`U${role.toUpperCase()}`, role),
        channelId: 'C1',
        userId: `U${role.toUpperCase()}`,
        triggerId: 't',
      },
      text,
    );
  };

  it('creates a webhook source for admins only, showing its secret once', async () => {
    const created = await run('source add webhook App-Reviews', 'admin');
    const source = await getSourceByName(handle().db, 'app-reviews');
    expect(created.text).toContain('/ingest/app-reviews');
    expect(created.text).toContain(source!.secret!);
    const listed = await run('source list', 'agent');
    expect(listed.text).toMatch(/^1 source\n• \*app-reviews\* \(webhook\)/);
    expect(listed.text).not.toContain(source!.secret!);
    const refused = await run('source add webhook other', 'lead');
    expect(refused.text).toContain('admin');
    expect(await getSourceByName(handle().db, 'other')).toBeNull();
  });

  it('with EARSHOT_SECRET_KEY, shows the new and the rotated secret once and stores them sealed', async () => {
    const key = randomBytes(32).toString('base64');
    const env = { EARSHOT_SECRET_KEY: key };
    const sealer = createSealer([Buffer.from(key, 'base64')]);
    const shown = (text: string | undefined) => /`(whsec_[^`]+)`/.exec(text ?? '')?.[1];
    const created = shown((await run('source add webhook sealed-reviews', 'admin', env)).text);
    const stored = async () => (await getSourceByName(handle().db, 'sealed-reviews'))!.secret!;
    expect(created).toMatch(/^whsec_/);
    expect(await stored()).toMatch(/^v1\./);
    expect(sealer.open(await stored())).toBe(created);
    const rotated = shown((await run('source rotate-secret sealed-reviews', 'admin', env)).text);
    expect(rotated).not.toBe(created);
    expect(sealer.open(await stored())).toBe(rotated);
    expect((await run('source list', 'agent', env)).text).not.toContain('whsec_');
  });

  it('adds, lists and removes monitoring rules for leads, with X’s refusal shown', async () => {
    const added = await run('monitor add @acme -is:retweet tag:brand', 'lead');
    expect(added.text).toContain('added');
    expect([...x.rules.values()]).toMatchObject([{ value: '@acme -is:retweet', tag: 'brand' }]);
    const bad = await run('monitor add refund nosuch:op', 'lead');
    expect(bad.text).toContain("invalid operator 'nosuch'");
    expect((await run('monitor list', 'agent')).text).toContain('lead');
    const source = await getSourceByName(handle().db, 'x');
    const [rule] = await listStreamRules(handle().db, source!.id);
    expect((await run('monitor list', 'lead')).text).toContain(`#${rule!.id}`);
    await run(`monitor remove ${rule!.id}`, 'lead');
    expect(x.rules.size).toBe(0);
    expect(await listStreamRules(handle().db, source!.id)).toEqual([]);
  });

  it('prints the full ingest URL when EARSHOT_PUBLIC_URL is set, and never offers the secret to the channel', async () => {
    const created = await run('source add webhook reviews', 'admin', {
      EARSHOT_PUBLIC_URL: 'https://earshot.example.com/',
    });
    expect(created.text).toContain('`POST https://earshot.example.com/ingest/reviews`');
    expect(created.responseType).toBe('ephemeral');
    expect(SUBCOMMANDS.find((s) => s.name === 'source')?.shareable).toBeFalsy();
  });

  it('rotates a webhook secret for admins, showing the new one once; the old one stops being stored', async () => {
    const { db } = handle();
    await run('source add webhook rotating', 'admin');
    const before = (await getSourceByName(db, 'rotating'))!.secret!;
    const refused = await run('source rotate-secret rotating', 'lead');
    expect(refused.text).toContain('admin');
    expect((await getSourceByName(db, 'rotating'))!.secret).toBe(before);
    const rotated = await run('source rotate-secret rotating', 'admin');
    const after = (await getSourceByName(db, 'rotating'))!.secret!;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^whsec_/);
    expect(rotated.text).toContain(after);
    expect(rotated.responseType).toBe('ephemeral');
    expect((await run('source list', 'agent')).text).not.toContain(after);
    // `share` is no request to post it in the channel here: just a word too many.
    const shared = await run('source rotate-secret rotating share', 'admin');
    expect(shared.responseType).toBe('ephemeral');
    expect(shared.text).toContain('Usage');
    expect((await getSourceByName(db, 'rotating'))!.secret).toBe(after);
    expect((await run('source rotate-secret nosuch', 'admin')).text).toContain('no source named');
  });

  it('sets a webhook source’s reply URL, refusing what could reach internal hosts', async () => {
    const { db } = handle();
    await run('source add webhook desk', 'admin');
    const internal = await run('source set desk reply-url http://10.0.0.7/hooks', 'admin');
    expect(internal.text).toContain('must use https');
    const loopback = await run('source set desk reply-url http://127.0.0.1:9000/hooks', 'admin');
    expect(loopback.text).toContain('replyAllowLoopbackHttp');
    expect((await getSourceByName(db, 'desk'))!.settings.replyUrl).toBeUndefined();
    const set = await run('source set desk reply-url <https://desk.example.com/earshot>', 'admin');
    expect(set.text).toContain('https://desk.example.com/earshot');
    expect((await getSourceByName(db, 'desk'))!.settings.replyUrl).toBe('https://desk.example.com/earshot');
    expect((await run('source set desk reply-url https://x.example.com/', 'agent')).text).toContain('admin');
  });

  it('sets how long a webhook source’s replies may be and whether longer ones thread; bad values change nothing', async () => {
    const { db } = handle();
    await run('source add webhook sms', 'admin');
    const rules = async () => replyRulesFor((await getSourceByName(db, 'sms'))!);
    expect(await rules()).toMatchObject({ limit: 5000, threads: false });
    const set = await run('source set sms reply-limit 160', 'admin');
    expect(set.text).toContain('*sms*: replies go to each post’s own `reply_url` (no source reply URL set)');
    expect(set.text).toContain('at most 160 characters, one message');
    const threaded = await run('source set SMS reply-threads on', 'admin');
    expect(threaded.text).toContain('at most 160 characters, longer ones as a thread');
    expect(await rules()).toMatchObject({ limit: 160, threads: true });
    expect((await run('source set sms reply-limit 1,000', 'admin')).text).toContain('at most 1,000 characters');

    for (const [text, answer] of [
      ['source set sms reply-limit 0', 'from 1 to 100,000'],
      ['source set sms reply-limit 100001', 'from 1 to 100,000'],
      ['source set sms reply-limit lots', 'from 1 to 100,000'],
      ['source set sms reply-limit 2.5', 'from 1 to 100,000'],
      ['source set sms reply-threads maybe', 'reply-threads on'],
      ['source set sms reply-threads constructor', 'reply-threads on'],
      ['source set sms colour blue', 'Usage'],
      ['source set sms reply-limit', 'Usage'],
      ['source set nosuch reply-limit 10', 'no source named'],
    ]) {
      expect((await run(text!, 'admin')).text, text).toContain(answer);
    }
    expect((await run('source set sms reply-limit 10', 'lead')).text).toContain('admin');
    await ensureSource(db, { name: 'brand-x', kind: 'x' }, null);
    expect((await run('source set brand-x reply-limit 10', 'admin')).text).toContain('not a webhook source');
    expect(await rules()).toMatchObject({ limit: 1000, threads: true });
  });

  it('disables and enables a webhook source for admins, and lists it as disabled meanwhile', async () => {
    const { db } = handle();
    await run('source add webhook noisy', 'admin');
    expect((await run('source disable noisy', 'lead')).text).toContain('admin');
    expect((await getSourceByName(db, 'noisy'))!.enabled).toBe(true);
    const disabled = await run('source disable noisy', 'admin');
    expect(disabled.text).toContain('*noisy* is disabled: its deliveries get 404');
    expect(disabled.text).toContain('`/earshot source enable noisy`');
    expect((await getSourceByName(db, 'noisy'))!.enabled).toBe(false);
    expect((await run('source list', 'agent')).text).toMatch(/\*noisy\* \(webhook\).*\(disabled: deliveries get 404\)/);
    expect((await run('source enable noisy', 'admin')).text).toContain('*noisy* takes deliveries again');
    expect((await getSourceByName(db, 'noisy'))!.enabled).toBe(true);
    expect((await run('source disable', 'admin')).text).toContain('Usage');
    expect((await run('source disable nosuch', 'admin')).text).toContain('no source named');
  });

  it('manages rules in polling mode without X’s stream endpoints, which the tier refuses', async () => {
    x.streamAccess = false;
    const before = x.requests.filter((r) => r.path.startsWith('/2/tweets/search/stream')).length;
    const poll = { X_INGEST_MODE: 'poll', X_SOURCE_NAME: 'x-poll' };
    const added = await run('monitor add "acme app" tag:app', 'lead', poll);
    expect(added.text).toContain('added');
    const bad = await run('monitor add refund nosuch:op', 'lead', poll);
    expect(bad.text).toContain("invalid operator 'nosuch'");
    const listed = await run('monitor list', 'lead', poll);
    expect(listed.text).toContain('"acme app"');
    expect(listed.text).not.toContain('not yet on X');
    const source = await getSourceByName(handle().db, 'x-poll');
    const [rule] = await listStreamRules(handle().db, source!.id);
    await run(`monitor remove ${rule!.id}`, 'lead', poll);
    expect(await listStreamRules(handle().db, source!.id)).toEqual([]);
    expect(x.requests.filter((r) => r.path.startsWith('/2/tweets/search/stream')).length).toBe(before);
    x.streamAccess = true;
  });
});
