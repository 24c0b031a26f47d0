import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { outbox, slaClockLive, tickets } from '../db/schema/index.js';
import type { Metrics } from '../observability/metrics.js';
import { queueCardRefresh, recordEvent } from '../tickets/timeline.js';
import { type Actor, OPEN_STATUSES, PRIORITIES, type Ticket } from '../tickets/types.js';
import { type ClockReading, nextSlaState, pausesOf, readClocks, type SlaState } from './clock.js';
import { buildEscalationText, buildSlaAlertText, onDutyMention } from './notifications.js';
import { computeDueTimes, SLA_WARNING_FRACTION, type SlaPolicies } from './policy.js';
import { loadSlaPolicies } from './settings.js';
import { loadWaitingTransitions } from './waiting-events.js';

const SLA_ACTOR: Actor = { kind: 'system', name: 'sla' };

export interface SlaSweepOptions {
  now: Date;
  leadsChannel: string;
  /** Channel (or `*`) → on-duty Slack user group id. */
  onDutyGroups: Readonly<Record<string, string>>;
  /** Unclaimed this many minutes → tier 1, the on-duty group is pinged; 0 turns it off. */
  escalateOnDutyMinutes: number;
  /** Still unclaimed this many minutes → tier 2, the leads channel hears of it; 0 turns it off. */
  escalateLeadsMinutes: number;
  /** Most tickets looked at per pass (the rest wait for the next tick). */
  batchSize?: number;
  /** Warnings and breaches by clock; null records nothing. */
  metrics?: Metrics | null;
}

export interface SlaSweepResult {
  warned: number;
  breached: number;
  met: number;
  escalated: number;
}

/**
 * One pass of the SLA sweep: moves each clock through ok → warning (75%) → breached (100%) or to
 * met, and escalates unclaimed tickets. Each change is one transaction per ticket that re-reads the
 * locked row, so the state columns guard every alert: it fires once, whichever replica sweeps.
 */
export async function runSlaSweep(db: Database, options: SlaSweepOptions): Promise<SlaSweepResult> {
  const policies = await loadSlaPolicies(db);
  const result: SlaSweepResult = { warned: 0, breached: 0, met: 0, escalated: 0 };
  const filter = candidateFilter(policies, options.now);
  for await (const candidate of pagesOf(db, filter, options.batchSize)) {
    const pending = await planTicket(db, policies, candidate, options.now);
    if (!pending) continue;
    const changes = await db.transaction(async (tx) => {
      const [locked] = await tx.select().from(tickets).where(eq(tickets.id, candidate.id)).for('update');
      if (!locked) return [];
      const plan = await planTicket(tx, policies, locked, options.now);
      return plan ? applyPlan(tx, locked, plan, options) : [];
    });
    for (const { clock, state } of changes) {
      if (state === 'warning' || state === 'breached') options.metrics?.slaAlerts.inc({ target: clock, level: state });
      if (state === 'warning') result.warned += 1;
      else if (state === 'breached') result.breached += 1;
      else if (state === 'met') result.met += 1;
    }
  }
  result.escalated = await escalateUnclaimed(db, options);
  return result;
}

/** Tickets read per page unless the caller says otherwise. */
const PAGE_SIZE = 500;

/**
 * Every ticket matching `filter`, read a page at a time in id order: a page of tickets that turn out
 * to need nothing cannot hold back the tickets after it, however many there are.
 */
async function* pagesOf(db: Database, filter: SQL, batchSize = PAGE_SIZE): AsyncGenerator<Ticket> {
  let after = 0;
  for (;;) {
    const page = await candidatePage(db, filter, after, batchSize);
    yield* page;
    if (page.length < batchSize) return;
    after = page[page.length - 1]!.id;
  }
}

/**
 * One page of the sweep's candidates after ticket `after`, from tickets_sla_live_idx (the backlog)
 * rather than every ticket. It states slaClockLive, which `filter` implies, so the index can be read
 * in id order; without it PostgreSQL still proves each priority's branch implies the predicate, but
 * reads a bitmap of the index and sorts it.
 */
function candidatePage(db: Database, filter: SQL, after: number, limit: number) {
  return db
    .select()
    .from(tickets)
    .where(and(gt(tickets.id, after), slaClockLive(tickets), filter))
    .orderBy(asc(tickets.id))
    .limit(limit);
}

/** The sweep's first page query for these policies at `now`, for reading its plan. */
export function slaCandidateQuery(db: Database, policies: SlaPolicies, now: Date) {
  return candidatePage(db, candidateFilter(policies, now), 0, PAGE_SIZE);
}

/** `at - minutes`, as a timestamp parameter. */
function minutesBefore(at: SQL | Date, minutes: number): SQL {
  const base = at instanceof Date ? sql`${at.toISOString()}::timestamptz` : at;
  return sql`(${base} - ${minutes * 60} * interval '1 second')`;
}

/**
 * Tickets whose clocks need a move now: a clock in `ok` that reached 75% of its target, one in
 * `warning` that reached 100%, or one that stopped (answered, resolved) and is to be marked met or
 * breached. A clock already warned is not looked at again until its breach is due, so tickets sitting
 * in `warning` never crowd out the ones behind them.
 *
 * The bounds are in wall time, which business time never outruns: exact for policies around the
 * clock (the resolution clock net of the recorded pauses), a lower bound within business hours (the
 * sweep then reads the real clock and may find nothing to do yet).
 */
function candidateFilter(policies: SlaPolicies, now: Date): SQL {
  const open = and(inArray(tickets.status, [...OPEN_STATUSES]), eq(tickets.spam, 0));
  const perPriority = PRIORITIES.map((p) => {
    const policy = policies[p];
    const aroundTheClock = !policy.businessHours;
    const firstResponseReached = (fraction: number) =>
      lte(tickets.createdAt, new Date(now.getTime() - policy.firstResponseMinutes * fraction * 60_000));
    // While paused the clock stands where it stopped; around the clock, earlier pauses are recorded in seconds.
    const clockEnd = sql`coalesce(${tickets.slaPausedAt}, ${now.toISOString()}::timestamptz)`;
    const started = aroundTheClock
      ? sql`(${tickets.createdAt} + ${tickets.slaPausedSeconds} * interval '1 second')`
      : sql`${tickets.createdAt}`;
    const resolutionReached = (fraction: number) =>
      sql`${started} <= ${minutesBefore(clockEnd, policy.resolutionMinutes * fraction)}`;
    return and(
      eq(tickets.priority, p),
      or(
        and(
          eq(tickets.firstResponseSla, 'ok'),
          or(isNotNull(tickets.firstResponseAt), and(open, firstResponseReached(SLA_WARNING_FRACTION))),
        ),
        and(
          eq(tickets.firstResponseSla, 'warning'),
          or(isNotNull(tickets.firstResponseAt), and(open, firstResponseReached(1))),
        ),
        and(
          eq(tickets.resolutionSla, 'ok'),
          or(isNotNull(tickets.resolvedAt), and(open, resolutionReached(SLA_WARNING_FRACTION))),
        ),
        and(eq(tickets.resolutionSla, 'warning'), or(isNotNull(tickets.resolvedAt), and(open, resolutionReached(1)))),
      ),
    );
  });
  return or(...perPriority)!;
}

interface Plan {
  firstResponse: { state: SlaState; reading: ClockReading } | null;
  resolution: { state: SlaState; reading: ClockReading } | null;
  due: { firstResponseDueAt: Date; resolutionDueAt: Date } | null;
}

async function planTicket(db: Database, policies: SlaPolicies, ticket: Ticket, now: Date): Promise<Plan | null> {
  const policy = policies[ticket.priority];
  const hours = policy.businessHours ?? null;
  const needsTimeline = hours !== null && (ticket.slaPausedSeconds > 0 || ticket.slaPausedAt !== null);
  const events = needsTimeline ? await loadWaitingTransitions(db, ticket.id) : [];
  // A resolved ticket's clock stopped at resolvedAt; later timeline entries cannot matter.
  const clocks = readClocks(policy, ticket, pausesOf(ticket, hours, events), now);
  const fr = nextSlaState(ticket.firstResponseSla, clocks.firstResponse);
  const res = nextSlaState(ticket.resolutionSla, clocks.resolution);
  // The due columns hold the target without pauses (the card adds paused time itself); they follow policy changes.
  const due = computeDueTimes(ticket.priority, ticket.createdAt, policies);
  const dueChanged =
    !sameInstant(ticket.firstResponseDueAt, due.firstResponseDueAt) ||
    !sameInstant(ticket.resolutionDueAt, due.resolutionDueAt);
  if (!fr && !res && !dueChanged) return null;
  return {
    firstResponse: fr ? { state: fr, reading: clocks.firstResponse } : null,
    resolution: res ? { state: res, reading: clocks.resolution } : null,
    due: dueChanged ? due : null,
  };
}

function sameInstant(a: Date | null, b: Date): boolean {
  return a !== null && Math.abs(a.getTime() - b.getTime()) < 1000;
}

async function applyPlan(
  tx: Database,
  ticket: Ticket,
  plan: Plan,
  options: SlaSweepOptions,
): Promise<{ clock: ClockReading['clock']; state: SlaState }[]> {
  const [updated] = await tx
    .update(tickets)
    .set({
      ...(plan.firstResponse ? { firstResponseSla: plan.firstResponse.state } : {}),
      ...(plan.resolution ? { resolutionSla: plan.resolution.state } : {}),
      ...(plan.due ?? {}),
      version: sql`${tickets.version} + 1`,
      updatedAt: options.now,
    })
    .where(eq(tickets.id, ticket.id))
    .returning();
  if (!updated) throw new Error(`ticket ${ticket.id} vanished while locked`);
  const entered: { clock: ClockReading['clock']; state: SlaState }[] = [];
  let announced = false;
  for (const change of [plan.firstResponse, plan.resolution]) {
    if (!change) continue;
    entered.push({ clock: change.reading.clock, state: change.state });
    if (change.state !== 'warning' && change.state !== 'breached') continue;
    const { reading, state } = change;
    const targetMinutes = reading.targetMs / 60_000;
    await recordEvent(tx, updated, {
      actor: SLA_ACTOR,
      type: state === 'warning' ? 'sla_warning' : 'sla_breached',
      before: { [slaColumn(reading.clock)]: ticket[slaColumn(reading.clock)] },
      after: { [slaColumn(reading.clock)]: state },
      details: { clock: reading.clock, targetMinutes, dueAt: reading.dueAt?.toISOString() ?? null },
    });
    announced = true;
    // A clock that already stopped (answered late while no sweep ran) is recorded, not chased.
    if (reading.stoppedAt) continue;
    await queueSlaNotifications(tx, updated, { state, reading, targetMinutes }, options);
  }
  if (!announced) await queueCardRefresh(tx, updated);
  return entered;
}

function slaColumn(clock: ClockReading['clock']): 'firstResponseSla' | 'resolutionSla' {
  return clock === 'first_response' ? 'firstResponseSla' : 'resolutionSla';
}

async function queueSlaNotifications(
  tx: Database,
  ticket: Ticket,
  alert: { state: 'warning' | 'breached'; reading: ClockReading; targetMinutes: number },
  options: SlaSweepOptions,
): Promise<void> {
  const base = {
    ticket,
    clock: alert.reading.clock,
    state: alert.state,
    targetMinutes: alert.targetMinutes,
    dueAt: alert.reading.dueAt,
    now: options.now,
  };
  const key = `sla:${ticket.id}:${alert.reading.clock}:${alert.state}`;
  const rows: (typeof outbox.$inferInsert)[] = [];
  if (ticket.assignee) {
    rows.push({
      kind: 'dm',
      channel: ticket.assignee,
      ticketId: ticket.id,
      dedupeKey: `${key}:dm`,
      payload: { user: ticket.assignee, text: buildSlaAlertText(base) },
    });
  } else {
    rows.push({
      kind: 'message',
      channel: ticket.channel,
      ticketId: ticket.id,
      dedupeKey: `${key}:channel`,
      payload: { text: buildSlaAlertText({ ...base, mention: onDutyMention(options.onDutyGroups, ticket.channel) }) },
    });
  }
  if (alert.state === 'breached') {
    rows.push({
      kind: 'message',
      channel: options.leadsChannel,
      ticketId: ticket.id,
      dedupeKey: `${key}:leads`,
      payload: { text: buildSlaAlertText(base) },
    });
  }
  await tx.insert(outbox).values(rows).onConflictDoNothing();
}

/**
 * The escalation chain for tickets nobody claims: tier 1 (ping the channel's on-duty group) after
 * `escalateOnDutyMinutes`, tier 2 (tell the leads channel) after `escalateLeadsMinutes`. The tier
 * column is the guard, so each step happens once; a ticket a person already escalated higher is left alone.
 */
async function escalateUnclaimed(db: Database, options: SlaSweepOptions): Promise<number> {
  const steps = [
    { tier: 1, minutes: options.escalateOnDutyMinutes },
    { tier: 2, minutes: options.escalateLeadsMinutes },
  ].filter((step) => step.minutes > 0);
  if (steps.length === 0) return 0;
  // Only tickets due a step they have not had: a ticket at tier 1 waits here until tier 2 is due.
  const due = or(
    ...steps.map((step) =>
      and(
        lt(tickets.escalationTier, step.tier),
        lte(tickets.createdAt, new Date(options.now.getTime() - step.minutes * 60_000)),
      ),
    ),
  )!;
  const candidates = pagesOf(
    db,
    and(eq(tickets.status, 'new'), isNull(tickets.assignee), eq(tickets.spam, 0), due)!,
    options.batchSize,
  );
  let escalated = 0;
  for await (const { id } of candidates) {
    const done = await db.transaction(async (tx) => {
      const [ticket] = await tx.select().from(tickets).where(eq(tickets.id, id)).for('update');
      if (ticket?.status !== 'new' || ticket.assignee) return false;
      const ageMinutes = (options.now.getTime() - ticket.createdAt.getTime()) / 60_000;
      const step = [...steps].reverse().find((s) => ageMinutes >= s.minutes && ticket.escalationTier < s.tier);
      if (!step) return false;
      const reason = `Unclaimed for ${Math.floor(ageMinutes)} minutes`;
      const [updated] = await tx
        .update(tickets)
        .set({
          escalationTier: step.tier,
          escalationReason: reason,
          version: sql`${tickets.version} + 1`,
          updatedAt: options.now,
        })
        .where(eq(tickets.id, ticket.id))
        .returning();
      if (!updated) return false;
      await recordEvent(tx, updated, {
        actor: SLA_ACTOR,
        type: 'escalated',
        before: { escalationTier: ticket.escalationTier },
        after: { escalationTier: step.tier },
        details: { tier: step.tier, reason, auto: true },
      });
      const toLeads = step.tier >= 2;
      await tx
        .insert(outbox)
        .values({
          kind: 'message',
          channel: toLeads ? options.leadsChannel : ticket.channel,
          ticketId: ticket.id,
          dedupeKey: `escalation:${ticket.id}:tier${step.tier}`,
          payload: {
            text: buildEscalationText({
              ticket: updated,
              minutes: step.minutes,
              tier: step.tier,
              mention: toLeads ? null : onDutyMention(options.onDutyGroups, ticket.channel),
              showChannel: toLeads,
            }),
          },
        })
        .onConflictDoNothing();
      return true;
    });
    if (done) escalated += 1;
  }
  return escalated;
}
