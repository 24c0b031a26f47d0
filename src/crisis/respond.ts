import { and, eq, gte, inArray, isNull, or, sql } from 'drizzle-orm';
import { type Database, textArray } from '../db/database.js';
import { crisisAlerts, incidents, tickets } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { type Permission, requirePermission } from '../tickets/permissions.js';
import { recordEvent } from '../tickets/timeline.js';
import { type Actor, actorId, OPEN_STATUSES, type Ticket } from '../tickets/types.js';
import { type CardRouting, type CrisisAlertRow, queueAlertCard } from './alerts.js';
import type { CrisisAlertDetails } from './card.js';

export type IncidentRow = typeof incidents.$inferSelect;

/** What later tickets must match to join an incident. */
export interface IncidentMatch {
  topics: string[];
  sourceIds: number[];
}

export const SNOOZE_MINUTES = 30;
const CRISIS_ACTOR: Actor = { kind: 'system', name: 'crisis' };

type Routing = CardRouting;

/** Locks an alert, lets `change` decide its new columns, and queues the card update, in one transaction. */
async function changeAlert<T>(
  db: Database,
  actor: Actor,
  permission: Permission,
  input: { alertId: number; routing: Routing },
  change: (tx: Database, alert: CrisisAlertRow) => Promise<{ patch: Partial<CrisisAlertRow>; result: T } | null>,
): Promise<{ alert: CrisisAlertRow; result: T | null }> {
  requirePermission(actor, permission);
  return db.transaction(async (tx) => {
    const [alert] = await tx.select().from(crisisAlerts).where(eq(crisisAlerts.id, input.alertId)).for('update');
    if (!alert) throw new AppError('not_found', `Crisis alert #${input.alertId} does not exist.`);
    const decided = await change(tx, alert);
    if (!decided) return { alert, result: null };
    const [updated] = await tx.update(crisisAlerts).set(decided.patch).where(eq(crisisAlerts.id, alert.id)).returning();
    await queueAlertCard(tx, updated!, input.routing, 'update');
    return { alert: updated!, result: decided.result };
  });
}

function details(alert: CrisisAlertRow): CrisisAlertDetails {
  return alert.details as unknown as CrisisAlertDetails;
}

/** On-call has seen it: the card says who, and stops offering the button. Repeats change nothing. */
export async function acknowledgeAlert(db: Database, actor: Actor, input: { alertId: number; routing: Routing }) {
  return changeAlert(db, actor, 'ticket.claim', input, async (_tx, alert) => {
    if (alert.acknowledgedBy || alert.status === 'resolved') return null;
    return {
      patch: { acknowledgedBy: actorId(actor), status: alert.status === 'open' ? 'acknowledged' : alert.status },
      result: true,
    };
  });
}

/** Quiet for 30 minutes: the wave is still tracked, but nothing is posted until the snooze ends. */
export async function snoozeAlert(
  db: Database,
  actor: Actor,
  input: { alertId: number; routing: Routing; now?: Date; minutes?: number },
) {
  const now = input.now ?? new Date();
  return changeAlert(db, actor, 'ticket.claim', input, async (_tx, alert) => {
    if (alert.status === 'resolved') return null;
    const until = new Date(now.getTime() + (input.minutes ?? SNOOZE_MINUTES) * 60_000);
    return {
      patch: {
        status: 'snoozed',
        snoozedUntil: until,
        details: { ...details(alert), snoozedBy: actorId(actor) } as unknown as Record<string, unknown>,
      },
      result: until,
    };
  });
}

/** Over: the alert closes (and its incident, so later tickets stop joining it). */
export async function resolveAlert(
  db: Database,
  actor: Actor,
  input: { alertId: number; routing: Routing; now?: Date },
) {
  const now = input.now ?? new Date();
  return changeAlert(db, actor, 'crisis.manage', input, async (tx, alert) => {
    if (alert.status === 'resolved') return null;
    await tx
      .update(incidents)
      .set({ status: 'resolved', resolvedAt: now })
      .where(and(eq(incidents.alertId, alert.id), eq(incidents.status, 'open')));
    return {
      patch: {
        status: 'resolved',
        resolvedAt: now,
        snoozedUntil: null,
        details: { ...details(alert), resolvedBy: actorId(actor) } as unknown as Record<string, unknown>,
      },
      result: true,
    };
  });
}

/**
 * Declares an incident from an alert: an `incidents` row matching the wave's topic and sources,
 * every ticket of the wave and every open matching ticket since it began linked to it (each with a
 * timeline event), and later tickets joining through `linkTicketToIncidents`.
 */
export async function declareIncident(
  db: Database,
  actor: Actor,
  input: { alertId: number; routing: Routing; now?: Date; title?: string },
) {
  const now = input.now ?? new Date();
  return changeAlert(db, actor, 'crisis.manage', input, async (tx, alert) => {
    const d = details(alert);
    if (d.incidentId) return null;
    const topics = d.topic
      ? [d.topic]
      : d.kinds.includes('influencer')
        ? []
        : d.topTopics.slice(0, 1).map((t) => t.topic);
    const match: IncidentMatch = { topics, sourceIds: d.sourceIds };
    const [incident] = await tx
      .insert(incidents)
      .values({
        title: (input.title ?? d.title).slice(0, 200),
        alertId: alert.id,
        match: match as unknown as Record<string, unknown>,
        createdBy: actorId(actor),
        createdAt: now,
      })
      .returning();
    const since = new Date(alert.firstSeenAt.getTime() - (d.windowMinutes ?? 15) * 60_000);
    const matching = topics.length
      ? and(
          inArray(tickets.status, [...OPEN_STATUSES]),
          gte(tickets.createdAt, since),
          sql`${tickets.topics} && ${textArray(topics)}`,
          d.sourceIds.length ? inArray(tickets.sourceId, d.sourceIds) : undefined,
        )
      : undefined;
    const candidates = await tx
      .select()
      .from(tickets)
      .where(
        and(
          isNull(tickets.incidentId),
          or(d.ticketIds.length ? inArray(tickets.id, d.ticketIds) : undefined, matching) ?? sql`false`,
        ),
      )
      .for('update');
    for (const ticket of candidates) await attach(tx, ticket, incident!.id, actor, now);
    return {
      patch: {
        status: 'incident',
        acknowledgedBy: alert.acknowledgedBy ?? actorId(actor),
        details: { ...d, incidentId: incident!.id } as unknown as Record<string, unknown>,
      },
      result: { incident: incident!, linked: candidates.length },
    };
  });
}

async function attach(tx: Database, ticket: Ticket, incidentId: number, actor: Actor, now: Date): Promise<Ticket> {
  const [updated] = await tx
    .update(tickets)
    .set({ incidentId, version: sql`${tickets.version} + 1`, updatedAt: now })
    .where(eq(tickets.id, ticket.id))
    .returning();
  await recordEvent(tx, updated!, {
    actor,
    type: 'incident_linked',
    before: { incidentId: ticket.incidentId },
    after: { incidentId },
    details: { incidentId },
  });
  return updated!;
}

/**
 * For ingestion: call with the transaction that opened or updated a ticket. Links it to the newest
 * open incident whose topics it shares (and whose sources include its source), with a timeline
 * event. Returns the linked ticket, or null when none matches or the ticket already has one.
 */
export async function linkTicketToIncidents(
  tx: Database,
  ticket: Ticket,
  now: Date = new Date(),
): Promise<Ticket | null> {
  if (ticket.incidentId !== null || ticket.topics.length === 0 || ticket.spam !== 0) return null;
  const topics = textArray(ticket.topics);
  const [incident] = await tx
    .select({ id: incidents.id })
    .from(incidents)
    .where(
      and(
        eq(incidents.status, 'open'),
        sql`coalesce(${incidents.match}->'topics', '[]'::jsonb) ?| ${topics}`,
        sql`(jsonb_array_length(coalesce(${incidents.match}->'sourceIds', '[]'::jsonb)) = 0
             or ${incidents.match}->'sourceIds' @> to_jsonb(${ticket.sourceId}::int))`,
      ),
    )
    .orderBy(sql`${incidents.createdAt} desc`)
    .limit(1);
  if (!incident) return null;
  return attach(tx, ticket, incident.id, CRISIS_ACTOR, now);
}
