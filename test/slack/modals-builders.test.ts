import type { KnownBlock, ModalView } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { planReply, replyRulesFor } from '../../src/replies/channel-rules.js';
import { buildAssignModal } from '../../src/slack/blocks/modals/assign.js';
import { buildCorrectModal, parseCorrection } from '../../src/slack/blocks/modals/correct.js';
import { buildEscalateModal, parseTier } from '../../src/slack/blocks/modals/escalate.js';
import { buildFullTextModal } from '../../src/slack/blocks/modals/full-text.js';
import {
  buildReplyModal,
  describeCount,
  readReplyMetadata,
  readReplyText,
  rebuildReplyModal,
  replyErrors,
  replyTextBlockId,
} from '../../src/slack/blocks/modals/reply.js';
import { buildTagModal, parseNewTags } from '../../src/slack/blocks/modals/tag.js';
import { chunkEscaped, decodeMetadata } from '../../src/slack/blocks/view-parts.js';
import { ACTIONS, BLOCKS, VIEWS } from '../../src/slack/ids.js';

const HOSTILE = [
  '<!channel> <!here> <!everyone>',
  '<@U123> <!subteam^S123>',
  '<https://evil.example|bank.com>',
  'literal &lt; and &amp; stay literal',
  'مرحبا بالعالم \u202Eevil\u202C',
  '👨‍👩‍👧 🇫🇷',
].join('\n');

/** Every mrkdwn string in a view, to check no customer text became a control sequence. */
function mrkdwnTexts(blocks: readonly unknown[]): string[] {
  const out: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (record.type === 'mrkdwn' && typeof record.text === 'string') out.push(record.text);
      Object.values(record).forEach(visit);
    }
  };
  visit(blocks);
  return out;
}

function expectNoInjection(view: ModalView) {
  const all = mrkdwnTexts(view.blocks).join('\n');
  for (const sequence of ['<!channel>', '<!here>', '<!everyone>', '<@U123>', '<!subteam^S123>', '<https://evil']) {
    expect(all).not.toContain(sequence);
  }
  // Every ampersand is the start of an escape: nothing unescaped slipped through.
  expect(all).not.toMatch(/&(?!amp;|lt;|gt;)/);
}

function expectViewLimits(view: ModalView) {
  expect(view.title.text.length).toBeLessThanOrEqual(24);
  if (view.submit) expect(view.submit.text.length).toBeLessThanOrEqual(24);
  if (view.close) expect(view.close.text.length).toBeLessThanOrEqual(24);
  expect(view.blocks.length).toBeLessThanOrEqual(100);
  for (const text of mrkdwnTexts(view.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
  for (const block of view.blocks as KnownBlock[]) {
    if (block.type === 'section' && block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
  }
  expect((view.private_metadata ?? '').length).toBeLessThanOrEqual(3000);
}

describe('reply modal', () => {
  const base = {
    ticketId: 1234567,
    author: { handle: 'dana', displayName: 'Dana' },
    latestMessage: HOSTILE,
    source: { kind: 'x' as const, settings: {} },
    templates: [
      { id: 1, name: 'refund' },
      { id: 2, name: 'shipping-delay' },
    ],
    text: '',
  };

  it('has a template picker, a dispatching text input and a live count', () => {
    const view = buildReplyModal(base);
    expect(view.callback_id).toBe(VIEWS.reply);
    expectViewLimits(view);
    expectNoInjection(view);
    const template = view.blocks.find((b) => b.block_id === BLOCKS.replyTemplate);
    expect(template).toMatchObject({
      type: 'input',
      dispatch_action: true,
      element: { action_id: ACTIONS.templatePicked },
    });
    const text = view.blocks.find((b) => b.block_id === BLOCKS.replyText);
    expect(text).toMatchObject({
      type: 'input',
      dispatch_action: true,
      element: {
        action_id: ACTIONS.replyTextChanged,
        dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
      },
    });
    const count = view.blocks.find((b) => b.block_id === BLOCKS.replyPreview);
    expect(JSON.stringify(count)).toContain('0 / 280 on X');
    expect(decodeMetadata(view.private_metadata)).toMatchObject({ ticketId: 1234567, textRevision: 0 });
  });

  it('previews a long reply as a numbered thread with the count and a matching submit label', () => {
    const text = 'We are so sorry about this. '.repeat(30);
    const view = buildReplyModal({ ...base, text, textRevision: 2, selectedTemplateId: 2 });
    expectViewLimits(view);
    const input = view.blocks.find((b) => b.block_id === replyTextBlockId(2));
    expect(input).toMatchObject({ element: { initial_value: text } });
    const parts = view.blocks.filter((b) => b.block_id?.startsWith(`${BLOCKS.replyPreview}.`));
    expect(parts.length).toBeGreaterThan(1);
    expect(view.submit?.text).toBe(`Send ${parts.length} posts`);
    const picker = view.blocks.find((b) => b.block_id === BLOCKS.replyTemplate);
    expect(JSON.stringify(picker)).toContain('"initial_option"');
  });

  it('rebuilds the count and preview from the open view, and replaces the text box for a template', () => {
    const opened = buildReplyModal(base);
    const typed = rebuildReplyModal(opened, 'Thanks https://example.com/a-very-long-link-indeed');
    expect(typed).not.toBeNull();
    expect(JSON.stringify(typed?.blocks)).toContain('30 / 280 on X');
    // Typing keeps the same input block, so Slack keeps what the user typed.
    expect(typed?.blocks.some((b) => b.block_id === BLOCKS.replyText)).toBe(true);
    const picked = rebuildReplyModal(typed!, 'Hi Dana, a refund is on its way.', { replaceText: true });
    const meta = readReplyMetadata(picked?.private_metadata);
    expect(meta?.textRevision).toBe(1);
    expect(picked?.blocks.find((b) => b.block_id === replyTextBlockId(1))).toMatchObject({
      element: { initial_value: 'Hi Dana, a refund is on its way.' },
    });
    expect(picked?.blocks.filter((b) => b.block_id === BLOCKS.replyPreview)).toHaveLength(1);
    const state = { [replyTextBlockId(1)]: { [ACTIONS.replyTextChanged]: { value: 'edited' } } };
    expect(readReplyText(state, meta!)).toEqual({ text: 'edited', blockId: replyTextBlockId(1) });
    expect(rebuildReplyModal({ blocks: [], private_metadata: '{}' }, 'x')).toBeNull();
    const drafted = rebuildReplyModal(opened, 'An AI draft', { replaceText: true, suggestionOrigin: 'drafted by AI' });
    const notes = drafted?.blocks.filter((b) => b.block_id === 'reply_suggestion') ?? [];
    expect(notes).toHaveLength(1);
    expect(JSON.stringify(notes[0])).toContain('drafted by AI');
  });

  it('says there are no templates instead of an empty select', () => {
    const view = buildReplyModal({ ...base, templates: [] });
    expect(view.blocks.some((b) => b.block_id === BLOCKS.replyTemplate)).toBe(false);
    expect(JSON.stringify(view.blocks)).toContain('/earshot template add');
  });

  it('keeps a 40k-character customer message and a 3,000-character reply within limits', () => {
    const view = buildReplyModal({
      ...base,
      latestMessage: `${HOSTILE}${'&<>'.repeat(13_000)}`,
      text: 'x '.repeat(1500),
    });
    expectViewLimits(view);
    expectNoInjection(view);
  });

  it('reports empty and too-long replies on the text block', () => {
    const hook = replyRulesFor({ kind: 'webhook', settings: { replyMaxLength: 10 } });
    expect(replyErrors(planReply('  ', hook), hook, 'reply_text.3')).toEqual({ 'reply_text.3': expect.any(String) });
    expect(replyErrors(planReply('far too long for this', hook), hook, BLOCKS.replyText)?.[BLOCKS.replyText]).toMatch(
      /Too long for webhook: 21 characters, at most 10/,
    );
    expect(replyErrors(planReply('fine', hook), hook, BLOCKS.replyText)).toBeNull();
    expect(describeCount(planReply('far too long for this', hook), hook)).toContain('too long');
  });
});

describe('tag modal', () => {
  it('preselects the ticket’s tags among the known ones and offers a box for new ones', () => {
    const view = buildTagModal({ ticketId: 7, current: ['refund'], known: ['checkout', 'refund'] });
    expectViewLimits(view);
    const select = view.blocks.find((b) => b.block_id === BLOCKS.tagSelect);
    expect(select).toMatchObject({ element: { type: 'multi_static_select', initial_options: [{ value: 'refund' }] } });
    expect(view.blocks.some((b) => b.block_id === BLOCKS.tagNew)).toBe(true);
    expect(decodeMetadata(view.private_metadata)).toEqual({ ticketId: 7, shown: ['refund'] });
  });

  it('caps the options at 100 and leaves out the select when no tags exist', () => {
    const many = Array.from({ length: 250 }, (_, i) => `tag-${i}`);
    const view = buildTagModal({ ticketId: 7, current: ['tag-249'], known: many });
    const select = view.blocks.find((b) => b.block_id === BLOCKS.tagSelect) as { element: { options: unknown[] } };
    expect(select.element.options).toHaveLength(100);
    expect(JSON.stringify(select)).toContain('tag-249');
    expect(buildTagModal({ ticketId: 7, current: [], known: [] }).blocks.map((b) => b.block_id)).toEqual([
      BLOCKS.tagNew,
    ]);
  });

  it('splits new tags on commas and spaces', () => {
    expect(parseNewTags(' refund, checkout-bug\nvip ')).toEqual(['refund', 'checkout-bug', 'vip']);
    expect(parseNewTags(undefined)).toEqual([]);
  });
});

describe('escalate, assign and correct modals', () => {
  it('escalate offers tiers 1–3 preset one above the current tier, a reason and whom to notify', () => {
    const view = buildEscalateModal({ ticketId: 9, currentTier: 1, currentReason: '<!channel> refund' });
    expectViewLimits(view);
    expectNoInjection(view);
    expect(JSON.stringify(view.blocks.find((b) => b.block_id === BLOCKS.escalateTier))).toContain(
      '"initial_option":{"text":{"type":"plain_text","text":"Tier 2',
    );
    expect(view.blocks.some((b) => b.block_id === BLOCKS.escalateNotify)).toBe(true);
    expect(view.blocks.some((b) => b.block_id === BLOCKS.escalateNotifyGroup)).toBe(false);
    const withGroups = buildEscalateModal({
      ticketId: 9,
      currentTier: 3,
      currentReason: null,
      userGroups: [{ id: 'S1', handle: 'billing', name: 'Billing leads' }],
    });
    expect(withGroups.blocks.some((b) => b.block_id === BLOCKS.escalateNotifyGroup)).toBe(true);
    expect(parseTier('2')).toBe(2);
    expect(parseTier('4')).toBeNull();
    expect(parseTier('0')).toBeNull();
    expect(parseTier('x')).toBeNull();
  });

  it('assign presets the current assignee', () => {
    const view = buildAssignModal({ ticketId: 3, assignee: 'UANA' });
    expectViewLimits(view);
    expect(view.blocks[0]).toMatchObject({
      block_id: BLOCKS.assignUser,
      element: { type: 'users_select', initial_user: 'UANA' },
    });
  });

  it('correct presets triage and reads back only known values', () => {
    const view = buildCorrectModal({ id: 3, category: 'complaint', sentiment: 'negative', priority: 'P2' });
    expectViewLimits(view);
    expect(JSON.stringify(view.blocks)).toContain('"initial_option":{"text":{"type":"plain_text","text":"P2: high"');
    expect(parseCorrection({ category: 'praise', sentiment: 'bogus', priority: 'P1' })).toEqual({
      category: 'praise',
      sentiment: undefined,
      priority: 'P1',
    });
  });
});

describe('full text modal', () => {
  it('shows the whole conversation escaped, split into sections, newest kept past 100 blocks', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const entries = [
      { from: 'customer' as const, who: '@dana', at, text: `${HOSTILE}\n${'long text & more '.repeat(3000)}` },
      { from: 'agent' as const, who: 'UANA', at, text: 'We are on it <!here>' },
    ];
    const view = buildFullTextModal({ ticketId: 5, entries, maskPii: false });
    expectViewLimits(view);
    expectNoInjection(view);
    expect(view.submit).toBeUndefined();
    const sections = view.blocks.filter((b) => b.type === 'section');
    expect(sections.length).toBeGreaterThan(15);
    const many = Array.from({ length: 60 }, (_, i) => ({
      from: 'customer' as const,
      who: '@d',
      at,
      text: `message ${i}`,
    }));
    const capped = buildFullTextModal({ ticketId: 5, entries: many, maskPii: false });
    expectViewLimits(capped);
    expect(JSON.stringify(capped.blocks[0])).toMatch(/earlier messages not shown/);
    expect(JSON.stringify(capped.blocks.at(-2))).toContain('message 59');
  });

  it('masks PII when configured', () => {
    const view = buildFullTextModal({
      ticketId: 5,
      entries: [{ from: 'customer', who: '@d', at: new Date(), text: 'mail me at dana@example.com' }],
      maskPii: true,
    });
    expect(JSON.stringify(view.blocks)).not.toContain('dana@example.com');
  });
});

describe('chunkEscaped', () => {
  it('splits escaped text into pieces within the limit without cutting an escape', () => {
    const text = '&<>'.repeat(2000);
    const chunks = chunkEscaped(text, 3000);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(3000);
      expect(chunk).toMatch(/^(&amp;|&lt;|&gt;)+$/);
    }
    expect(chunks.join('')).toBe(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });
});
