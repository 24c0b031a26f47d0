import { describe, expect, it } from 'vitest';
import {
  activeMs,
  addBusinessMs,
  type BusinessHours,
  businessMs,
  describeBusinessHours,
  dueAt,
  parseBusinessHours,
} from '../../src/sla/business-hours.js';
import { nextSlaState, pausesOf, readClocks } from '../../src/sla/clock.js';
import { computeDueTimes, formatMinutes, parseDuration } from '../../src/sla/policy.js';

const H = 3_600_000;
const berlin: BusinessHours = {
  days: [1, 2, 3, 4, 5],
  startMinute: 9 * 60,
  endMinute: 17 * 60,
  timeZone: 'Europe/Berlin',
};
const at = (iso: string) => new Date(iso);

describe('business-hours clock arithmetic', () => {
  it('counts wall time when there are no business hours', () => {
    expect(addBusinessMs(null, at('2026-01-09T15:00:00Z'), 2 * H)).toEqual(at('2026-01-09T17:00:00Z'));
    expect(businessMs(null, at('2026-01-09T15:00:00Z'), at('2026-01-12T15:00:00Z'))).toBe(72 * H);
  });

  it('carries a target over the weekend (Friday 16:00 Berlin + 2 h = Monday 10:00 Berlin)', () => {
    // 2026-01-09 is a Friday; Berlin is UTC+1 in winter.
    expect(addBusinessMs(berlin, at('2026-01-09T15:00:00Z'), 2 * H)).toEqual(at('2026-01-12T09:00:00Z'));
    expect(businessMs(berlin, at('2026-01-09T15:00:00Z'), at('2026-01-12T09:00:00Z'))).toBe(2 * H);
  });

  it('starts a clock opened on a Saturday at Monday opening', () => {
    expect(addBusinessMs(berlin, at('2026-01-10T12:00:00Z'), 30 * 60_000)).toEqual(at('2026-01-12T08:30:00Z'));
    expect(businessMs(berlin, at('2026-01-10T12:00:00Z'), at('2026-01-12T08:00:00Z'))).toBe(0);
  });

  it('follows daylight saving time: after the spring change, opening is 07:00 UTC', () => {
    // Friday 2026-03-27 16:00 CET; clocks go forward on Sunday 2026-03-29.
    expect(addBusinessMs(berlin, at('2026-03-27T15:00:00Z'), 2 * H)).toEqual(at('2026-03-30T08:00:00Z'));
    // A full business day is still 8 hours on the day after the change.
    expect(businessMs(berlin, at('2026-03-30T00:00:00Z'), at('2026-03-31T00:00:00Z'))).toBe(8 * H);
  });

  it('reads the time zone of the policy (New York, UTC-5 in winter)', () => {
    const ny: BusinessHours = { ...berlin, timeZone: 'America/New_York' };
    expect(addBusinessMs(ny, at('2026-01-12T13:00:00Z'), H)).toEqual(at('2026-01-12T15:00:00Z'));
  });

  it('multi-day targets count only open hours (24 business hours = 3 working days)', () => {
    expect(addBusinessMs(berlin, at('2026-01-12T08:00:00Z'), 24 * H)).toEqual(at('2026-01-14T16:00:00Z'));
  });

  it('pauses stop the clock: a paused hour within business hours moves the due time an hour', () => {
    const start = at('2026-01-12T08:00:00Z'); // Monday 09:00 Berlin
    const pauses = [{ from: at('2026-01-12T09:00:00Z'), to: at('2026-01-12T10:00:00Z') }];
    expect(dueAt(berlin, start, 4 * H, pauses)).toEqual(at('2026-01-12T13:00:00Z'));
    expect(activeMs(berlin, start, at('2026-01-12T12:00:00Z'), pauses)).toBe(3 * H);
  });

  it('a pause over the night costs nothing of the business clock', () => {
    const start = at('2026-01-12T15:00:00Z'); // Monday 16:00 Berlin
    const overnight = [{ from: at('2026-01-12T17:00:00Z'), to: at('2026-01-13T07:30:00Z') }];
    expect(dueAt(berlin, start, 2 * H, overnight)).toEqual(at('2026-01-13T09:00:00Z'));
  });

  it('an open pause stops the clock: no due time while waiting on the customer', () => {
    const start = at('2026-01-12T08:00:00Z');
    const open = [{ from: at('2026-01-12T09:00:00Z'), to: null }];
    expect(dueAt(berlin, start, 4 * H, open)).toBeNull();
    expect(activeMs(berlin, start, at('2026-01-12T15:00:00Z'), open)).toBe(H);
    // A target already used up before the pause still has its due time.
    expect(dueAt(berlin, start, 30 * 60_000, open)).toEqual(at('2026-01-12T08:30:00Z'));
  });

  it('parses and describes business hours, refusing nonsense with a message', () => {
    expect(parseBusinessHours('mon-fri 09:00-17:00 Europe/Berlin')).toEqual(berlin);
    expect(parseBusinessHours('sat-mon 10:00-14:30 UTC')).toEqual({
      days: [0, 1, 6],
      startMinute: 600,
      endMinute: 870,
      timeZone: 'UTC',
    });
    expect(parseBusinessHours('mon-fri 17:00-09:00 UTC')).toHaveProperty('error');
    expect(parseBusinessHours('mon-fri 09:00-17:00 Mars/Olympus')).toHaveProperty('error');
    expect(describeBusinessHours(berlin)).toBe('Mon–Fri 09:00–17:00 (Europe/Berlin)');
  });

  it('parses and formats durations', () => {
    expect(parseDuration('90m')).toBe(90);
    expect(parseDuration('1h30m')).toBe(90);
    expect(parseDuration('3d')).toBe(4320);
    expect(parseDuration('45')).toBe(45);
    expect(parseDuration('soon')).toBeNull();
    expect(formatMinutes(90)).toBe('1h 30m');
    expect(formatMinutes(7 * 1440)).toBe('7d');
  });

  it('computes due times for a priority with business hours', () => {
    const policies = {
      P1: { firstResponseMinutes: 60, resolutionMinutes: 480, businessHours: berlin },
      P2: { firstResponseMinutes: 240, resolutionMinutes: 1440 },
      P3: { firstResponseMinutes: 1440, resolutionMinutes: 4320 },
      P4: { firstResponseMinutes: 4320, resolutionMinutes: 10080 },
    };
    expect(computeDueTimes('P1', at('2026-01-09T15:30:00Z'), policies)).toEqual({
      firstResponseDueAt: at('2026-01-12T08:30:00Z'),
      resolutionDueAt: at('2026-01-12T15:30:00Z'),
    });
  });
});

describe('SLA states', () => {
  const ticket = {
    createdAt: at('2026-01-12T08:00:00Z'),
    firstResponseAt: null,
    resolvedAt: null,
    slaPausedAt: null,
    slaPausedSeconds: 0,
  };
  const target = { firstResponseMinutes: 60, resolutionMinutes: 480 };

  it('warns at 75%, breaches at 100%, and enters each state once', () => {
    const r = (minutes: number) =>
      readClocks(target, ticket, [], new Date(ticket.createdAt.getTime() + minutes * 60_000));
    expect(nextSlaState('ok', r(44).firstResponse)).toBeNull();
    expect(nextSlaState('ok', r(45).firstResponse)).toBe('warning');
    expect(nextSlaState('warning', r(50).firstResponse)).toBeNull();
    expect(nextSlaState('warning', r(60).firstResponse)).toBe('breached');
    expect(nextSlaState('ok', r(61).firstResponse)).toBe('breached');
    expect(nextSlaState('breached', r(120).firstResponse)).toBeNull();
  });

  it('a clock that stopped in time is met; one that stopped late is breached', () => {
    const now = at('2026-01-12T12:00:00Z');
    const inTime = readClocks(target, { ...ticket, firstResponseAt: at('2026-01-12T08:40:00Z') }, [], now);
    expect(nextSlaState('warning', inTime.firstResponse)).toBe('met');
    const late = readClocks(target, { ...ticket, firstResponseAt: at('2026-01-12T09:30:00Z') }, [], now);
    expect(nextSlaState('ok', late.firstResponse)).toBe('breached');
    expect(nextSlaState('met', late.firstResponse)).toBeNull();
  });

  it('waiting on the customer pauses the resolution clock but not the first response', () => {
    const paused = { ...ticket, firstResponseAt: at('2026-01-12T08:10:00Z'), slaPausedAt: at('2026-01-12T08:10:00Z') };
    const pauses = pausesOf(paused, null);
    const later = readClocks(target, paused, pauses, at('2026-01-13T08:00:00Z'));
    expect(later.resolution.elapsedMs).toBe(10 * 60_000);
    expect(later.resolution.dueAt).toBeNull();
    expect(nextSlaState('ok', later.resolution)).toBeNull();
  });

  it('around the clock, recorded pause seconds push the due time out exactly', () => {
    const resumed = { ...ticket, slaPausedSeconds: 3600 };
    const clocks = readClocks(target, resumed, pausesOf(resumed, null), at('2026-01-12T10:00:00Z'));
    expect(clocks.resolution.elapsedMs).toBe(H);
    expect(clocks.resolution.dueAt).toEqual(at('2026-01-12T17:00:00Z'));
  });

  it('within business hours, pauses come from the timeline status changes', () => {
    const events = [
      { createdAt: at('2026-01-12T09:00:00Z'), before: { status: 'claimed' }, after: { status: 'waiting' } },
      { createdAt: at('2026-01-12T09:30:00Z'), before: { status: 'waiting' }, after: { status: 'claimed' } },
      { createdAt: at('2026-01-12T11:00:00Z'), before: { status: 'claimed' }, after: { status: 'waiting' } },
    ];
    const t = { ...ticket, slaPausedSeconds: 1800, slaPausedAt: at('2026-01-12T11:00:00Z') };
    expect(pausesOf(t, berlin, events)).toEqual([
      { from: at('2026-01-12T09:00:00Z'), to: at('2026-01-12T09:30:00Z') },
      { from: at('2026-01-12T11:00:00Z'), to: null },
    ]);
  });
});
