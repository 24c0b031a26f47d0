import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { outbox, ticketEvents, tickets } from '../db/schema/index.js';
import { queueCardRefresh, recordEvent } from '../tickets/timeline.js';
import { type Actor, OPEN_STATUSES, PRIORITIES, type Ticket } from '../tickets/types.js';
import { type ClockReading, nextSlaState, pausesOf, readClocks, type SlaState } from './clock.js';
import { buildEscalationText, buildSlaAlertText, onDutyMention } from './notifications.js';
import { computeDueTimes, SLA_WARNING_FRACTION, type SlaPolicies } from './policy.js';
import { loadSlaPolicies } from './settings.js';

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
  const candidates = await db
    .select()
    .from(tickets)
    .where(candidateFilter(policies, options.now))
    .orderBy(asc(tickets.createdAt))
    .limit(options.batchSize ?? 500);
  for (const candidate of candidates) {
    const pending = await planTicket(db, policies, candidate, options.now);
    if (!pending) continue;
    const changes = await db.transaction(async (tx) => {
      const [locked] = await tx.select().from(tickets).where(eq(tickets.id, candidate.id)).for('update');
      if (!locked) return [];
      const plan = await planTicket(tx, policies, locked, options.now);
      return plan ? applyPlan(tx, locked, plan, options) : [];
    });
    for (const state of changes) {
      if (state === 'warning') result.warned += 1;
      else if (state === 'breached') result.breached += 1;
      else if (state === 'met') result.met += 1;
    }
  }
  result.escalated = await escalateUnclaimed(db, options);
  return result;
}

/**
 * Tickets whose clocks may need a move. Business time never runs faster than the wall clock and
 * pauses only slow it, so a ticket younger than 75% of its target (in wall time) cannot need a warning.
 */
function candidateFilter(policies: SlaPolicies, now: Date): SQL {
  const live = inArray(tickets.firstResponseSla, ['ok', 'warning']);
  const liveResolution = inArray(tickets.resolutionSla, ['ok', 'warning']);
  const open = and(inArray(tickets.status, [...OPEN_STATUSES]), eq(tickets.spam, 0));
  const oldEnough = (minutes: (p: (typeof PRIORITIES)[number]) => number) =>
    or(
      ...PRIORITIES.map((p) =>
        and(
          eq(tickets.priority, p),
          lte(tickets.createdAt, new Date(now.getTime() - minutes(p) * SLA_WARNING_FRACTION * 60_000)),
        ),
      ),
    );
  return or(
    and(
      live,
      or(
        isNotNull(tickets.firstResponseAt),
        and(
          open,
          oldEnough((p) => policies[p].firstResponseMinutes),
        ),
      ),
    ),
    and(
      liveResolution,
      or(
        isNotNull(tickets.resolvedAt),
        and(
          open,
          oldEnough((p) => policies[p].resolutionMinutes),
        ),
      ),
    ),
  )!;
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
  const events = needsTimeline
    ? await db
        .select({ createdAt: ticketEvents.createdAt, before: ticketEvents.before, after: ticketEvents.after })
        .from(ticketEvents)
        .where(
          and(
            eq(ticketEvents.ticketId, ticket.id),
            or(sql`${ticketEvents.before}->>'status' = 'waiting'`, sql`${ticketEvents.after}->>'status' = 'waiting'`),
          ),
        )
    : [];
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

async function applyPlan(tx: Database, ticket: Ticket, plan: Plan, options: SlaSweepOptions): Promise<SlaState[]> {
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
  const entered: SlaState[] = [];
  let announced = false;
  for (const change of [plan.firstResponse, plan.resolution]) {
    if (!change) continue;
    entered.push(change.state);
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
  const youngest = Math.min(...steps.map((s) => s.minutes));
  const candidates = await db
    .select({ id: tickets.id })
    .from(tickets)
    .where(
      and(
        eq(tickets.status, 'new'),
        isNull(tickets.assignee),
        eq(tickets.spam, 0),
        lt(tickets.escalationTier, 2),
        lte(tickets.createdAt, new Date(options.now.getTime() - youngest * 60_000)),
      ),
    )
    .orderBy(asc(tickets.createdAt))
    .limit(options.batchSize ?? 500);
  let escalated = 0;
  for (const { id } of candidates) {
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
