import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { blocksTextLength, checkBlocks } from '../../src/sandbox/slack-api/block-limits.js';
import { formatDuration, maskPii, originalPostLink, safeLink, slaStatus } from '../../src/slack/blocks/format.js';
import { enforceBlockLimits, LIMITS } from '../../src/slack/blocks/limits.js';
import { buildThreadLine } from '../../src/slack/blocks/thread-line.js';
import { buildTicketCard, sentimentScoreText, ticketIdFromBlockId } from '../../src/slack/blocks/ticket-card.js';
import { ACTIONS, OVERFLOW_OPTIONS } from '../../src/slack/ids.js';
import type { TicketView } from '../../src/tickets/queries.js';
import type { Item, Ticket, TicketEvent } from '../../src/tickets/types.js';

const NOW = new Date('2026-03-02T12:00:00Z');

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: 42,
    sourceId: 1,
    authorId: 1,
    conversationId: 'c1',
    status: 'new',
    priority: 'P2',
    priorityReasons: ['refund', 'angry'],
    category: 'complaint',
    sentiment: 'negative',
    sentimentScore: -0.7,
    language: 'en',
    topics: ['checkout'],
    tags: ['checkout'],
    triage: { confidence: 0.9, lowConfidence: false, pii: [] },
    spam: 0,
    assignee: null,
    escalationTier: 0,
    escalationReason: null,
    incidentId: null,
    channel: 'C_FEEDBACK',
    slackTs: null,
    itemCount: 1,
    lastCustomerMessageAt: NOW,
    firstResponseDueAt: new Date(NOW.getTime() + 3 * 3600_000),
    resolutionDueAt: new Date(NOW.getTime() + 24 * 3600_000),
    firstResponseAt: null,
    resolvedAt: null,
    closedAt: null,
    slaPausedAt: null,
    slaPausedSeconds: 0,
    firstResponseSla: 'ok',
    resolutionSla: 'ok',
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

function item(text: string, overrides: Partial<Item> = {}): Item {
  return {
    id: 1,
    sourceId: 1,
    externalId: 'x1',
    authorId: 1,
    ticketId: 42,
    text,
    url: 'https://x.com/dana/status/1',
    conversationId: 'c1',
    parentExternalId: null,
    language: 'en',
    raw: null,
    tags: [],
    archived: false,
    triage: null,
    createdAt: NOW,
    receivedAt: NOW,
    processedAt: NOW,
    ...overrides,
  };
}

function view(text: string, overrides: { ticket?: Partial<Ticket>; items?: Item[]; author?: object } = {}): TicketView {
  return {
    ticket: ticket(overrides.ticket),
    author: {
      id: 1,
      sourceId: 1,
      externalId: 'a1',
      handle: 'dana',
      displayName: 'Dana',
      followerCount: 120_000,
      verified: true,
      vip: true,
      language: 'en',
      createdAt: NOW,
      updatedAt: NOW,
      ...overrides.author,
    },
    source: {
      id: 1,
      name: 'x-main',
      kind: 'x',
      settings: {},
      secret: null,
      enabled: true,
      createdAt: NOW,
      updatedAt: NOW,
    } as unknown as TicketView['source'],
    items: overrides.items ?? [item(text)],
  };
}

function allText(blocks: readonly KnownBlock[]): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(blocks);
  return out;
}

/** Everything Slack would parse as mrkdwn: mrkdwn text objects and the fallback. */
function mrkdwnTexts(card: { text: string; blocks: KnownBlock[] }): string[] {
  const out = [card.text];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      const v = value as { type?: string; text?: unknown };
      if (v.type === 'mrkdwn' && typeof v.text === 'string') out.push(v.text);
      Object.values(value).forEach(walk);
    }
  };
  walk(card.blocks);
  return out;
}

/** Checks every Block Kit limit the builders promise. */
function expectWithinLimits(card: { text: string; blocks: KnownBlock[] }, wholeCard = true) {
  expect(card.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
  expect(card.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  if (wholeCard) expect(JSON.stringify(card.blocks).length).toBeLessThan(LIMITS.messageTextBudget);
  for (const block of card.blocks) {
    if (block.type === 'section') {
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(LIMITS.field);
      expect((block.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fields);
    }
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.header);
    if (block.type === 'actions') {
      for (const element of block.elements) {
        if (element.type === 'button') {
          expect(element.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
          expect((element.value ?? '').length).toBeLessThanOrEqual(LIMITS.buttonValue);
        }
        if (element.type === 'overflow') expect(element.options.length).toBeLessThanOrEqual(LIMITS.overflowOptions);
      }
    }
  }
}

/** No live control sequence can come from customer text: no `<!…>`, `<@…>` except Earshot's own mentions, no masked links except ours. */
function expectNoInjection(card: { text: string; blocks: KnownBlock[] }, allowedMentions: string[] = []) {
  for (const text of mrkdwnTexts(card)) {
    expect(text).not.toMatch(/<!(channel|here|everyone|subteam)/);
    const controls = [...text.matchAll(/<([^>]*)>/g)].map((m) => m[1]!);
    for (const control of controls) {
      const ours =
        allowedMentions.some((id) => control === `@${id}`) || control.startsWith('https://x.com/dana/status/1|');
      expect(ours, `unexpected control sequence <${control}> in ${text}`).toBe(true);
    }
  }
}

const HOSTILE = [
  '<!channel> refund now',
  '<!here|here> everyone look',
  '<!everyone>',
  'ping <@U123> and <@W999|boss>',
  '<!subteam^S1|@support> help',
  'log in at <https://evil.example|bank.com>',
  'already escaped &lt;!channel&gt; stays literal',
  '&amp;&lt;&gt; & < >',
  'مرحبا، طلبي لم يصل \u202Egnp.exe\u202C 😡🔥👨‍👩‍👧‍👦',
  '*bold* _it_ ~strike~ `code` ```block``` > quote',
];

describe('buildTicketCard', () => {
  it('shows the author, text, triage, state, SLA, link and the buttons', () => {
    const card = buildTicketCard(view('My order never arrived'), { now: NOW, maskPii: false });
    const text = allText(card.blocks).join('\n');
    expect(text).toContain('*Dana* @dana');
    expect(text).toContain('120k followers');
    expect(text).toContain('verified');
    expect(text).toContain('VIP');
    expect(text).toContain('>My order never arrived');
    expect(text).toContain('Complaint');
    expect(text).toContain('Negative (-0.70)');
    expect(text).toContain('P2: refund, angry');
    expect(text).toContain('`checkout`');
    expect(text).toContain('New');
    expect(text).toContain('Unassigned');
    expect(text).toContain('3h 00m left for first response');
    expect(text).toContain('<https://x.com/dana/status/1|Open the original post on x.com>');
    expect(card.text).toBe('P2 complaint from @dana: My order never arrived');
    const actions = card.blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.block_id && ticketIdFromBlockId(actions.block_id)).toBe(42);
    const ids = actions?.type === 'actions' ? actions.elements.map((e) => ('action_id' in e ? e.action_id : '')) : [];
    expect(ids).toEqual([
      ACTIONS.claim,
      ACTIONS.reply,
      ACTIONS.tag,
      ACTIONS.escalate,
      ACTIONS.resolve,
      ACTIONS.overflow,
    ]);
    expectWithinLimits(card);
  });

  it('signs the sentiment score, and leaves out one that contradicts the label (a correction, a near-tie)', () => {
    expect(sentimentScoreText('positive', 0.4249)).toBe(' (+0.42)');
    expect(sentimentScoreText('neutral', -0.004)).toBe(' (0.00)');
    expect(sentimentScoreText('neutral', 0.3)).toBe(' (+0.30)');
    // Corrected from negative by an agent: triage's score stays in the database, not on the card.
    expect(sentimentScoreText('positive', -0.7)).toBe('');
    expect(sentimentScoreText('negative', 0.2)).toBe('');
    expect(sentimentScoreText('positive', 0.003)).toBe('');
    expect(sentimentScoreText('negative', Number.NaN)).toBe('');
    const corrected = buildTicketCard(view('x', { ticket: { sentiment: 'positive', sentimentScore: -0.7 } }), {
      now: NOW,
      maskPii: false,
    });
    expect(allText(corrected.blocks).join('\n')).toMatch(/\*Sentiment\*\n\S+ Positive$/m);
  });

  it('offers Unclaim once claimed, Reopen and Close once resolved, and at most five overflow options', () => {
    const claimed = buildTicketCard(view('x', { ticket: { status: 'claimed', assignee: 'U1' } }), {
      now: NOW,
      maskPii: false,
    });
    const claimedText = allText(claimed.blocks).join('\n');
    expect(claimedText).toContain(ACTIONS.unclaim);
    expect(claimedText).toContain('<@U1>');
    const resolved = buildTicketCard(view('x', { ticket: { status: 'resolved', resolvedAt: NOW } }), {
      now: NOW,
      maskPii: false,
    });
    const actions = resolved.blocks.find((b) => b.type === 'actions');
    if (actions?.type !== 'actions') throw new Error('no actions');
    expect(actions.elements.map((e) => ('action_id' in e ? e.action_id : ''))).toEqual([
      ACTIONS.reopen,
      ACTIONS.tag,
      ACTIONS.overflow,
    ]);
    const overflow = actions.elements.find((e) => e.type === 'overflow');
    expect(overflow?.type === 'overflow' && overflow.options.map((o) => o.value)).toEqual([
      OVERFLOW_OPTIONS.copyLink,
      OVERFLOW_OPTIONS.correct,
      OVERFLOW_OPTIONS.fullText,
      OVERFLOW_OPTIONS.close,
    ]);
  });

  it('shows the latest customer message when the conversation continued, and the escalation', () => {
    const card = buildTicketCard(
      view('first', {
        items: [item('first'), item('second <!here>', { id: 2 })],
        ticket: { escalationTier: 2, escalationReason: 'refund over $500 <!channel>', itemCount: 2 },
      }),
      { now: NOW, maskPii: false },
    );
    const text = allText(card.blocks).join('\n');
    expect(text).toContain('Latest from the customer');
    expect(text).toContain('>second &lt;!here&gt;');
    expect(text).toContain('Tier 2: refund over $500 &lt;!channel&gt;');
    expectNoInjection(card);
  });

  it('marks low-confidence triage and spam', () => {
    const card = buildTicketCard(
      view('hmm', { ticket: { triage: { lowConfidence: true, confidence: 0.42 }, spam: 1 } }),
      { now: NOW, maskPii: false },
    );
    const text = allText(card.blocks).join('\n');
    expect(text).toContain('Low-confidence triage (42% confident)');
    expect(text).toContain('Marked as spam');
  });

  it('masks PII from triage spans (and e-mails triage missed) when configured, and only then', () => {
    const raw = 'order 123456 call me at 555-0100, or mail dana@example.com';
    const spans = [
      { kind: 'order', start: 6, end: 12 },
      { kind: 'phone', start: 24, end: 32 },
    ];
    const masked = buildTicketCard(view(raw, { items: [item(raw, { triage: { pii: spans } })] }), {
      now: NOW,
      maskPii: true,
    });
    const text = allText(masked.blocks).join('\n');
    expect(text).toContain('order [order no.] call me at [phone], or mail [email]');
    expect(masked.text).not.toContain('dana@example.com');
    const fromTicket = buildTicketCard(view(raw, { ticket: { triage: { pii: spans } } }), { now: NOW, maskPii: true });
    expect(allText(fromTicket.blocks).join('\n')).toContain('[order no.]');
    const open = buildTicketCard(view(raw, { ticket: { triage: { pii: spans } } }), { now: NOW, maskPii: false });
    expect(allText(open.blocks).join('\n')).toContain('555-0100');
  });

  it.each(HOSTILE)('escapes hostile text everywhere: %s', (hostile) => {
    const card = buildTicketCard(
      view(hostile, {
        author: { handle: hostile, displayName: hostile },
        ticket: { tags: [hostile], priorityReasons: [hostile], escalationTier: 1, escalationReason: hostile },
        items: [item(hostile), item(hostile, { id: 2, url: `https://evil.example/|<!channel>` })],
      }),
      { now: NOW, maskPii: false },
    );
    expectNoInjection(card);
    expectWithinLimits(card);
  });

  it('keeps literal &lt; literal: it is escaped again, so Slack shows the characters typed', () => {
    const card = buildTicketCard(view('&lt;b&gt;'), { now: NOW, maskPii: false });
    expect(allText(card.blocks).join('\n')).toContain('&amp;lt;b&amp;gt;');
  });

  it('truncates 40k characters (and 40k ampersands) inside every limit, with the full text one click away', () => {
    for (const huge of ['a'.repeat(40_000), '&'.repeat(40_000), '😡'.repeat(20_000), 'ش'.repeat(40_000)]) {
      const card = buildTicketCard(
        view(huge, {
          items: [item(huge), item(huge, { id: 2 })],
          author: { displayName: huge, handle: huge },
          ticket: { tags: Array.from({ length: 200 }, (_, i) => `${huge.slice(0, 50)}${i}`), priorityReasons: [huge] },
        }),
        { now: NOW, maskPii: false },
      );
      expectWithinLimits(card);
      expect(allText(card.blocks).join('\n')).toContain('Full text');
      // One click: a Full text button beside the truncated text, not only the overflow menu.
      const sections = card.blocks.filter((b) => b.type === 'section' && b.accessory?.type === 'button');
      expect(sections.length).toBeGreaterThan(0);
      for (const section of sections) {
        const accessory = section.type === 'section' ? section.accessory : undefined;
        expect(accessory?.type === 'button' && [accessory.action_id, accessory.value]).toEqual([
          ACTIONS.fullText,
          '42',
        ]);
      }
    }
  });

  it('names the latest reply by who sent it, and Earshot’s own replies by what they are', () => {
    const note = (sentBy: string, status: 'pending' | 'done' | 'failed', parts = 1) => {
      const card = buildTicketCard(view('hello'), {
        now: NOW,
        maskPii: false,
        latestReply: { id: 7, sentBy, status, lastError: status === 'failed' ? 'HTTP 500' : null, parts },
      });
      return allText(card.blocks).find((t) => t.includes('posted') || t.includes('being sent'));
    };
    expect(note('U1', 'done', 2)).toBe(":outbox_tray: <@U1>'s reply is posted (2 posts)");
    expect(note('system:closing', 'done')).toBe(':outbox_tray: The closing message is posted');
    expect(note('system:closing', 'pending')).toBe(':hourglass: The closing message is being sent');
    expect(note('system:auto-ack', 'failed')).toBe(
      ':x: The auto-acknowledgement could not be posted: HTTP 500. Retry reply sends it again.',
    );
    expect(note('system:other', 'done')).toBe(":outbox_tray: Earshot's reply is posted");
  });

  it('shows no Full text button when nothing was cut', () => {
    const card = buildTicketCard(view('short and sweet'), { now: NOW, maskPii: false });
    expect(JSON.stringify(card.blocks)).not.toContain(ACTIONS.fullText);
    expect(JSON.stringify(card.blocks)).not.toContain('Truncated');
  });

  it('labels the original-post link with the host it leads to', () => {
    const card = buildTicketCard(
      view('x', { items: [item('x', { url: 'https://www.evil.example/x.com/dana/status/1' })] }),
      { now: NOW, maskPii: false },
    );
    expect(allText(card.blocks).join('\n')).toContain('|Open the original post on evil.example>');
    expect(originalPostLink('https://x.com/a/status/1')).toBe(
      '<https://x.com/a/status/1|Open the original post on x.com>',
    );
    expect(originalPostLink('javascript:alert(1)')).toBeNull();
    expect(originalPostLink(null)).toBeNull();
  });

  it('keeps emoji whole when truncating', () => {
    const card = buildTicketCard(view('👨‍👩‍👧‍👦'.repeat(1000)), { now: NOW, maskPii: false });
    const section = card.blocks.find((b) => b.type === 'section');
    const text = section?.type === 'section' ? (section.text?.text ?? '') : '';
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('slaStatus', () => {
  const base = ticket();
  it('counts down to the first response, then resolution, and says when it is overdue', () => {
    expect(slaStatus(base, NOW).line).toContain('3h 00m left for first response');
    expect(slaStatus({ ...base, firstResponseAt: NOW }, NOW).line).toContain('1d left for resolution');
    expect(slaStatus(base, new Date(NOW.getTime() + 4 * 3600_000)).line).toBe(
      ':rotating_light: first response overdue by 1h 00m',
    );
  });

  it('takes its badge from the stored SLA state, not from a fixed hour', () => {
    // 30 minutes left of a 4 h target the sweep has not flagged yet: no warning badge.
    const soon = new Date(NOW.getTime() + 2.5 * 3600_000);
    expect(slaStatus(base, soon).line).toBe(':hourglass_flowing_sand: 30m left for first response');
    // The sweep's warning (75% of the target) shows even with days left, as on a P4.
    const far = {
      ...base,
      firstResponseDueAt: new Date(NOW.getTime() + 3 * 86_400_000),
      firstResponseSla: 'warning' as const,
    };
    expect(slaStatus(far, NOW)).toMatchObject({ state: 'warning', line: ':warning: 3d left for first response' });
    // A breach is final, even if the due time moved later (a policy change).
    expect(slaStatus({ ...base, firstResponseSla: 'breached' }, NOW).line).toBe(
      ':rotating_light: first response target missed',
    );
    // After the first response, the resolution clock's state counts.
    const answered = {
      ...base,
      firstResponseAt: NOW,
      firstResponseSla: 'breached' as const,
      resolutionSla: 'warning' as const,
    };
    expect(slaStatus(answered, NOW).line).toBe(':warning: 1d left for resolution');
  });

  it('uses the SLA module’s reading within business hours instead of adding wall-clock pauses', () => {
    const paused = { ...base, firstResponseAt: NOW, slaPausedSeconds: 14 * 3600 };
    // Around the clock the stored due time plus the paused seconds is right: 24 h + 14 h.
    expect(slaStatus(paused, NOW).remainingMs).toBe(38 * 3600_000);
    // Overnight pauses cover no business time: the SLA module says the due time did not move.
    const clocks = {
      firstResponse: { dueAt: NOW, leftMs: 0 },
      resolution: { dueAt: new Date(NOW.getTime() + 24 * 3600_000), leftMs: 8 * 3600_000 },
    };
    expect(slaStatus(paused, NOW, clocks).remainingMs).toBe(24 * 3600_000);
    // While paused there is no due time: the business time left is shown.
    const waiting = { ...paused, status: 'waiting' as const, slaPausedAt: NOW };
    const reading = slaStatus(waiting, NOW, { ...clocks, resolution: { dueAt: null, leftMs: 5 * 3600_000 } });
    expect(reading.line).toBe(':double_vertical_bar: Paused, waiting on the customer (5h 00m left for resolution)');
  });

  it('does not count time spent waiting on the customer', () => {
    const paused = { ...base, slaPausedAt: NOW, slaPausedSeconds: 3600 };
    const later = new Date(NOW.getTime() + 10 * 3600_000);
    const status = slaStatus(paused, later);
    expect(status.paused).toBe(true);
    expect(status.remainingMs).toBe(4 * 3600_000);
    expect(slaStatus({ ...base, slaPausedSeconds: 3600 }, NOW).remainingMs).toBe(4 * 3600_000);
  });

  it('is done once resolved', () => {
    expect(slaStatus({ ...base, status: 'resolved' }, NOW).phase).toBe('done');
  });
});

describe('format helpers', () => {
  it('formats durations', () => {
    expect(formatDuration(30_000)).toBe('<1m');
    expect(formatDuration(61 * 60_000)).toBe('1h 01m');
    expect(formatDuration(-(2 * 1440 + 60) * 60_000)).toBe('2d 1h');
  });

  it('makes links that cannot be broken out of', () => {
    expect(safeLink('javascript:alert(1)', 'x')).toBeNull();
    expect(safeLink('not a url', 'x')).toBeNull();
    const link = safeLink('https://evil.example/a|<!channel>?q=1&r=2', '<b>');
    expect(link).toBe('<https://evil.example/a%7C%3C!channel%3E?q=1&amp;r=2|&lt;b&gt;>');
  });

  it('masks overlapping or out-of-range spans safely', () => {
    expect(maskPii('abc', [{ kind: 'email', start: 5, end: 9 }])).toBe('abc');
    expect(
      maskPii('0123456789', [
        { kind: 'order', start: 0, end: 5 },
        { kind: 'order', start: 2, end: 8 },
      ]),
    ).toBe('[order no.]56789');
    expect(maskPii('card 4111 1111 1111 1111 ok')).toBe('card [card no.] ok');
  });
});

describe('enforceBlockLimits', () => {
  it('clamps oversize blocks a builder might produce', () => {
    const blocks: KnownBlock[] = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(500) } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 's'.repeat(5000) },
        fields: Array(12).fill({ type: 'mrkdwn', text: 'f'.repeat(3000) }),
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'a',
            text: { type: 'plain_text', text: 'b'.repeat(100) },
            value: 'v'.repeat(3000),
          },
        ],
      },
      ...Array.from({ length: 60 }, (): KnownBlock => ({ type: 'divider' })),
    ];
    const clamped = enforceBlockLimits(blocks);
    expectWithinLimits({ text: '', blocks: clamped.slice(0, 3) }, false);
    expect(clamped).toHaveLength(50);
  });

  it('keeps a message’s total text under the budget, so Slack never answers msg_blocks_too_long', () => {
    const blocks: KnownBlock[] = [
      { type: 'section', text: { type: 'mrkdwn', text: `*Ticket*\n${'&amp;'.repeat(590)}` } },
      ...Array.from(
        { length: 6 },
        (_, i): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: `${i}${'x'.repeat(2900)}` } }),
      ),
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'short line' }] },
    ];
    expect(blocksTextLength(blocks)).toBeGreaterThan(16_000);
    const fitted = enforceBlockLimits(blocks);
    expect(blocksTextLength(fitted)).toBeLessThanOrEqual(LIMITS.messageTextBudget);
    expect(checkBlocks(fitted, 'message')).toEqual([]);
    // The longest texts gave way; the short line is whole and no cut left half an entity.
    expect(JSON.stringify(fitted)).toContain('short line');
    for (const text of allText(fitted)) expect(text).not.toMatch(/&[a-z]*…$/);
    // Views have no such budget.
    expect(blocksTextLength(enforceBlockLimits(blocks, LIMITS.viewBlocks))).toBe(blocksTextLength(blocks));
  });
});

function event(
  type: string,
  details: Record<string, unknown> = {},
  actor = 'U1',
  after: Record<string, unknown> | null = null,
): TicketEvent {
  return { id: 1, ticketId: 42, actor, type, before: null, after, details, createdAt: NOW };
}

describe('buildThreadLine', () => {
  it('says who did what', () => {
    expect(buildThreadLine(event('claimed'))).toBe('<@U1> claimed');
    expect(buildThreadLine(event('escalated', { tier: 2, reason: 'refund over $500' }))).toBe(
      '<@U1> escalated to tier 2: refund over $500',
    );
    expect(buildThreadLine(event('assigned', { to: 'U2' }))).toBe('<@U1> assigned to <@U2>');
    expect(buildThreadLine(event('unclaimed', { previousAssignee: 'U2' }))).toContain('from <@U2>');
    expect(buildThreadLine(event('resolved'))).toBe('<@U1> resolved');
    expect(buildThreadLine(event('marked_spam'))).toBe('<@U1> marked this as spam');
    expect(buildThreadLine(event('tagged', { added: ['refund'] }))).toBe('<@U1> tagged `refund`');
    expect(buildThreadLine(event('corrected', { fields: ['priority'] }, 'U1', { priority: 'P1' }))).toBe(
      '<@U1> corrected triage: priority → P1',
    );
    expect(buildThreadLine(event('sla_breached', { clock: 'first_response', targetMinutes: 60 }, 'system:sla'))).toBe(
      ':rotating_light: The first response target (1 h) was missed',
    );
    expect(
      buildThreadLine(event('escalated', { tier: 1, reason: 'unclaimed for 30 minutes', auto: true }, 'system:sla')),
    ).toBe('Earshot escalated to tier 1: unclaimed for 30 minutes');
    expect(buildThreadLine(event('reply_failed', { reason: '<!channel> 403' }, 'system:replies'))).toBe(
      ':x: The reply could not be posted: &lt;!channel&gt; 403. Retry it from the card.',
    );
    expect(buildThreadLine(event('something_new', {}, 'system:x'))).toBe('Earshot: something new');
  });

  it('says the customer was sent the closing message, and on which channel', () => {
    const closing = (details: Record<string, unknown>) =>
      buildThreadLine(event('closing_message', { replyId: 3, ...details }, 'system:closing'));
    expect(closing({ via: 'X', source: 'x-main' })).toBe(
      ':envelope_with_arrow: The customer was sent the closing message as a reply on X (*x-main*)',
    );
    expect(closing({ via: 'webhook', source: 'shop-chat' })).toBe(
      ':envelope_with_arrow: The customer was sent the closing message through the *shop-chat* webhook',
    );
    expect(closing({ via: 'webhook', source: '<!channel>' })).toBe(
      ':envelope_with_arrow: The customer was sent the closing message through the *&lt;!channel&gt;* webhook',
    );
    // Recorded before the channel was kept.
    expect(closing({})).toBe(':envelope_with_arrow: The customer was sent the closing message');
  });

  it('says an admin erased the customer’s data, without any of it', () => {
    expect(buildThreadLine(event('author_data_erased', {}, 'U0ADMIN'))).toBe(
      ":wastebasket: <@U0ADMIN> erased the customer's personal data: their posts, the replies and the notes are gone from this ticket; counts and timings stay",
    );
  });

  it('has its own line for every event type Earshot records', () => {
    const recorded = [
      'created',
      'claimed',
      'unclaimed',
      'assigned',
      'tagged',
      'untagged',
      'escalated',
      'deescalated',
      'replied',
      'resolved',
      'reopened',
      'customer_message',
      'closed',
      'marked_spam',
      'corrected',
      'reply_sent',
      'reply_failed',
      'reply_retried',
      'sla_warning',
      'sla_breached',
      'incident_linked',
      'closing_message',
      'author_data_erased',
    ];
    for (const type of recorded) {
      const fallback = `Earshot: ${type.replace(/_/g, ' ')}`;
      expect({ type, line: buildThreadLine(event(type, {}, 'system:test')) }).not.toEqual({ type, line: fallback });
    }
  });

  it('quotes customer follow-ups and agents’ free text, escaped', () => {
    const line = buildThreadLine(event('customer_message', { itemId: 7 }, 'system:ingest'), {
      itemText: 'still broken <!channel>\n<https://evil|bank.com>',
    });
    expect(line).toBe('The customer wrote:\n>still broken &lt;!channel&gt;\n>&lt;https://evil|bank.com&gt;');
    expect(buildThreadLine(event('reopened', { itemId: 7 }, 'system:ingest'), { itemText: 'hello?' })).toContain(
      'reopened:\n>hello?',
    );
    for (const hostile of HOSTILE) {
      for (const type of ['escalated', 'resolved', 'replied', 'tagged']) {
        const line = buildThreadLine(
          event(type, { reason: hostile, note: hostile, text: hostile, added: [hostile], tier: 1 }, 'U1'),
        );
        const controls = [...line.matchAll(/<([^>]*)>/g)].map((m) => m[1]);
        expect(controls).toEqual(['@U1']);
      }
    }
    expect(buildThreadLine(event('claimed', {}, '<!channel>'))).toBe('&lt;!channel&gt; claimed');
    expect(buildThreadLine(event('replied', { text: 'x'.repeat(40_000) })).length).toBeLessThanOrEqual(3000);
  });
});
