import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/index.js';
import { SLASH_COMMAND } from '../../src/slack/ids.js';
import { claimTicket } from '../../src/tickets/actions.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;
const { admin, agent1, agent2, viewer, lead } = SEED.users;

describe('/earshot through the real Bolt receiver and the sandbox Slack', () => {
  let h: SlackHarness;
  let ticketId: number;
  let sourceId: number;

  beforeAll(async () => {
    h = await startSlackHarness();
    const db = h.earshot.context.db;
    const source = await seedSource(db);
    sourceId = source.id;
    const root = userActor(admin, 'admin');
    await setAgentRole(db, root, { slackUserId: admin, role: 'admin' });
    await setAgentRole(db, root, { slackUserId: viewer, role: 'viewer' });
    await setAgentRole(db, root, { slackUserId: lead, role: 'lead' });
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, {
        text: 'Checkout fails with error 500 <!channel>',
        author: { externalId: 'cmd-author', handle: 'casey', displayName: 'Casey' },
      }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    ticketId = ticket.id;
    await claimTicket(db, userActor(agent1, 'agent'), { ticketId });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Runs a command and returns what the user saw: the response_url answer (ephemeral or in channel). */
  async function run(user: string, text: string) {
    const session = h.sandbox.as(user);
    const ephemerals = session.ephemerals(FEEDBACK).length;
    const messages = h.sandbox.workspace.channelMessages(FEEDBACK).length;
    const delivery = await session.runCommand(SLASH_COMMAND, text, { channel: FEEDBACK });
    expect(delivery.status).toBe(200);
    expect(delivery.late).toBe(false);
    const ephemeral = session.ephemerals(FEEDBACK).slice(ephemerals);
    const shared = h.sandbox.workspace.channelMessages(FEEDBACK).slice(messages);
    const seen = [...ephemeral, ...shared];
    expect(seen).toHaveLength(1);
    return {
      shared: shared.length === 1,
      text: seen[0]?.text ?? '',
      json: JSON.stringify(seen[0]?.blocks ?? []),
    };
  }

  it('help, and unknown input gets help rather than silence', async () => {
    expect((await run(agent2, 'help')).text).toContain('/earshot queue');
    const unknown = await run(agent2, 'launch rockets');
    expect(unknown.text).toContain("I don't know `launch`");
    expect(unknown.text).toContain('/earshot queue');
    expect((await run(agent2, '')).text).toContain('/earshot find');
  });

  it('queue, mine, find and ticket answer ephemerally with escaped customer text', async () => {
    const queue = await run(agent2, 'queue');
    expect(queue.shared).toBe(false);
    expect(queue.json).toContain(`*#${ticketId}*`);
    expect(queue.json).toContain('&lt;!channel&gt;');
    expect(queue.json).not.toContain('<!channel>');
    expect((await run(agent1, 'mine')).json).toContain(`*#${ticketId}*`);
    expect((await run(agent2, 'mine')).text).toContain('You hold no open tickets');
    expect((await run(agent2, 'find @casey')).json).toContain(`*#${ticketId}*`);
    expect((await run(agent2, 'find error 500')).json).toContain(`*#${ticketId}*`);
    expect((await run(agent2, `find #${ticketId}`)).json).toContain(`*#${ticketId}*`);
    const shown = await run(viewer, `ticket ${ticketId}`);
    expect(shown.json).toContain('Timeline');
    expect(shown.json).toContain(`<@${agent1}> claimed`);
    expect((await run(viewer, 'ticket nope')).text).toContain('Give a ticket number');
  });

  it('summary is ephemeral; sharing it needs a lead, and then goes to the channel', async () => {
    const mine = await run(viewer, 'summary 7d');
    expect(mine.shared).toBe(false);
    expect(mine.text).not.toMatch(/:warning:|:no_entry:|You need/);
    expect(mine.json.length).toBeGreaterThan(2);
    const refused = await run(agent2, 'summary share');
    expect(refused.shared).toBe(false);
    expect(refused.text).toContain('You need the lead role');
    const shared = await run(lead, 'summary today share');
    expect(shared.shared).toBe(true);
    expect(shared.text).not.toMatch(/:warning:|:no_entry:|You need/);
  });

  it('role: an agent is refused; an admin sets a role from a mention', async () => {
    const refused = await run(agent2, `role <@${agent2}|ben> admin`);
    expect(refused.text).toContain('You need the admin role');
    const done = await run(admin, `role <@${agent2}|ben> lead`);
    expect(done.text).toBe(`<@${agent2}> is now lead (was agent).`);
    await run(admin, `role <@${agent2}|ben> agent`);
  });

  it('template add, list and remove for leads', async () => {
    expect((await run(agent1, 'template list')).text).toContain('You need the lead role');
    expect((await run(lead, 'template add sorry Sorry {{author_name}}, we are on it.')).text).toContain('added');
    expect((await run(lead, 'template list')).json).toContain('Sorry {{author_name}}, we are on it.');
    expect((await run(lead, 'template remove sorry')).text).toContain('removed');
  });

  it('a trailing “share” is a word, not a keyword, for commands that are not shareable', async () => {
    const added = await run(lead, 'template add thanks Thanks, feel free to share');
    expect(added.shared).toBe(false);
    expect(added.text).toContain('Template *thanks* added.');
    expect((await run(lead, 'template list')).json).toContain('Thanks, feel free to share');
    await run(lead, 'template remove thanks');
    // A webhook secret never goes to the channel, however the command ends.
    const source = await run(admin, 'source add webhook reviews share');
    expect(source.shared).toBe(false);
    const queue = await run(agent2, 'queue share');
    expect(queue.shared).toBe(true);
  });

  it('queue lists the first 25 and says how many are open in all', async () => {
    const db = h.earshot.context.db;
    for (let i = 0; i < 26; i++) {
      await ingestFixture(
        db,
        inboundFixture(sourceId, { author: { externalId: `queue-author-${i}`, handle: `q${i}` } }),
        assessmentFixture({ channel: 'earshot-feedback' }),
      );
    }
    const queue = await run(agent2, 'queue');
    expect(queue.text).toBe('Open queue: 27 tickets');
    expect(queue.json).toContain('*Open queue* · the first 25 of 27');
    expect(queue.json.match(/\*#\d+\*/g)).toHaveLength(25);
    const mine = await run(agent1, 'mine');
    expect(mine.text).toBe('Your open tickets: 1 ticket');
    expect(mine.json).not.toContain('the first');
  });
});
