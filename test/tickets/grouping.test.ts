import { describe, expect, it } from 'vitest';
import { chooseTicketForItem, type GroupingCandidate } from '../../src/tickets/grouping.js';
import { slaClockPatch } from '../../src/tickets/sla-clock.js';
import { normalizeTags } from '../../src/tickets/tags.js';

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 12, 0) + minutes * 60_000);

function candidate(overrides: Partial<GroupingCandidate>): GroupingCandidate {
  return { id: 1, authorId: 7, conversationId: 'c1', status: 'new', lastCustomerMessageAt: at(0), ...overrides };
}

describe('chooseTicketForItem', () => {
  it('joins the ticket of the same conversation, whatever its status or age', () => {
    const old = candidate({ id: 2, conversationId: 'thread', status: 'closed', lastCustomerMessageAt: at(-10_000) });
    const chosen = chooseTicketForItem({ authorId: 99, conversationId: 'thread', createdAt: at(0) }, [old], 60);
    expect(chosen?.id).toBe(2);
  });

  it("joins the same author's recent ticket within the window", () => {
    const recent = candidate({ id: 3, conversationId: 'other', lastCustomerMessageAt: at(-30) });
    expect(chooseTicketForItem({ authorId: 7, conversationId: 'new-thread', createdAt: at(0) }, [recent], 60)?.id).toBe(
      3,
    );
  });

  it('opens a new ticket when the author last wrote outside the window', () => {
    const stale = candidate({ id: 4, conversationId: 'other', lastCustomerMessageAt: at(-61) });
    expect(chooseTicketForItem({ authorId: 7, conversationId: null, createdAt: at(0) }, [stale], 60)).toBeNull();
  });

  it('never re-enters a closed ticket through the author window', () => {
    const closed = candidate({ id: 5, conversationId: 'other', status: 'closed', lastCustomerMessageAt: at(-5) });
    expect(chooseTicketForItem({ authorId: 7, conversationId: null, createdAt: at(0) }, [closed], 60)).toBeNull();
  });

  it('prefers the newest of several matches', () => {
    const older = candidate({ id: 6, lastCustomerMessageAt: at(-20) });
    const newer = candidate({ id: 7, lastCustomerMessageAt: at(-5) });
    expect(chooseTicketForItem({ authorId: 7, conversationId: 'c1', createdAt: at(0) }, [older, newer], 60)?.id).toBe(
      7,
    );
  });

  it('does not group by author when the window is zero', () => {
    const recent = candidate({ conversationId: 'other', lastCustomerMessageAt: at(-1) });
    expect(chooseTicketForItem({ authorId: 7, conversationId: null, createdAt: at(0) }, [recent], 0)).toBeNull();
  });
});

describe('slaClockPatch', () => {
  it('pauses when the ticket starts waiting on the customer and adds the pause when it stops', () => {
    const paused = slaClockPatch({ slaPausedAt: null, slaPausedSeconds: 10 }, 'claimed', 'waiting', at(0));
    expect(paused).toEqual({ slaPausedAt: at(0) });
    const resumed = slaClockPatch({ slaPausedAt: at(0), slaPausedSeconds: 10 }, 'waiting', 'claimed', at(5));
    expect(resumed).toEqual({ slaPausedAt: null, slaPausedSeconds: 310 });
    expect(slaClockPatch({ slaPausedAt: null, slaPausedSeconds: 0 }, 'new', 'claimed', at(1))).toEqual({});
  });
});

describe('normalizeTags', () => {
  it('normalises what people type', () => {
    expect(normalizeTags([' Refund ', '#Checkout', 'late delivery', 'refund'])).toEqual([
      'refund',
      'checkout',
      'late-delivery',
    ]);
  });

  it('refuses markup and oversize tags', () => {
    expect(() => normalizeTags(['<!channel>'])).toThrow(/not a valid tag/);
    expect(() => normalizeTags(['x'.repeat(41)])).toThrow(/not a valid tag/);
  });
});
