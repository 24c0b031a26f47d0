import { count, eq } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { ticketEvents, tickets } from '../db/schema/index.js';

export interface CorrectionSummary {
  tickets: number;
  /** Tickets an agent corrected at least once. */
  correctedTickets: number;
  /** How often each field was overruled (a correction may change several). */
  byField: Record<string, number>;
}

/** How often agents overruled triage, read from the `corrected` events of the timeline. */
export async function summarizeCorrections(db: Database): Promise<CorrectionSummary> {
  const [total] = await db.select({ n: count() }).from(tickets);
  const rows = await db
    .select({ ticketId: ticketEvents.ticketId, details: ticketEvents.details })
    .from(ticketEvents)
    .where(eq(ticketEvents.type, 'corrected'));
  const byField: Record<string, number> = {};
  const corrected = new Set<number>();
  for (const row of rows) {
    corrected.add(row.ticketId);
    const fields = Array.isArray(row.details.fields) ? (row.details.fields as unknown[]) : [];
    for (const field of fields) if (typeof field === 'string') byField[field] = (byField[field] ?? 0) + 1;
  }
  return { tickets: total?.n ?? 0, correctedTickets: corrected.size, byField };
}
