import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { tickets } from '../../src/db/schema/index.js';
import { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { getBasicSummary } from '../../src/reports/basic-summary.js';
import { unescapeCustomerWords } from '../../src/slack/commands/customer-words.js';
import { dispatchCommand, errorText, isShareable, parseCommandText } from '../../src/slack/commands/dispatch.js';
import { SUBCOMMANDS } from '../../src/slack/commands/index.js';
import { parseRoleArgs, parseUserMention } from '../../src/slack/commands/role.js';
import { parsePeriod } from '../../src/slack/commands/summary.js';
import { parseVipArgs } from '../../src/slack/commands/vip.js';
import { claimTicket, recordReply } from '../../src/tickets/actions.js';
import type { Actor } from '../../src/tickets/types.js';
import { normalizeVipHandle } from '../../src/triage/vip-list.js';
import { describeEachDatabase } from '../helpers/database.js';
import { inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

describe('command parsing', () => {
  it('splits name, arguments and a trailing share, for shareable subcommands only', () => {
    const shareable = (name: string) => ['summary', 'queue', 'find'].includes(name);
    expect(parseCommandText('  Summary 7d share ', shareable)).toEqual({ name: 'summary', args: '7d', share: true });
    expect(parseCommandText('find shared items', shareable)).toEqual({
      name: 'find',
      args: 'shared items',
      share: false,
    });
    expect(parseCommandText('', shareable)).toEqual({ name: '', args: '', share: false });
    expect(parseCommandText('queue share', shareable)).toEqual({ name: 'queue', args: '', share: true });
    expect(parseCommandText('template add thanks Thanks, feel free to share', shareable)).toEqual({
      name: 'template',
      args: 'add thanks Thanks, feel free to share',
      share: false,
    });
    expect(parseCommandText('queue share')).toMatchObject({ args: 'share', share: false });
  });

  it('lets only read-only subcommands be shared; never source, template or role', () => {
    const byName = new Map(SUBCOMMANDS.map((s) => [s.name, s]));
    for (const name of ['help', 'queue', 'mine', 'find', 'ticket', 'summary'])
      expect(isShareable(byName.get(name)), name).toBe(true);
    for (const name of ['source', 'template', 'role']) expect(isShareable(byName.get(name)), name).toBe(false);
  });

  it('reads user mentions the way Slack escapes them', () => {
    expect(parseUserMention('<@U123ABC|ana>')).toEqual({ userId: 'U123ABC', name: 'ana' });
    expect(parseUserMention('<@W123>')).toEqual({ userId: 'W123', name: null });
    expect(parseUserMention('@ana')).toBeNull();
    expect(parseRoleArgs('<@U1AB|ana> Lead')).toEqual({ userId: 'U1AB', name: 'ana', role: 'lead' });
    expect(() => parseRoleArgs('<@U1AB|ana> boss')).toThrow(/Usage/);
    expect(() => parseRoleArgs('ana lead')).toThrow(/Usage/);
  });

  it('reads periods and find queries', () => {
    expect(parsePeriod('')).toBe('today');
    expect(parsePeriod('30D')).toBe('30d');
    expect(() => parsePeriod('1y')).toThrow(/today/);
    expect(unescapeCustomerWords('<@U123|dana>')).toBe('@dana');
    expect(unescapeCustomerWords(' add <mailto:Jo@Example.com|Jo@Example.com> big account ')).toBe(
      'add Jo@Example.com big account',
    );
    expect(unescapeCustomerWords('<mailto:jo@example.com>')).toBe('jo@example.com');
  });

  it('reads a VIP handle, an optional source and a note, as Slack escapes them', () => {
    expect(parseVipArgs('@acme_corp source:x Enterprise account, renews in May')).toEqual({
      handle: '@acme_corp',
      source: 'x',
      note: 'Enterprise account, renews in May',
    });
    expect(parseVipArgs('<@U123|dana>')).toEqual({ handle: '@dana', source: null, note: null });
    expect(parseVipArgs('<mailto:Jo@Example.com|Jo@Example.com> partner')).toEqual({
      handle: 'Jo@Example.com',
      source: null,
      note: 'partner',
    });
    // `source:` counts only right after the handle; later it is part of the note.
    expect(parseVipArgs('acme note about source:x')).toMatchObject({ source: null, note: 'note about source:x' });
    expect(() => parseVipArgs('')).toThrow(/Usage/);
    expect(() => parseVipArgs('source:x @acme')).toThrow(/Usage/);
    expect(() => parseVipArgs('@acme source:')).toThrow(/Name the source/);
    expect(normalizeVipHandle(' @Acme_Corp ')).toBe('acme_corp');
    expect(normalizeVipHandle('Jo.Bloggs+shop@example.com')).toBe('jo.bloggs+shop@example.com');
    expect(normalizeVipHandle('@müller')).toBe('müller');
    for (const bad of ['@', 'two words', '<@U1>', 'a*b', 'x'.repeat(101)])
      expect(() => normalizeVipHandle(bad), bad).toThrow(/A handle is one word/);
  });

  it('escapes error text except the mentions Earshot writes', () => {
    const text = errorText(new AppError('invalid_input', '"<!channel>" is not a valid tag; ask <@U12AB>'));
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('<@U12AB>');
  });
});

describeEachDatabase('slash command dispatch', (handle) => {
  const config = loadConfig({ LOG_LEVEL: 'silent', EARSHOT_MASK_PII: 'false' });
  const logger = createLogger({ level: 'silent' });
  const run = (actor: Actor, text: string) =>
    dispatchCommand(
      SUBCOMMANDS,
      {
        db: handle().db,
        config,
        logger,
        actor,
        channelId: 'C1',
        userId: actor.kind === 'user' ? actor.userId : 'USYS',
        triggerId: 't',
      },
      text,
    );
  const admin = userActor('UADMIN', 'admin');
  const lead = userActor('ULEAD', 'lead');
  const agent = userActor('UAGENT', 'agent');
  const viewer = userActor('UVIEW', 'viewer');

  it('answers unknown and empty input with help, never silence', async () => {
    const unknown = await run(agent, 'frobnicate <!channel>');
    expect(unknown.text).toContain('I don’t know'.replace('’', "'"));
    expect(unknown.text).toContain('/earshot queue');
    expect(unknown.text).not.toContain('<!channel>');
    expect(unknown.responseType).toBe('ephemeral');
    expect((await run(agent, '')).text).toContain('/earshot queue');
    const help = await run(viewer, 'help');
    expect(help.text).toMatch(/Needs a higher role:[\s\S]*role @user/);
  });

  it('lists the queue, mine, find and a ticket with its timeline', async () => {
    const db = handle().db;
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(
      db,
      inboundFixture(source.id, {
        text: 'Checkout <!channel> is broken',
        author: { externalId: 'q1', handle: 'quinn' },
      }),
    );
    const queue = await run(agent, 'queue');
    expect(JSON.stringify(queue.blocks)).toContain(`*#${ticket.id}*`);
    expect(JSON.stringify(queue.blocks)).toContain('&lt;!channel&gt;');
    await claimTicket(db, agent, { ticketId: ticket.id });
    expect(JSON.stringify((await run(agent, 'mine')).blocks)).toContain(`*#${ticket.id}*`);
    expect((await run(lead, 'mine')).text).toContain('You hold no open tickets');
    expect(JSON.stringify((await run(agent, 'find @quinn')).blocks)).toContain(`*#${ticket.id}*`);
    expect(JSON.stringify((await run(agent, `find #${ticket.id}`)).blocks)).toContain(`*#${ticket.id}*`);
    expect(JSON.stringify((await run(agent, 'find checkout')).blocks)).toContain(`*#${ticket.id}*`);
    expect((await run(agent, 'find')).text).toContain('Say what to find');
    const shown = await run(viewer, `ticket ${ticket.id}`);
    const json = JSON.stringify(shown.blocks);
    expect(json).toContain('*Timeline* (2 events)');
    expect(json).toContain('claimed');
    expect(json).not.toContain('ticket_actions:');
    const { ticket: fresh } = await ingestFixture(
      db,
      inboundFixture(source.id, { text: 'Just arrived', author: { externalId: 'q2', handle: 'rowan' } }),
    );
    expect(JSON.stringify((await run(viewer, `ticket ${fresh.id}`)).blocks)).toContain('*Timeline* (1 event)');
    expect((await run(viewer, 'ticket 999999')).text).toContain('does not exist');
  });

  it('find lists the 20 newest matches and says when more match', async () => {
    const db = handle().db;
    const source = await seedSource(db);
    const ids: number[] = [];
    for (let i = 0; i < 21; i += 1) {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(source.id, { text: `My parcel went missing, try ${i}`, author: { externalId: `parcel-${i}` } }),
      );
      ids.push(ticket.id);
    }
    const found = await run(agent, 'find parcel went missing');
    const json = JSON.stringify(found.blocks);
    expect(found.text).toContain('(the 20 newest; more match)');
    expect(json).toContain('These are the 20 newest; more tickets match.');
    for (const id of ids.slice(1)) expect(json).toContain(`*#${id}*`);
    expect(json).not.toContain(`*#${ids[0]}*`);
    // Exactly as many as it lists: no note.
    const fewer = await run(agent, 'find try 1');
    expect(JSON.stringify(fewer.blocks)).not.toContain('more tickets match');
  });

  it('summarizes counts and the median first response; sharing needs report.share', async () => {
    const db = handle().db;
    const source = await seedSource(db);
    const { ticket } = await ingestFixture(db, inboundFixture(source.id, { author: { externalId: 's1' } }));
    await recordReply(db, agent, {
      ticketId: ticket.id,
      text: 'hi',
      parts: ['hi'],
      idempotencyKey: `k-${ticket.id}`,
    });
    const summary = await run(viewer, 'summary 7d');
    expect(summary.responseType).toBe('ephemeral');
    // The report's wording belongs to src/reports; here: it answered, and no refusal or fault.
    expect(summary.text.length).toBeGreaterThan(0);
    expect(summary.text).not.toMatch(/:warning:|:no_entry:|You need/);
    const refused = await run(agent, 'summary today share');
    expect(refused.text).toContain('You need the lead role');
    expect(refused.responseType).toBe('ephemeral');
    expect((await run(lead, 'summary today share')).responseType).toBe('in_channel');
    expect((await run(viewer, 'summary 1y')).text).toContain('`today`, `7d` or `30d`');
  });

  it('lets admins set roles and refuses everyone else before running', async () => {
    const refused = await run(agent, 'role <@UNEW|new> lead');
    expect(refused.text).toContain('You need the admin role');
    const done = await run(admin, 'role <@UNEW|new> lead');
    expect(done.text).toBe('<@UNEW> is now lead.');
    expect((await run(admin, 'role <@UNEW|new> lead')).text).toBe('<@UNEW> is already lead.');
    expect((await run(admin, 'role <@UNEW|new> boss')).text).toContain('Usage');
  });

  it('adds, lists and removes templates; leads only; rejects unknown variables', async () => {
    expect((await run(agent, 'template list')).text).toContain('You need the lead role');
    expect((await run(lead, 'template add thanks Hi {{author_name}}, thanks for #{{ticket_id}}!')).text).toContain(
      'Template *thanks* added',
    );
    expect((await run(lead, 'template add thanks again')).text).toContain('already exists');
    expect((await run(lead, 'template add bad Hi {{password}}')).text).toContain('Unknown variable {{password}}');
    expect(JSON.stringify((await run(lead, 'template list')).blocks)).toContain('Hi {{author_name}}');
    expect((await run(lead, 'template remove thanks')).text).toContain('removed');
    expect((await run(lead, 'template remove <!channel>')).text).toContain('&lt;!channel&gt;');
    expect((await run(lead, 'template frob')).text).toContain('Usage');
  });

  it('computes the summary in SQL: counts by status, category, sentiment; median first response; spam apart', async () => {
    const db = handle().db;
    const source = await seedSource(db, 'summary-source');
    const now = new Date();
    const opened = new Date(now.getTime() - 3 * 24 * 3600_000);
    const make = async (seconds: number | null, overrides: { spam?: number; createdAt?: Date } = {}) => {
      const { ticket } = await ingestFixture(
        db,
        inboundFixture(source.id, { author: { externalId: `sum-${Math.random()}` } }),
      );
      const createdAt = overrides.createdAt ?? opened;
      await db
        .update(tickets)
        .set({
          createdAt,
          spam: overrides.spam ?? 0,
          firstResponseAt: seconds === null ? null : new Date(createdAt.getTime() + seconds * 1000),
        })
        .where(eq(tickets.id, ticket.id));
    };
    const before = await getBasicSummary(db, { period: '7d', now });
    await make(60);
    await make(120);
    await make(600);
    await make(null);
    await make(5, { spam: 1 });
    await make(30, { createdAt: new Date(now.getTime() - 40 * 24 * 3600_000) });
    const summary = await getBasicSummary(db, { period: '7d', now });
    expect(summary.total - before.total).toBe(4);
    expect(summary.spam - before.spam).toBe(1);
    expect(summary.answered - before.answered).toBe(3);
    if (before.answered === 0) expect(summary.medianFirstResponseSeconds).toBe(120);
    expect(summary.byCategory.complaint).toBeGreaterThanOrEqual(4);
    expect(summary.bySentiment.negative).toBeGreaterThanOrEqual(4);
    const today = await getBasicSummary(db, { period: 'today', now });
    expect(today.since.getTime()).toBeLessThanOrEqual(now.getTime());
    expect(today.total).toBeLessThan(summary.total);
  });
});
