import { describe, expect, it } from 'vitest';
import { buildRuleList } from '../../src/slack/commands/route.js';
import { parseRouteSpec, parseRouteTest } from '../../src/triage/route-syntax.js';
import { describeConditions, type RoutingRule } from '../../src/triage/routing.js';
import { buildRoutingNotice } from '../../src/triage/routing-notice.js';

describe('parseRouteSpec', () => {
  it('reads the channel, conditions, tags, notify target, position and quoted name', () => {
    const spec = parseRouteSpec(
      '<#C0BILLING|billing> category=Complaint,bug_report sentiment=negative min-priority=p2 language=ES source=x tags=refund topics=checkout urgency=payment,legal author=@Big vip add-tags=billing,Money notify=<!subteam^S0ONCALL|@oncall> position=2 name="Billing escalations"',
    );
    expect(spec).toEqual({
      channel: 'C0BILLING',
      name: 'Billing escalations',
      conditions: {
        category: ['complaint', 'bug_report'],
        sentiment: ['negative'],
        minPriority: 'P2',
        language: ['es'],
        source: ['x'],
        tags: ['refund'],
        topics: ['checkout'],
        urgency: ['payment', 'legal'],
        author: ['@Big'],
        vip: true,
      },
      addTags: ['billing', 'money'],
      notify: 'S0ONCALL',
      position: 2,
    });
  });

  it('takes a plain #name, and channel or person mentions as notify targets', () => {
    expect(parseRouteSpec('#kudos category=praise')).toMatchObject({
      channel: 'kudos',
      conditions: { category: ['praise'] },
    });
    expect(parseRouteSpec('#kudos notify=<#C0LEADS|earshot-leads>').notify).toBe('C0LEADS');
    expect(parseRouteSpec('#kudos notify=<@U0LEAD>').notify).toBe('U0LEAD');
    expect(parseRouteSpec('#kudos').conditions).toEqual({});
  });

  it('refuses what would store a wrong rule: no channel, unknown keys, bare words, empty values, bad positions, handles', () => {
    expect(() => parseRouteSpec('category=praise')).toThrow(/Name the channel first/);
    expect(() => parseRouteSpec('#kudos colour=red')).toThrow(/Unknown condition "colour"/);
    expect(() => parseRouteSpec('#kudos praise')).toThrow(/I don't understand "praise"/);
    expect(() => parseRouteSpec('#kudos category=')).toThrow(/"category" needs a value/);
    expect(() => parseRouteSpec('#kudos position=0')).toThrow(/position must be 1 or more/);
    // A handle Slack did not turn into a mention has no id: nobody would be notified.
    expect(() => parseRouteSpec('#kudos notify=@oncall')).toThrow(/autocomplete/);
  });
});

describe('parseRouteTest', () => {
  it('takes source and tags before the sample text, in any order, and keeps the text as typed', () => {
    expect(parseRouteTest('source=X tags=VIP,billing My refund never came')).toEqual({
      source: 'x',
      tags: ['vip', 'billing'],
      author: null,
      text: 'My refund never came',
    });
    expect(parseRouteTest('tags=a source=forms hello there')).toEqual({
      source: 'forms',
      tags: ['a'],
      author: null,
      text: 'hello there',
    });
    expect(parseRouteTest('author=<@U123|Dana_K> source=x hello')).toMatchObject({ author: 'Dana_K', source: 'x' });
    expect(parseRouteTest('author=@acme hello')).toMatchObject({ author: 'acme', text: 'hello' });
    expect(parseRouteTest('author=<mailto:Jo@Example.com|Jo@Example.com> hi')).toMatchObject({
      author: 'Jo@Example.com',
    });
    expect(parseRouteTest('the source=x is in the text')).toEqual({
      source: null,
      tags: [],
      author: null,
      text: 'the source=x is in the text',
    });
  });

  it('needs a sample text', () => {
    expect(() => parseRouteTest('source=x')).toThrow(/Give a sample text/);
    expect(() => parseRouteTest('  ')).toThrow(/Give a sample text/);
  });
});

describe('describeConditions', () => {
  it('puts conditions into words, and says when a rule takes everything', () => {
    expect(describeConditions({ category: ['complaint', 'bug_report'], minPriority: 'P2', vip: true })).toBe(
      'category complaint or bug_report, priority P2 or higher, VIP authors',
    );
    expect(describeConditions({})).toBe('everything');
  });
});

describe('buildRuleList', () => {
  const rule = (id: number, position: number, name: string): RoutingRule => ({
    id,
    position,
    name,
    conditions: { category: ['complaint'] },
    channel: 'C0BILLING',
    addTags: [],
    notify: null,
    enabled: true,
  });

  it('numbers rules in the order they are checked and names the id that remove takes', () => {
    const blocks = buildRuleList([rule(7, 1, 'First'), rule(3, 2, 'Second')], 'earshot-feedback');
    const texts = blocks.map((b) => JSON.stringify(b));
    expect(texts[0]).toContain('1. *First* · rule id `7`');
    expect(texts[1]).toContain('2. *Second* · rule id `3`');
    expect(texts.at(-1)).toContain('route remove <rule id>');
    expect(texts.at(-1)).toContain('#earshot-feedback');
  });
});

describe('buildRoutingNotice', () => {
  const ticket = { id: 12, channel: 'C0BILLING', priority: 'P1' as const, category: 'complaint' as const };

  it('mentions a user group or person in the rule channel, and posts into a notified channel', () => {
    expect(buildRoutingNotice(ticket, { name: 'Billing <!here>' }, 'S0ONCALL')).toEqual({
      channel: 'C0BILLING',
      text: '<!subteam^S0ONCALL> New P1 complaint, ticket #12, routed by rule “Billing &lt;!here&gt;”.',
    });
    expect(buildRoutingNotice(ticket, { name: 'b' }, 'U0LEAD')?.text).toMatch(/^<@U0LEAD> New P1 complaint/);
    expect(buildRoutingNotice(ticket, { name: 'b' }, 'C0LEADS')).toEqual({
      channel: 'C0LEADS',
      text: ':bell: New P1 complaint, ticket #12, routed by rule “b” in <#C0BILLING>.',
    });
    expect(buildRoutingNotice(ticket, { name: 'b' }, 'oncall')).toBeNull();
  });
});
