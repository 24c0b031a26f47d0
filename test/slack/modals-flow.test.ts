import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox, replies } from '../../src/db/schema/index.js';
import { addTemplate, removeTemplate } from '../../src/replies/templates.js';
import { SEED } from '../../src/sandbox/index.js';
import { buildViewSubmission } from '../../src/sandbox/slack-api/payloads.js';
import { replyTextBlockId } from '../../src/slack/blocks/modals/reply.js';
import { ACTIONS, BLOCKS, INPUTS, OVERFLOW_OPTIONS, VIEWS } from '../../src/slack/ids.js';
import { ensureSource } from '../../src/sources/sources.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import { getTicket } from '../../src/tickets/queries.js';
import { assessmentFixture, inboundFixture, ingestFixture, userActor } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from './harness.js';

const FEEDBACK = SEED.channels.feedback;
const { agent1, agent2, viewer, lead } = SEED.users;

const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

if (!process.env.TEST_DATABASE_URL) {
  describe.skip('modals through the real Bolt receiver and the sandbox Slack [postgres: set TEST_DATABASE_URL to run]', () => {
    it('runs against real PostgreSQL', () => {});
  });
}

describe.each(KINDS)('modals through the real Bolt receiver and the sandbox Slack [%s]', (kind) => {
  let h: SlackHarness;
  let xSourceId: number;
  let hookSourceId: number;

  beforeAll(async () => {
    h = await startSlackHarness({ database: kind });
    const db = h.earshot.context.db;
    xSourceId = (await ensureSource(db, { name: 'x-brand', kind: 'x' }, null)).id;
    hookSourceId = (
      await ensureSource(db, { name: 'app-feedback', kind: 'webhook', settings: { replyMaxLength: 60 } }, null)
    ).id;
    const admin = userActor(SEED.users.admin, 'admin');
    await setAgentRole(db, admin, { slackUserId: viewer, role: 'viewer' });
    await setAgentRole(db, admin, { slackUserId: lead, role: 'lead' });
    await addTemplate(db, admin, {
      name: 'refund',
      body: 'Hi {{author_name}}, your refund for #{{ticket_id}} is on its way.',
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function newTicket(sourceId = xSourceId, text = 'I want a refund, the app charged me twice <!channel>') {
    const { ticket } = await ingestFixture(
      h.earshot.context.db,
      inboundFixture(sourceId, {
        text,
        author: { externalId: `a-${Math.random()}`, handle: 'dana', displayName: 'Dana' },
      }),
      assessmentFixture({ channel: 'earshot-feedback' }),
    );
    await h.drain();
    const posted = await getTicket(h.earshot.context.db, ticket.id);
    if (!posted?.slackTs) throw new Error('card was not posted');
    return posted;
  }

  const at = (ts: string) => ({ channel: FEEDBACK, ts });

  /** How many chat.update calls touched a card so far: mark before an action, check after. */
  const updatesOf = (ts: string) => h.sandbox.workspace.callsTo('chat.update').filter((c) => c.args.ts === ts && c.ok);

  /** After the action: the card was updated in place (showing `shows`) and its thread got `line`. */
  async function expectCardUpdated(ts: string, updatesBefore: number, shows: string, line: string) {
    await h.drain();
    expect(updatesOf(ts).length, 'chat.update of the card').toBeGreaterThan(updatesBefore);
    expect(JSON.stringify(h.sandbox.workspace.message(FEEDBACK, ts).blocks)).toContain(shows);
    const thread = h.sandbox.workspace
      .thread(FEEDBACK, ts)
      .filter((m) => m.ts !== ts)
      .map((m) => m.text);
    expect(thread.at(-1)).toBe(line);
    expect(h.sandbox.workspace.channelMessages(FEEDBACK).filter((m) => m.ts === ts)).toHaveLength(1);
  }

  it('Reply: opens with a suggested template, counts live, fills from a template, validates, and records once', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.reply);
    const modal = ana.currentView();
    expect(modal?.callback_id).toBe(VIEWS.reply);
    const json = JSON.stringify(modal?.blocks);
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).not.toContain('<!channel>');
    // The refund template matched the message, so its text is suggested.
    expect(json).toContain(`Hi Dana, your refund for #${ticket.id} is on its way.`);

    const typed = 'Sorry! Details: https://example.com/a/really/long/help/article/path';
    await ana.choose({ viewId: modal!.id }, ACTIONS.replyTextChanged, typed);
    const live = JSON.stringify(ana.currentView()?.blocks);
    expect(live).toContain('39 / 280 on X');

    await ana.choose(
      { viewId: modal!.id },
      ACTIONS.templatePicked,
      String((await h.earshot.context.db.query.replyTemplates.findFirst())!.id),
    );
    const filled = ana.currentView()!;
    const box = filled.blocks.find((b) => String(b.block_id).startsWith(BLOCKS.replyText));
    expect(box?.block_id).toBe(replyTextBlockId(1));

    const empty = await ana.submitView({ [replyTextBlockId(1)]: { [ACTIONS.replyTextChanged]: '   ' } });
    expect(empty.responseAction).toBe('errors');
    expect(empty.errors).toEqual({ [replyTextBlockId(1)]: 'Write a reply, or pick a template.' });

    const long = `${'We are so sorry about the double charge and we are fixing it right now. '.repeat(6)}Thanks!`;
    const viewId = ana.currentView()!.id;
    const sent = await ana.submitView({ [replyTextBlockId(1)]: { [ACTIONS.replyTextChanged]: long } });
    expect(sent.responseAction).toBe('close');
    const rows = await h.earshot.context.db.select().from(replies).where(eq(replies.ticketId, ticket.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.idempotencyKey).toBe(viewId);
    expect(rows[0]?.parts.length).toBeGreaterThan(1);
    expect(rows[0]?.parts[0]).toMatch(/ \(1\/\d\)$/);

    // Slack delivering the same submission twice (a double click) records nothing new.
    const again = await ana.link.deliver('view_submission', sent.payload);
    expect(again.status).toBe(200);
    expect(await h.earshot.context.db.select().from(replies).where(eq(replies.ticketId, ticket.id))).toHaveLength(1);
    const after = await getTicket(h.earshot.context.db, ticket.id);
    expect(after?.status).toBe('waiting');
    expect(after?.assignee).toBe(agent1);
  });

  it('Reply: the same submission delivered twice at once records one reply and closes both times', async () => {
    const ticket = await newTicket();
    const ben = h.sandbox.as(agent2);
    await ben.clickButton(at(ticket.slackTs!), ACTIONS.reply);
    const view = ben.fillView({ [BLOCKS.replyText]: { [ACTIONS.replyTextChanged]: 'On it, sorry for the trouble.' } });
    const payload = buildViewSubmission(h.sandbox.workspace, {
      user: agent2,
      view,
      triggerId: h.sandbox.workspace.issueTrigger(agent2),
    });
    const answers = await Promise.all([
      ben.link.deliver('view_submission', payload),
      ben.link.deliver('view_submission', payload),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.body ?? '')).not.toContain('errors');
    }
    const rows = await h.earshot.context.db.select().from(replies).where(eq(replies.ticketId, ticket.id));
    expect(rows).toHaveLength(1);
    await ben.closeView();
  });

  it('Reply: refuses a reply too long for a channel that does not thread', async () => {
    const ticket = await newTicket(hookSourceId, 'Where is my order?');
    const ana = h.sandbox.as(agent2);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.reply);
    const result = await ana.submitView({
      [BLOCKS.replyText]: {
        [ACTIONS.replyTextChanged]: 'This reply is much longer than sixty characters, so it cannot go.',
      },
    });
    expect(result.responseAction).toBe('errors');
    expect(result.errors?.[BLOCKS.replyText]).toMatch(/Too long for webhook: \d+ characters, at most 60/);
  });

  it('Reply: a viewer is refused, no modal opens, and an ephemeral message says why', async () => {
    const ticket = await newTicket();
    const vic = h.sandbox.as(viewer);
    const opens = h.sandbox.workspace.callsTo('views.open').length;
    await vic.clickButton(at(ticket.slackTs!), ACTIONS.reply);
    expect(vic.currentView()).toBeUndefined();
    expect(h.sandbox.workspace.callsTo('views.open')).toHaveLength(opens);
    expect(vic.lastEphemeral()?.text).toContain('You need the agent role to do that (you are a viewer)');
  });

  it('Tag: rejects a bad new tag on its field, then adds and removes tags', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.tag);
    expect(ana.currentView()?.callback_id).toBe(VIEWS.tag);
    const bad = await ana.submitView({ [BLOCKS.tagNew]: 'refund <!channel>' });
    expect(bad.responseAction).toBe('errors');
    expect(Object.keys(bad.errors ?? {})).toEqual([BLOCKS.tagNew]);
    expect((await getTicket(h.earshot.context.db, ticket.id))?.tags).toEqual([]);
    const updates = updatesOf(ticket.slackTs!).length;
    const ok = await ana.submitView({ [BLOCKS.tagNew]: 'Refund, checkout-bug' });
    expect(ok.responseAction).toBe('close');
    expect((await getTicket(h.earshot.context.db, ticket.id))?.tags).toEqual(['refund', 'checkout-bug']);
    await expectCardUpdated(
      ticket.slackTs!,
      updates,
      '`checkout-bug`',
      `<@${agent1}> tagged \`refund\` \`checkout-bug\``,
    );

    await ana.clickButton(at(ticket.slackTs!), ACTIONS.tag);
    const removed = await ana.submitView({ [BLOCKS.tagSelect]: ['refund'] });
    expect(removed.responseAction).toBe('close');
    expect((await getTicket(h.earshot.context.db, ticket.id))?.tags).toEqual(['refund']);
    await h.drain();
    const thread = h.sandbox.workspace.thread(FEEDBACK, ticket.slackTs!).map((m) => m.text);
    expect(thread).toContain(`<@${agent1}> removed tags \`checkout-bug\``);
  });

  it('Escalate: requires a reason, then escalates and notifies the channel and the user group', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.escalate);
    const view = ana.currentView()!;
    expect(view.callback_id).toBe(VIEWS.escalate);
    // The user groups arrived after opening, by views.update.
    expect(view.blocks.some((b) => b.block_id === BLOCKS.escalateNotifyGroup)).toBe(true);

    const missing = await ana.submitView({ [BLOCKS.escalateTier]: '2' });
    expect(missing.responseAction).toBe('errors');
    expect(Object.keys(missing.errors ?? {})).toEqual([BLOCKS.escalateReason]);

    const updates = updatesOf(ticket.slackTs!).length;
    const done = await ana.submitView({
      [BLOCKS.escalateTier]: '2',
      [BLOCKS.escalateReason]: 'Refund over $500 <!here>',
      [BLOCKS.escalateNotify]: SEED.channels.oncall,
      [BLOCKS.escalateNotifyGroup]: SEED.usergroups.oncall,
    });
    expect(done.responseAction).toBe('close');
    const after = await getTicket(h.earshot.context.db, ticket.id);
    expect(after?.escalationTier).toBe(2);
    await h.drain();
    const oncall = h.sandbox.workspace.channelMessages(SEED.channels.oncall).map((m) => m.text);
    expect(oncall.some((t) => t.includes(`escalated ticket #${ticket.id}`) && t.includes('&lt;!here&gt;'))).toBe(true);
    const thread = h.sandbox.workspace.thread(FEEDBACK, ticket.slackTs!).map((m) => m.text);
    expect(thread.some((t) => t.startsWith(`<!subteam^${SEED.usergroups.oncall}>`))).toBe(true);
    expect(thread).toContain(`<@${agent1}> escalated to tier 2: Refund over $500 &lt;!here&gt;`);
    expect(updatesOf(ticket.slackTs!).length).toBeGreaterThan(updates);
    expect(JSON.stringify(h.sandbox.workspace.message(FEEDBACK, ticket.slackTs!).blocks)).toContain(
      'Tier 2: Refund over $500 &lt;!here&gt;',
    );
    const notices = await h.earshot.context.db.select().from(outbox).where(eq(outbox.kind, 'message'));
    expect(notices.filter((n) => n.ticketId === ticket.id)).toHaveLength(2);
  });

  it('Escalate: an unknown tier is refused on its field', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.escalate);
    const view = ana.currentView()!;
    view.state.values[BLOCKS.escalateTier] = {
      [INPUTS.value]: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'Tier 9' }, value: '9' },
      },
    };
    const result = await ana.submitView({ [BLOCKS.escalateReason]: 'because' });
    expect(result.responseAction).toBe('errors');
    expect(result.errors).toEqual({ [BLOCKS.escalateTier]: 'Pick tier 1, 2 or 3.' });
    await ana.closeView();
  });

  it('Assign: agents are refused before anything opens; a lead assigns', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    const opens = h.sandbox.workspace.callsTo('views.open').length;
    await ana.selectOverflow(at(ticket.slackTs!), ACTIONS.overflow, OVERFLOW_OPTIONS.assign);
    expect(ana.currentView()).toBeUndefined();
    expect(h.sandbox.workspace.callsTo('views.open')).toHaveLength(opens);
    expect(ana.lastEphemeral()?.text).toContain('You need the lead role');

    const lee = h.sandbox.as(lead);
    await lee.selectOverflow(at(ticket.slackTs!), ACTIONS.overflow, OVERFLOW_OPTIONS.assign);
    expect(lee.currentView()?.callback_id).toBe(VIEWS.assign);
    const updates = updatesOf(ticket.slackTs!).length;
    const done = await lee.submitView({ [BLOCKS.assignUser]: agent2 });
    expect(done.responseAction).toBe('close');
    expect((await getTicket(h.earshot.context.db, ticket.id))?.assignee).toBe(agent2);
    await expectCardUpdated(
      ticket.slackTs!,
      updates,
      `*Assignee*\\n<@${agent2}>`,
      `<@${lead}> assigned to <@${agent2}>`,
    );
  });

  it('Correct triage: records the new priority', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    await ana.selectOverflow(at(ticket.slackTs!), ACTIONS.overflow, OVERFLOW_OPTIONS.correct);
    expect(ana.currentView()?.callback_id).toBe(VIEWS.correct);
    const updates = updatesOf(ticket.slackTs!).length;
    const done = await ana.submitView({ [BLOCKS.correctPriority]: 'P1', [BLOCKS.correctCategory]: 'bug_report' });
    expect(done.responseAction).toBe('close');
    const after = await getTicket(h.earshot.context.db, ticket.id);
    expect(after?.priority).toBe('P1');
    expect(after?.category).toBe('bug_report');
    await expectCardUpdated(
      ticket.slackTs!,
      updates,
      `P1 · Bug report · #${ticket.id}`,
      `<@${agent1}> corrected triage: category → bug_report, priority → P1`,
    );
  });

  it('Full text: shows the whole conversation, escaped, to a viewer too', async () => {
    const long = `${'word '.repeat(1200)}<@U123> <https://evil.example|bank.com>`;
    const ticket = await newTicket(xSourceId, long);
    const vic = h.sandbox.as(viewer);
    await vic.selectOverflow(at(ticket.slackTs!), ACTIONS.overflow, OVERFLOW_OPTIONS.fullText);
    const view = vic.currentView();
    expect(view?.callback_id).toBe(VIEWS.fullText);
    const json = JSON.stringify(view?.blocks);
    expect(json).toContain('&lt;@U123&gt;');
    expect(json).not.toContain('<https://evil');
    expect(view?.blocks.filter((b) => b.type === 'section').length).toBeGreaterThan(1);
  });
  it('Full text: a truncated card has a Full text button that opens the conversation in one click', async () => {
    const long = `${'the parcel never came '.repeat(120)}END-OF-POST`;
    const ticket = await newTicket(xSourceId, long);
    const card = h.sandbox.workspace.message(FEEDBACK, ticket.slackTs!);
    expect(JSON.stringify(card.blocks)).not.toContain('END-OF-POST');
    const vic = h.sandbox.as(viewer);
    const opens = h.sandbox.workspace.callsTo('views.open').length;
    await vic.clickButton(at(ticket.slackTs!), ACTIONS.fullText);
    expect(h.sandbox.workspace.callsTo('views.open')).toHaveLength(opens + 1);
    const view = vic.currentView();
    expect(view?.callback_id).toBe(VIEWS.fullText);
    expect(JSON.stringify(view?.blocks)).toContain('END-OF-POST');
    await vic.closeView();
  });

  it('Reply: a modal that lost its metadata says so on the text box instead of closing silently', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.reply);
    const view = ana.currentView()!;
    view.private_metadata = 'not json';
    const result = await ana.submitView({ [BLOCKS.replyText]: { [ACTIONS.replyTextChanged]: 'Sorry about that!' } });
    expect(result.responseAction).toBe('errors');
    expect(result.errors?.[BLOCKS.replyText]).toContain('lost track of its ticket, so nothing was sent');
    expect(await h.earshot.context.db.select().from(replies).where(eq(replies.ticketId, ticket.id))).toHaveLength(0);
    await ana.closeView();
  });

  it('Reply: a template that cannot be filled in is reported to the user, not only logged', async () => {
    const shortLived = await addTemplate(h.earshot.context.db, userActor(SEED.users.admin, 'admin'), {
      name: 'short-lived',
      body: 'Hi {{author_name}}!',
    });
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent2);
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.reply);
    const view = ana.currentView()!;
    const before = ana.ephemerals().length;
    // The picked template was removed in the meantime (its id is gone).
    await removeTemplate(h.earshot.context.db, userActor(SEED.users.admin, 'admin'), { name: 'short-lived' });
    await ana.choose({ viewId: view.id }, ACTIONS.templatePicked, String(shortLived.id));
    const told = ana
      .ephemerals()
      .slice(before)
      .map((e) => e.text);
    expect(told).toEqual([expect.stringContaining('That template was removed meanwhile')]);
    await ana.closeView();
  });

  it('Escalate: when filling the open modal fails, the user learns the modal is open but incomplete', async () => {
    const ticket = await newTicket();
    const ana = h.sandbox.as(agent1);
    const before = ana.ephemerals().length;
    h.sandbox.workspace.failNext('views.update', { error: 'internal_error' });
    await ana.clickButton(at(ticket.slackTs!), ACTIONS.escalate);
    expect(ana.currentView()?.callback_id).toBe(VIEWS.escalate);
    const told = ana
      .ephemerals()
      .slice(before)
      .map((e) => e.text);
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('The escalate form is open, but Earshot could not finish filling it in');
    expect(told[0]).not.toContain('nothing was changed');
    await ana.closeView();
  });
});
