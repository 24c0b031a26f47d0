import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authors, tickets, vipAuthors } from '../../src/db/schema/index.js';
import { ingestModule } from '../../src/ingest/module.js';
import { SEED } from '../../src/sandbox/index.js';
import { createSource } from '../../src/sources/sources.js';
import { setAgentRole } from '../../src/tickets/agents.js';
import type { Source } from '../../src/tickets/types.js';
import { triageModule } from '../../src/triage/module.js';
import { userActor } from '../helpers/fixtures.js';
import { postUntilTicket } from '../helpers/webhooks.js';
import { privateAnswer, type SlackHarness, startSlackHarness } from '../slack/harness.js';

const FEEDBACK = SEED.channels.feedback;
const { admin, agent1, lead } = SEED.users;
const KINDS = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

/**
 * The VIP list end to end: `/earshot vip` through the real Bolt receiver, then customer posts
 * through the signed webhook, triage and the card in the sandbox Slack.
 */
describe.each(KINDS)('the VIP list, from /earshot vip to the card [%s]', (kind) => {
  let h: SlackHarness;
  let forms: Source;
  let reviews: Source;

  beforeAll(async () => {
    h = await startSlackHarness({
      database: kind,
      env: { EARSHOT_FEEDBACK_CHANNEL: 'earshot-feedback' },
      modules: { before: [triageModule], after: [ingestModule] },
    });
    const db = h.earshot.context.db;
    const root = userActor(admin, 'admin');
    await setAgentRole(db, root, { slackUserId: admin, role: 'admin' });
    await setAgentRole(db, root, { slackUserId: lead, role: 'lead' });
    forms = await createSource(db, root, { name: 'forms', kind: 'webhook' }, null);
    reviews = await createSource(db, root, { name: 'reviews', kind: 'webhook' }, null);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** The private answer to `/earshot <text>` as `user`: its text, then its blocks when it has any. */
  async function run(user: string, text: string): Promise<string> {
    const answer = await privateAnswer(h, user, text, FEEDBACK);
    return answer.json === '[]' ? answer.text : `${answer.text}\n${answer.json}`;
  }

  const post = (source: Source, id: string, handle: string, text: string) =>
    postUntilTicket({ url: h.earshot.http.url, db: h.earshot.context.db }, source, {
      id,
      author: { id: `${source.name}-${handle}`, handle, name: handle },
      text,
    });

  async function cardOf(ticketId: number): Promise<string> {
    await h.drain();
    const [ticket] = await h.earshot.context.db.select().from(tickets).where(eq(tickets.id, ticketId));
    const card = h.sandbox.workspace.channelMessages(FEEDBACK).find((m) => m.ts === ticket?.slackTs);
    expect(card).toBeDefined();
    return JSON.stringify(card!.blocks);
  }

  const listRows = () => h.earshot.context.db.select().from(vipAuthors);

  it('lets an agent read the list, not change it; refuses bad input with what to type, changing nothing', async () => {
    expect(await run(agent1, 'vip list')).toContain('The VIP list is empty');
    expect(await run(agent1, 'vip add @robin_c')).toContain('You need the lead role');
    expect(await run(lead, 'vip add')).toContain('Usage: `/earshot vip add @handle');
    expect(await run(lead, 'vip add @robin source:nowhere')).toContain('There is no source named "nowhere"');
    expect(await run(lead, 'vip add rob!n')).toContain('A handle is one word');
    expect(await run(lead, `vip add @robin ${'x'.repeat(201)}`)).toContain('A VIP note is at most 200 characters');
    expect(await run(lead, 'vip remove @robin')).toContain('@robin is not on the VIP list on every source');
    expect(await run(lead, 'vip promote @robin')).toContain('Usage:');
    expect(await listRows()).toEqual([]);
  });

  it('flags the first post of a handle listed before it ever posted, on that source only', async () => {
    const added = await run(lead, 'vip add @Robin_C source:forms Enterprise account <!channel>');
    expect(added).toContain('*@robin_c* on *forms* is a VIP (Enterprise account &lt;!channel&gt;)');
    expect(added).toContain('their first post will be flagged');
    expect(added).toContain('25 more priority points');

    const text = 'Where do I change the delivery address on my account?';
    const vip = await post(forms, 'v-1', 'robin_c', text);
    const other = await post(reviews, 'v-2', 'robin_c', text);
    expect(vip.priorityReasons).toContain('VIP');
    expect(other.priorityReasons).not.toContain('VIP');
    expect(await cardOf(vip.id)).toContain(':star: VIP');
    expect(await cardOf(other.id)).not.toContain(':star: VIP');
    // The same entry again changes nothing; a new note replaces the old one.
    expect(await run(lead, 'vip add robin_c source:FORMS')).toContain('was on the VIP list already');
    expect(await run(lead, 'vip add robin_c source:forms Key account')).toBe(
      '*@robin_c* on *forms*: the note now reads “Key account”.',
    );
    expect((await listRows()).map((r) => [r.handle, r.sourceId, r.note, r.createdBy])).toEqual([
      ['robin_c', forms.id, 'Key account', lead],
    ]);
  });

  it('flags the known authors of a handle at once, and lifts the flag when no entry lists them any more', async () => {
    const db = h.earshot.context.db;
    const first = await post(reviews, 'd-1', 'Dana_K', 'Your app keeps logging me out, very annoying');
    expect(first.priorityReasons).not.toContain('VIP');
    const author = async () => (await db.select().from(authors).where(eq(authors.id, first.authorId)))[0]!;
    expect((await author()).vip).toBe(false);

    expect(await run(lead, 'vip add @dana_k')).toContain('1 known author is flagged');
    expect((await author()).vip).toBe(true);
    const later = await post(forms, 'd-2', 'dana_k', 'Is there a way to export my order history?');
    expect(later.priorityReasons).toContain('VIP');

    const list = await run(agent1, 'vip list');
    expect(list).toContain('2 on the VIP list');
    expect(list).toMatch(/\*@dana_k\* on every source · 2 known · added by <@U0LEAD>/);
    expect(list).toMatch(/\*@robin_c\* on \*forms\* — Key account · 1 known/);

    expect(await run(lead, 'vip remove @dana_k source:forms')).toContain('@dana_k is not on the VIP list on forms');
    const removed = await run(lead, 'vip remove @DANA_K');
    expect(removed).toContain('*@dana_k* on every source is off the VIP list. 2 known authors are no longer flagged.');
    expect((await author()).vip).toBe(false);
    const after = await post(reviews, 'd-3', 'dana_k', 'How do I reset my password?');
    expect(after.priorityReasons).not.toContain('VIP');
  });

  it('keeps an author flagged while another entry still lists them', async () => {
    const db = h.earshot.context.db;
    const flagged = async () =>
      (
        await db
          .select()
          .from(authors)
          .where(and(eq(authors.sourceId, forms.id), eq(authors.handle, 'robin_c')))
      )[0]!.vip;
    expect(await run(lead, 'vip add @robin_c')).toContain('on every source is a VIP. 2 known authors are flagged.');
    const removed = await run(lead, 'vip remove @robin_c');
    expect(removed).toContain('is off the VIP list.');
    // The forms entry still lists the forms author; the reviews author had only the every-source entry.
    expect(await flagged()).toBe(true);
    const [reviewer] = await db
      .select()
      .from(authors)
      .where(and(eq(authors.sourceId, reviews.id), eq(authors.handle, 'robin_c')));
    expect(reviewer!.vip).toBe(false);
  });

  it('route test by a handle counts what Earshot knows of its author, and the VIP list for one never seen', async () => {
    expect(await run(lead, 'route add <#C0LEADS|earshot-leads> vip name="VIPs"')).toContain('VIP authors');
    const text = 'Where do I change the delivery address on my account?';
    const known = await run(lead, `route test source=forms author=@Robin_C ${text}`);
    expect(known).toMatch(/^Route test: P\d → C0LEADS/);
    expect(known).toContain('As if from forms, by @robin_c (known, VIP, 0 followers)');
    expect(known).toMatch(/rule \d+ \(VIPs\)/);
    const plain = await run(lead, `route test source=forms ${text}`);
    expect(plain).toContain('no rule matched: default channel');
    // Listed, never seen: the list alone makes the post a VIP's.
    expect(await run(lead, 'vip add @first_timer')).toContain('their first post will be flagged');
    expect(await run(lead, `route test author=first_timer ${text}`)).toContain('by @first_timer (not seen yet, VIP)');
    // As a context line: italics around a handle with an underscore would end inside it.
    expect(await run(lead, `route test author=nobody_here ${text}`)).toContain(
      '{"type":"context","elements":[{"type":"mrkdwn","text":"As if from any source, by @nobody_here (not seen yet)."}]',
    );
    expect(await run(lead, `route test author=bad!handle ${text}`)).toContain('A handle is one word');
  });
});
