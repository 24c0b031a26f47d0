import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { canTransition, nextStatus, type TicketAction, TRANSITIONS } from '../../src/tickets/lifecycle.js';
import type { TicketStatus } from '../../src/tickets/types.js';

const ALL: TicketStatus[] = ['new', 'claimed', 'waiting', 'resolved', 'closed'];

describe('ticket lifecycle', () => {
  it.each([
    ['claim', 'new', null, 'claimed'],
    ['claim', 'waiting', null, 'waiting'],
    ['unclaim', 'claimed', 'U1', 'new'],
    ['reply', 'claimed', 'U1', 'waiting'],
    ['reply', 'new', null, 'waiting'],
    ['customer_message', 'waiting', 'U1', 'claimed'],
    ['customer_message', 'waiting', null, 'new'],
    ['customer_message', 'resolved', 'U1', 'claimed'],
    ['customer_message', 'closed', null, 'new'],
    ['customer_message', 'new', null, 'new'],
    ['resolve', 'waiting', 'U1', 'resolved'],
    ['reopen', 'resolved', 'U1', 'claimed'],
    ['reopen', 'closed', null, 'new'],
    ['close', 'resolved', 'U1', 'closed'],
    ['assign', 'new', null, 'claimed'],
    ['assign', 'waiting', 'U1', 'waiting'],
    ['escalate', 'claimed', 'U1', 'claimed'],
    ['mark_spam', 'new', null, 'closed'],
  ] as const)('%s from %s (assignee %s) leads to %s', (action, status, assignee, expected) => {
    expect(nextStatus(action, { status, assignee })).toBe(expected);
  });

  it.each([
    ['claim', 'resolved'],
    ['claim', 'closed'],
    ['resolve', 'resolved'],
    ['resolve', 'closed'],
    ['reopen', 'new'],
    ['reopen', 'waiting'],
    ['escalate', 'resolved'],
    ['reply', 'closed'],
    ['unclaim', 'new'],
  ] as const)('refuses %s from %s with a coded error', (action, status) => {
    let thrown: unknown;
    try {
      nextStatus(action, { status, assignee: null });
    } catch (err) {
      thrown = err;
    }
    expect(isAppError(thrown, 'invalid_transition')).toBe(true);
    expect((thrown as Error).message).not.toMatch(/undefined/);
  });

  it('lists every action against every status, so nothing is allowed by accident', () => {
    const table = Object.fromEntries(
      (Object.keys(TRANSITIONS) as TicketAction[]).map((action) => [
        action,
        ALL.filter((s) => canTransition(action, s)),
      ]),
    );
    expect(table).toMatchInlineSnapshot(`
      {
        "assign": [
          "new",
          "claimed",
          "waiting",
        ],
        "claim": [
          "new",
          "claimed",
          "waiting",
        ],
        "close": [
          "new",
          "claimed",
          "waiting",
          "resolved",
        ],
        "correct": [
          "new",
          "claimed",
          "waiting",
          "resolved",
          "closed",
        ],
        "customer_message": [
          "new",
          "claimed",
          "waiting",
          "resolved",
          "closed",
        ],
        "deescalate": [
          "new",
          "claimed",
          "waiting",
        ],
        "escalate": [
          "new",
          "claimed",
          "waiting",
        ],
        "mark_spam": [
          "new",
          "claimed",
          "waiting",
        ],
        "reopen": [
          "resolved",
          "closed",
        ],
        "reply": [
          "new",
          "claimed",
          "waiting",
        ],
        "resolve": [
          "new",
          "claimed",
          "waiting",
        ],
        "tag": [
          "new",
          "claimed",
          "waiting",
          "resolved",
          "closed",
        ],
        "unclaim": [
          "claimed",
          "waiting",
        ],
        "untag": [
          "new",
          "claimed",
          "waiting",
          "resolved",
          "closed",
        ],
      }
    `);
  });
});
