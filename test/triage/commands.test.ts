import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingRules, sources } from '../../src/db/schema/index.js';
import { SEED } from '../../src/sandbox/index.js';
import { ensureSource } from '../../src/sources/sources.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { triageModule } from '../../src/triage/module.js';
import { loadPriorityWeights } from '../../src/triage/priority-settings.js';
import { listRoutingRules } from '../../src/triage/routing-rules.js';
import type { TriageService } from '../../src/triage/triage-service.js';
import { userActor } from '../helpers/fixtures.js';
import { privateAnswer, type SlackHarness, startSlackHarness } from '../slack/harness.js';

const FEEDBACK = SEED.channels.feedback;
const { admin, lead, agent1 } = SEED.users;
const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

if (!process.env.TEST_DATABASE_URL) {
  describe.skip('route, priority and autoack commands [postgres: set TEST_DATABASE_URL to run]', () => {
    it('runs against real PostgreSQL', () => {});
  });
}

describe.each(KINDS)('route, priority and autoack commands through the sandbox Slack [%s]', (kind) => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await startSlackHarness({
      database: kind,
      env: { EARSHOT_FEEDBACK_CHANNEL: 'earshot-feedback' },
      modules: { before: [triageModule] },
    });
    const db = h.earshot.context.db;
    const root = userActor(admin, 'admin');
    await setAgentRole(db, root, { slackUserId: admin, role: 'admin' });
    await setAgentRole(db, root, { slackUserId: lead, role: 'lead' });
    await ensureSource(db, { name: 'forms', kind: 'webhook' }, null);
    await ensureSource(db, { name: 'brand-x', kind: 'x' }, null);
  });
  afterAll(async () => {
    await h?.close();
  });

  const run = (user: string, text: string) => privateAnswer(h, user, text, FEEDBACK);

  const triage = () => h.earshot.context.services.get('triage') as TriageService;

  it('route: agents are refused; leads add, list in checking order, and remove by rule id', async () => {
    expect((await run(agent1, 'route list')).text).toContain('You need the lead role');
    expect((await run(agent1, 'route add #billing category=complaint')).text).toContain('You need the lead role');
    expect(await listRoutingRules(h.earshot.context.db)).toHaveLength(0);

    expect((await run(lead, 'route list')).json).toContain('No rules yet');
    const first = await run(lead, 'route add <#C0LEADS|earshot-leads> category=praise name="Kudos"');
    expect(first.text).toMatch(/^Rule \d+ added, checked 1st: category praise → <#C0LEADS>$/);
    const second = await run(
      admin,
      'route add #billing urgency=payment sentiment=negative add-tags=refund notify=<!subteam^S0ONCALL|@oncall> position=1 name="Refunds"',
    );
    expect(second.text).toContain('checked 1st');
    const rules = await listRoutingRules(h.earshot.context.db);
    expect(rules.map((r) => r.name)).toEqual(['Refunds', 'Kudos']);

    const list = await run(lead, 'route list');
    expect(list.json.indexOf('1. *Refunds*')).toBeGreaterThan(-1);
    expect(list.json.indexOf('2. *Kudos*')).toBeGreaterThan(list.json.indexOf('1. *Refunds*'));
    expect(list.json).toContain(`rule id \`${rules[0]!.id}\``);
    expect(list.json).toContain('notify group `S0ONCALL`');

    const kudos = rules[1]!;
    const removed = await run(lead, `route remove ${kudos.id}`);
    expect(removed.text).toContain(`Rule ${kudos.id} (Kudos) removed`);
    expect((await listRoutingRules(h.earshot.context.db)).map((r) => r.name)).toEqual(['Refunds']);
  });

  it('route: typos and bad values are explained and store nothing', async () => {
    const count = async () => (await h.earshot.context.db.select().from(routingRules)).length;
    const before = await count();
    expect((await run(lead, 'route add category=praise')).text).toContain('Name the channel first');
    expect((await run(lead, 'route add #x colour=red')).text).toContain('Unknown condition');
    expect((await run(lead, 'route add #x category=rant')).text).toContain('Routing conditions are not valid');
    expect((await run(lead, 'route add #x notify=@oncall')).text).toContain('autocomplete');
    expect((await run(lead, 'route remove seven')).text).toContain('Usage:');
    expect((await run(lead, 'route remove 99999')).text).toContain('Routing rule 99999 does not exist');
    expect((await run(lead, 'route test')).text).toContain('Give a sample text');
    expect((await run(lead, 'route test source=nowhere hello')).text).toContain('No source is named "nowhere"');
    expect((await run(lead, 'route frobnicate')).text).toContain('Usage:');
    expect(await count()).toBe(before);
  });

  it('route test: one pass through the app triage service, with the source and tags it is given', async () => {
    await run(lead, 'route add <#C0ONCALL|earshot-oncall> source=forms tags=vip name="VIP forms"');
    const vip = await run(lead, 'route test source=forms tags=vip The checkout page crashes every time I pay');
    expect(vip.text).toMatch(/^Route test: P\d → C0ONCALL$/);
    expect(vip.json).toContain('*Triage* (embedded');
    expect(vip.json).toContain('bug report');
    expect(vip.json).toContain('checkout');
    expect(vip.json).toMatch(/rule \d+ \(VIP forms\)/);
    expect(vip.json).toContain('As if from forms with tags vip');

    // The same text without the tag is not the VIP rule's.
    const plain = await run(lead, 'route test source=forms The checkout page crashes every time I pay');
    expect(plain.json).toContain('no rule matched: default channel');
    expect(plain.json).toContain('#earshot-feedback');

    const refund = await run(lead, 'route test I was charged twice and still no refund, this is a disgrace');
    expect(refund.json).toMatch(/rule \d+ \(Refunds\)/);
    expect(refund.json).toContain('tags refund');
    expect(refund.json).toContain('notifies group `S0ONCALL`');
    // No second classifier: the command used the one triage service the module registered.
    expect(triage().provider).toBe('embedded');
  });

  it('priority: anyone with reports may look, only admins change weights, and triage uses them at once', async () => {
    const shown = await run(agent1, 'priority show');
    expect(shown.json).toContain('`urgency.outage` 30');
    expect((await run(lead, 'priority set urgency.outage 55')).text).toContain('You need the admin role');
    expect((await run(admin, 'priority set urgency.nope 5')).text).toContain('Unknown weight');
    expect((await run(admin, 'priority set thresholds.P3 90')).text).toContain('Thresholds must fall');
    expect((await run(admin, 'priority set anger ten')).text).toContain('Usage:');

    const text = 'The whole site is down for everyone, nothing loads';
    const before = await triage().assess(text);
    const set = await run(admin, 'priority set urgency.outage 80');
    expect(set.json).toContain('`urgency.outage` 80 _(default 30)_');
    expect((await loadPriorityWeights(h.earshot.context.db)).urgency).toMatchObject({ outage: 80, security: 50 });
    const after = await triage().assess(text);
    expect(after.triage.urgency).toContain('outage');
    expect(after.priorityScore).toBeCloseTo(before.priorityScore + 50, 5);
    expect(after.priority).toBe('P1');

    await run(admin, 'priority reset');
    expect((await triage().assess(text)).priorityScore).toBeCloseTo(before.priorityScore, 5);
  });

  it('autoack: leads turn it on per source, X needs `public`, off turns it off', async () => {
    expect((await run(agent1, 'autoack show')).text).toContain('You need the lead role');
    expect((await run(lead, 'autoack show')).text).toMatch(/forms\* \(webhook\): off/);

    const x = await run(lead, 'autoack set brand-x Thanks {{author_name}}, we are on it.');
    expect(x.text).toContain('is an X source');
    const readX = async () =>
      (await h.earshot.context.db.select().from(sources).where(eq(sources.name, 'brand-x')))[0]?.settings;
    expect((await readX())?.autoAck).toBeUndefined();

    expect((await run(lead, 'autoack set forms Hi {{nickname}}')).text).toContain('Unknown variable {{nickname}}');
    const on = await run(lead, 'autoack set forms Thanks {{author_name}}, ticket {{ticket_id}} is with our team.');
    expect(on.text).toContain('New tickets from forms get this reply once');
    const xOn = await run(lead, 'autoack set brand-x public Thanks, we are looking into it.');
    expect(xOn.text).toContain('New tickets from brand-x');
    expect((await readX())?.autoAck).toEqual({
      enabled: true,
      template: 'Thanks, we are looking into it.',
      publicPosts: true,
    });
    const shown = await run(lead, 'autoack show');
    expect(shown.text).toContain('brand-x* (x): on, public replies');
    expect(shown.text).toContain('forms* (webhook): on');

    expect((await run(lead, 'autoack set brand-x off')).text).toContain('off for brand-x');
    expect((await readX())?.autoAck).toMatchObject({ enabled: false, publicPosts: false });
    expect((await run(lead, 'autoack set forms')).text).toContain('Usage:');
  });
});
