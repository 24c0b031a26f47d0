import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSignals } from '../../src/crisis/alerts.js';
import type { CrisisSignal } from '../../src/crisis/detector.js';
import { crisisAlerts, incidents } from '../../src/db/schema/index.js';
import { SEED } from '../../src/sandbox/index.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { userActor } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from '../slack/harness.js';

const ONCALL = SEED.channels.oncall;
const NOW = new Date();

function signal(count: number): CrisisSignal {
  return {
    kind: 'volume',
    groupKey: 'source:1',
    title: 'Volume spike on x: “outage”',
    sourceIds: [1],
    topic: 'outage',
    count,
    mean: 4,
    sd: 1,
    ratio: count / 4,
    z: (count - 4) / 3,
    baselineWindows: 8,
    windowStart: new Date(NOW.getTime() - 15 * 60_000),
    windowEnd: NOW,
    topTopics: [{ topic: 'outage', count }],
    topTerms: [{ term: 'down', count }],
    samples: [
      {
        at: NOW,
        sourceId: 1,
        sourceName: 'x',
        topics: ['outage'],
        sentiment: 'negative',
        followers: 3,
        text: 'down <!here>',
      },
    ],
    ticketIds: [],
    trend: [1, 2, count],
  };
}

describe('crisis alert buttons through Bolt and the sandbox Slack', () => {
  let h: SlackHarness;
  const routing = {
    channel: 'earshot-oncall',
    oncallGroup: SEED.usergroups.oncall,
    cooldownMinutes: 60,
    windowMinutes: 15,
  };

  beforeAll(async () => {
    h = await startSlackHarness();
    await setAgentRole(h.earshot.context.db, userActor(SEED.users.admin, 'admin'), {
      slackUserId: SEED.users.lead,
      role: 'lead',
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  const alertRow = async () => (await h.earshot.context.db.select().from(crisisAlerts))[0]!;

  it('posts one alert, updates it in place, and the buttons change it', async () => {
    const db = h.earshot.context.db;
    await recordSignals(db, [signal(30)], routing, NOW);
    await h.drain();
    await recordSignals(db, [signal(45)], routing, new Date(NOW.getTime() + 60_000));
    await h.drain();
    const alert = await alertRow();
    expect(alert.channel).toBe(ONCALL);
    const posted = h.sandbox.workspace.message(ONCALL, alert.slackTs!);
    expect(posted.text).toContain(`<!subteam^${SEED.usergroups.oncall}>`);
    expect(JSON.stringify(posted.blocks)).toContain('*45* posts');
    expect(JSON.stringify(posted.blocks)).toContain('down &lt;!here&gt;');
    expect(h.sandbox.workspace.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(1);

    const agent = h.sandbox.as(SEED.users.agent1);
    await agent.clickButton({ channel: ONCALL, ts: alert.slackTs! }, ACTIONS.crisisAcknowledge);
    await h.drain();
    expect(JSON.stringify(h.sandbox.workspace.message(ONCALL, alert.slackTs!).blocks)).toContain(
      `Acknowledged by <@${SEED.users.agent1}>`,
    );

    // Declaring an incident needs a lead: the agent is told so, nothing changes.
    await agent.clickButton({ channel: ONCALL, ts: alert.slackTs! }, ACTIONS.crisisIncident);
    expect((await h.earshot.context.db.select().from(incidents)).length).toBe(0);
    expect(
      h.sandbox.workspace
        .ephemeralsFor(SEED.users.agent1)
        .map((e) => e.text ?? '')
        .join('\n'),
    ).toContain('lead');

    const lead = h.sandbox.as(SEED.users.lead);
    await lead.clickButton({ channel: ONCALL, ts: alert.slackTs! }, ACTIONS.crisisIncident);
    await h.drain();
    const [incident] = await db.select().from(incidents).where(eq(incidents.alertId, alert.id));
    expect(incident?.createdBy).toBe(SEED.users.lead);
    await lead.clickButton({ channel: ONCALL, ts: alert.slackTs! }, ACTIONS.crisisResolve);
    await h.drain();
    expect((await alertRow()).status).toBe('resolved');
    const final = JSON.stringify(h.sandbox.workspace.message(ONCALL, alert.slackTs!).blocks);
    expect(final).toContain(`Resolved by <@${SEED.users.lead}>`);
    expect(final).not.toContain(ACTIONS.crisisResolve);
  });
});
