import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { listStreamRules } from '../../src/ingest/x/rules.js';
import { dispatchCommand } from '../../src/slack/commands/dispatch.js';
import { SUBCOMMANDS } from '../../src/slack/commands/index.js';
import { getSourceByName } from '../../src/sources/sources.js';
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

  const run = (text: string, role: Role) => {
    const config = loadConfig({ EARSHOT_DATA_DIR: 'memory://', X_BEARER_TOKEN: 'bearer', X_API_URL: x.url });
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
    expect(listed.text).toContain('app-reviews');
    expect(listed.text).not.toContain(source!.secret!);
    const refused = await run('source add webhook other', 'lead');
    expect(refused.text).toContain('admin');
    expect(await getSourceByName(handle().db, 'other')).toBeNull();
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
});
