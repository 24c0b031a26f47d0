import { WebClient } from '@slack/web-api';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { agents } from '../../src/db/schema/index.js';
import { createLogger } from '../../src/logger.js';
import { createSlackSandbox, SEED, type SlackSandbox } from '../../src/sandbox/index.js';
import { createActorResolver } from '../../src/slack/actors.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';

const BOT_TOKEN = 'xoxb-actors-test';
const logger = createLogger({ level: 'silent' });
const { admin: OWNER, agent1: ANA, agent2: BEN, lead: LEE } = SEED.users;

describeEachDatabase('Slack users to actors (createActorResolver against the Slack sandbox)', (handle) => {
  let sandbox: SlackSandbox;
  let client: WebClient;

  beforeAll(async () => {
    sandbox = createSlackSandbox({
      signingSecret: 'actors-secret',
      botToken: BOT_TOKEN,
      logger,
      appEventsUrl: 'http://127.0.0.1:9/slack/events',
    });
    await sandbox.listen();
    client = new WebClient(BOT_TOKEN, { slackApiUrl: sandbox.apiUrl(), retryConfig: { retries: 0 } });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    sandbox.workspace.faults.clear();
    sandbox.workspace.clearCalls();
    await handle().db.delete(agents);
    for (const user of sandbox.workspace.users.values()) {
      user.is_admin = user.id === OWNER;
      user.is_owner = user.id === OWNER;
    }
  });

  const resolver = (options: { factsTtlMs?: number; failureTtlMs?: number } = {}) =>
    createActorResolver({
      db: handle().db,
      config: { EARSHOT_ADMINS: ['UENVADMIN'], EARSHOT_DEFAULT_ROLE: 'agent' },
      client,
      logger,
      factsTtlMs: options.factsTtlMs ?? 0,
      failureTtlMs: options.failureTtlMs ?? 0,
    });
  const roleOf = async (resolve: (id: string) => Promise<unknown>, id: string) =>
    ((await resolve(id)) as { role: string }).role;
  const stored = async (db: Database, id: string) =>
    (await db.select().from(agents).where(eq(agents.slackUserId, id)))[0] ?? null;
  const infoCalls = (id: string) => sandbox.workspace.callsTo('users.info').filter((call) => call.args.user === id);

  it("makes Slack's owners and admins admins, everyone else the default role", async () => {
    const resolve = resolver();
    expect(await resolve(OWNER)).toEqual({ kind: 'user', userId: OWNER, role: 'admin' });
    expect(await roleOf(resolve, ANA)).toBe('agent');
    expect(await stored(handle().db, OWNER)).toMatchObject({
      role: 'admin',
      roleSetBy: null,
      displayName: 'ada',
    });
    // EARSHOT_ADMINS are admins without asking Slack.
    expect(await roleOf(resolve, 'UENVADMIN')).toBe('admin');
    expect(infoCalls('UENVADMIN')).toEqual([]);
  });

  it('stores nothing when users.info fails, and asks Slack again next time', async () => {
    const { db } = handle();
    const resolve = resolver();
    sandbox.workspace.failNext('users.info', { status: 500 });
    expect(await roleOf(resolve, OWNER)).toBe('agent');
    expect(await stored(db, OWNER)).toBeNull();
    sandbox.workspace.failNext('users.info', { error: 'internal_error' });
    expect(await roleOf(resolve, OWNER)).toBe('agent');
    expect(await stored(db, OWNER)).toBeNull();
    expect(await roleOf(resolve, OWNER)).toBe('admin');
    expect(await stored(db, OWNER)).toMatchObject({ role: 'admin', roleSetBy: null });
    expect(infoCalls(OWNER)).toHaveLength(3);
  });

  it('keeps a known role when users.info fails later, rather than demoting', async () => {
    const { db } = handle();
    const resolve = resolver();
    expect(await roleOf(resolve, OWNER)).toBe('admin');
    sandbox.workspace.failNext('users.info', { status: 503, count: 2 });
    expect(await roleOf(resolve, OWNER)).toBe('admin');
    expect(await stored(db, OWNER)).toMatchObject({ role: 'admin' });
  });

  it('waits failureTtlMs before asking Slack again after a failure', async () => {
    const resolve = resolver({ failureTtlMs: 60_000 });
    sandbox.workspace.failNext('users.info', { status: 500 });
    expect(await roleOf(resolve, OWNER)).toBe('agent');
    expect(await roleOf(resolve, OWNER)).toBe('agent');
    expect(infoCalls(OWNER)).toHaveLength(1);
    // Another resolver (a restart, another replica) asks at once and gets Slack's answer.
    expect(await roleOf(resolver(), OWNER)).toBe('admin');
  });

  it('picks up an owner or admin promoted in Slack later, and a demotion there', async () => {
    const { db } = handle();
    const resolve = resolver();
    expect(await roleOf(resolve, ANA)).toBe('agent');
    sandbox.workspace.users.get(ANA)!.is_admin = true;
    expect(await roleOf(resolve, ANA)).toBe('admin');
    expect(await stored(db, ANA)).toMatchObject({ role: 'admin', roleSetBy: null });
    sandbox.workspace.users.get(ANA)!.is_admin = false;
    expect(await roleOf(resolve, ANA)).toBe('agent');
    sandbox.workspace.users.get(BEN)!.is_owner = true;
    expect(await roleOf(resolve, BEN)).toBe('admin');
  });

  it('caches what Slack said for factsTtlMs', async () => {
    const resolve = resolver({ factsTtlMs: 60_000 });
    await resolve(ANA);
    await resolve(ANA);
    await resolve(ANA);
    expect(infoCalls(ANA)).toHaveLength(1);
  });

  it('keeps a role set with /earshot role, whatever Slack says, without asking Slack', async () => {
    const { db } = handle();
    const resolve = resolver();
    expect(await roleOf(resolve, OWNER)).toBe('admin');
    await setAgentRole(db, userActor('UENVADMIN', 'admin'), { slackUserId: OWNER, role: 'viewer' });
    await setAgentRole(db, userActor('UENVADMIN', 'admin'), { slackUserId: LEE, role: 'lead' });
    sandbox.workspace.clearCalls();
    expect(await roleOf(resolve, OWNER)).toBe('viewer');
    expect(await roleOf(resolve, LEE)).toBe('lead');
    sandbox.workspace.users.get(LEE)!.is_admin = true;
    expect(await roleOf(resolve, LEE)).toBe('lead');
    expect(sandbox.workspace.callsTo('users.info')).toEqual([]);
    expect(await stored(db, OWNER)).toMatchObject({ role: 'viewer', roleSetBy: 'UENVADMIN' });
  });
});
