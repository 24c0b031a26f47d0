import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { crisisAlerts, outbox, tickets } from '../db/schema/index.js';
import type { Metrics } from '../observability/metrics.js';
import { trendChartUrl } from '../reports/chart-link.js';
import { buildCrisisAlertCard, type CrisisAlertDetails, type CrisisAlertView, type CrisisStatus } from './card.js';
import type { CrisisSignal } from './detector.js';

export type CrisisAlertRow = typeof crisisAlerts.$inferSelect;

/** Where alerts go, how they look, and how long a wave lasts without a new trigger. */
export interface AlertRouting {
  channel: string;
  oncallGroup?: string | null;
  cooldownMinutes: number;
  windowMinutes: number;
  /** EARSHOT_MASK_PII for the sample posts; on unless false. */
  maskPii?: boolean;
  /** Where the trend chart is served from (EARSHOT_PUBLIC_URL) and its signing secret; null: a sparkline. */
  chart?: { publicUrl: string; secret: string } | null;
}

/** What the card of an alert needs from its routing. */
export type CardRouting = Pick<AlertRouting, 'channel' | 'oncallGroup' | 'maskPii' | 'chart'>;

export type AlertPlan = 'create' | 'update' | 'silent' | 'repost' | 'ignore';

/**
 * What a new trigger does to the latest alert of its wave (its group key):
 * - none, or the wave went quiet for a cooldown → `create` a new alert;
 * - resolved less than a cooldown ago → `ignore` (on-call said it is handled);
 * - snoozed → `silent` (details kept current, nothing posted) until the snooze ends, then `repost`;
 * - otherwise → `update` the one message in place.
 */
export function planAlert(
  latest: Pick<CrisisAlertRow, 'status' | 'lastSeenAt' | 'resolvedAt' | 'snoozedUntil'> | null,
  now: Date,
  cooldownMinutes: number,
): AlertPlan {
  if (!latest) return 'create';
  const cooldownStart = now.getTime() - cooldownMinutes * 60_000;
  if (latest.status === 'resolved') {
    return latest.resolvedAt && latest.resolvedAt.getTime() > cooldownStart ? 'ignore' : 'create';
  }
  if (latest.lastSeenAt.getTime() < cooldownStart) return 'create';
  if (latest.status === 'snoozed') {
    return latest.snoozedUntil && latest.snoozedUntil.getTime() > now.getTime() ? 'silent' : 'repost';
  }
  return 'update';
}

/** Folds a new reading into an alert's details: latest counts, peak, every ticket seen in the wave. */
export function mergeDetails(
  previous: CrisisAlertDetails | null,
  signal: CrisisSignal,
  windowMinutes: number,
): CrisisAlertDetails {
  const kinds = [...new Set([...(previous?.kinds ?? []), signal.kind])];
  const ticketIds = [...new Set([...(previous?.ticketIds ?? []), ...signal.ticketIds])].slice(0, 500);
  const sourceNames = [...new Set(signal.samples.map((s) => s.sourceName).filter((n): n is string => Boolean(n)))];
  return {
    ...previous,
    title: previous?.title ?? signal.title,
    kinds,
    topic: signal.topic ?? previous?.topic ?? null,
    sourceIds: [...new Set([...(previous?.sourceIds ?? []), ...signal.sourceIds])],
    sourceNames: [...new Set([...(previous?.sourceNames ?? []), ...sourceNames])],
    count: signal.count,
    mean: signal.mean,
    ratio: Number.isFinite(signal.ratio) ? signal.ratio : null,
    z: Number.isFinite(signal.z) ? signal.z : null,
    peakCount: Math.max(previous?.peakCount ?? 0, signal.count),
    windowMinutes,
    topTopics: signal.topTopics,
    topTerms: signal.topTerms,
    samples: signal.samples.map((p) => ({
      text: p.text ?? '',
      author: p.author ?? null,
      url: p.url ?? null,
      followers: p.followers,
      sentiment: p.sentiment,
      ticketId: p.ticketId ?? null,
    })),
    ticketIds,
    trend: signal.trend,
  };
}

export function viewOf(row: CrisisAlertRow): CrisisAlertView {
  return {
    id: row.id,
    status: row.status as CrisisStatus,
    details: row.details as unknown as CrisisAlertDetails,
    acknowledgedBy: row.acknowledgedBy,
    snoozedUntil: row.snoozedUntil,
    firstSeenAt: row.firstSeenAt,
    lastSeenAt: row.lastSeenAt,
  };
}

/** The alert's card as it stands: the row, its linked tickets' cards, the routing's mask and chart. */
async function renderAlertCard(tx: Database, row: CrisisAlertRow, routing: CardRouting) {
  const view = viewOf(row);
  const ids = view.details.ticketIds.slice(0, 15);
  const linked = ids.length
    ? await tx
        .select({ id: tickets.id, channel: tickets.channel, slackTs: tickets.slackTs })
        .from(tickets)
        .where(inArray(tickets.id, ids))
    : [];
  const chartUrl =
    routing.chart && view.details.trend.length > 0
      ? trendChartUrl(routing.chart.publicUrl, routing.chart.secret, {
          trend: view.details.trend,
          stepMinutes: view.details.windowMinutes,
        })
      : null;
  // Slack notifies mentions only when a message is posted, so updates keep the mention without re-paging.
  return buildCrisisAlertCard(view, {
    oncallGroup: routing.oncallGroup,
    tickets: linked,
    maskPii: routing.maskPii ?? true,
    chartUrl,
  });
}

/**
 * Queues the alert's card: a new message that records its ts on the row, or one pending update of
 * that message (a burst of readings collapses into one chat.update).
 */
export async function queueAlertCard(
  tx: Database,
  row: CrisisAlertRow,
  routing: CardRouting,
  mode: 'post' | 'update',
): Promise<void> {
  const card = await renderAlertCard(tx, row, routing);
  if (mode === 'post') {
    await tx.insert(outbox).values({
      kind: 'message',
      channel: row.channel ?? routing.channel,
      dedupeKey: `crisis:${row.id}:post:${row.lastSeenAt.getTime()}`,
      payload: { ...card, record: { table: 'crisis_alerts', id: row.id } },
    });
    return;
  }
  await tx
    .insert(outbox)
    .values({
      kind: 'message',
      channel: row.channel ?? routing.channel,
      dedupeKey: `crisis:${row.id}:update`,
      payload: { ...card, updateOf: { table: 'crisis_alerts', id: row.id } },
    })
    .onConflictDoUpdate({
      target: outbox.dedupeKey,
      targetWhere: sql`${outbox.status} = 'pending' and ${outbox.dedupeKey} is not null`,
      set: { payload: sql`excluded.payload` },
    });
}

/**
 * After an alert's details lost something (an erased author's posts): every copy of its card is
 * brought in line. Delivered outbox rows (their payload is the old card) are dropped, pending ones
 * get the new card, and a card already in Slack is updated there.
 */
export async function rewriteAlertCards(tx: Database, row: CrisisAlertRow, routing: CardRouting): Promise<void> {
  const card = await renderAlertCard(tx, row, routing);
  const ofAlert = sql`coalesce(${outbox.payload}->'record', ${outbox.payload}->'updateOf') = ${JSON.stringify({ table: 'crisis_alerts', id: row.id })}::jsonb`;
  await tx.delete(outbox).where(and(ofAlert, sql`${outbox.status} <> 'pending'`));
  await tx
    .update(outbox)
    .set({ payload: sql`${outbox.payload} || ${JSON.stringify(card)}::jsonb` })
    .where(and(ofAlert, eq(outbox.status, 'pending')));
  if (row.slackTs) await queueAlertCard(tx, row, routing, 'update');
}

/**
 * Turns the detector's signals into alerts: one row per wave (group key), created once and then
 * updated in place. Each signal is one transaction under a per-wave advisory lock.
 */
export async function recordSignals(
  db: Database,
  signals: readonly CrisisSignal[],
  routing: AlertRouting,
  now: Date,
  metrics?: Metrics | null,
): Promise<Record<AlertPlan, number>> {
  const counts: Record<AlertPlan, number> = { create: 0, update: 0, silent: 0, repost: 0, ignore: 0 };
  for (const signal of signals) {
    const plan = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`earshot:crisis:${signal.groupKey}`}))`);
      const [latest] = await tx
        .select()
        .from(crisisAlerts)
        .where(eq(crisisAlerts.groupKey, signal.groupKey))
        .orderBy(desc(crisisAlerts.lastSeenAt), desc(crisisAlerts.id))
        .limit(1);
      const plan = planAlert(latest ?? null, now, routing.cooldownMinutes);
      if (plan === 'ignore') return plan;
      if (plan === 'create' || !latest) {
        const [created] = await tx
          .insert(crisisAlerts)
          .values({
            kind: signal.kind,
            groupKey: signal.groupKey,
            status: 'open',
            details: mergeDetails(null, signal, routing.windowMinutes) as unknown as Record<string, unknown>,
            firstSeenAt: now,
            lastSeenAt: now,
          })
          .returning();
        await queueAlertCard(tx, created!, routing, 'post');
        return 'create' as const;
      }
      const details = mergeDetails(latest.details as unknown as CrisisAlertDetails, signal, routing.windowMinutes);
      const [updated] = await tx
        .update(crisisAlerts)
        .set({
          details: details as unknown as Record<string, unknown>,
          lastSeenAt: now,
          ...(plan === 'repost' ? { status: 'open', snoozedUntil: null } : {}),
        })
        .where(and(eq(crisisAlerts.id, latest.id)))
        .returning();
      if (plan === 'update') await queueAlertCard(tx, updated!, routing, 'update');
      if (plan === 'repost') await queueAlertCard(tx, updated!, routing, 'post');
      return plan;
    });
    counts[plan] += 1;
    // A new alert, or one posted again after its cooldown: what paged someone.
    if (plan === 'create' || plan === 'repost') metrics?.crisisAlerts.inc({ kind: signal.kind });
  }
  return counts;
}
