import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Database, rowsOf } from '../db/database.js';
import { settings } from '../db/schema/index.js';
import { PRIORITIES, type Priority } from '../tickets/types.js';
import { isValidTimeZone } from './business-hours.js';
import { DEFAULT_SLA_TARGETS, type SlaPolicies, type SlaTarget } from './policy.js';

/** The settings row that holds the SLA policies admins set with `/earshot sla`. */
export const SLA_SETTINGS_KEY = 'sla.policies';

const businessHoursSchema = z
  .object({
    days: z.array(z.number().int().min(0).max(6)).min(1),
    startMinute: z.number().int().min(0).max(1439),
    endMinute: z.number().int().min(1).max(1440),
    timeZone: z.string().refine(isValidTimeZone, 'unknown time zone'),
  })
  .refine((h) => h.startMinute < h.endMinute, 'business hours must open before they close');

const targetSchema = z.object({
  firstResponseMinutes: z.number().int().positive(),
  resolutionMinutes: z.number().int().positive(),
  businessHours: businessHoursSchema.nullable().optional(),
});

const storedSchema = z.object({ P1: targetSchema, P2: targetSchema, P3: targetSchema, P4: targetSchema }).partial();

/** The policies in force: the stored ones over the defaults. A malformed row falls back to the defaults. */
export async function loadSlaPolicies(db: Database): Promise<SlaPolicies> {
  const [row] = rowsOf<{ value: string | null }>(await db.execute(sql`select ${slaPoliciesText()} as value`));
  return slaPoliciesFrom(row?.value ?? null);
}

/** The stored policies as JSON text (null without a row), for a statement to read alongside its own columns. */
export function slaPoliciesText(): SQL {
  return sql`(select value::text from settings where key = ${SLA_SETTINGS_KEY})`;
}

let lastParsed: { text: string | null; policies: SlaPolicies } | undefined;

/**
 * The policies in force for the stored text `slaPoliciesText` read. Every caller reads the text from
 * the database, so a change saved on any replica applies to the next read; only the JSON and schema
 * parse is kept, for the last text seen (ingestion reads the same text for every item). The result is
 * shared between callers, so it is read-only (as `SlaPolicies` says).
 */
export function slaPoliciesFrom(text: string | null): SlaPolicies {
  if (!lastParsed || lastParsed.text !== text) lastParsed = { text, policies: parseSlaPolicies(text) };
  return lastParsed.policies;
}

function parseSlaPolicies(text: string | null): SlaPolicies {
  const parsed = storedSchema.safeParse(text === null ? {} : JSON.parse(text));
  const stored = parsed.success ? parsed.data : {};
  return Object.fromEntries(PRIORITIES.map((p) => [p, { ...DEFAULT_SLA_TARGETS[p], ...stored[p] }])) as Record<
    Priority,
    SlaTarget
  >;
}

/** Changes the policy of some priorities and stores the whole set; returns what is now in force. */
export async function saveSlaPolicies(
  db: Database,
  changes: Partial<Record<Priority, Partial<SlaTarget>>>,
  updatedBy: string,
): Promise<SlaPolicies> {
  return db.transaction(async (tx) => {
    const current = await loadSlaPolicies(tx);
    const next = Object.fromEntries(PRIORITIES.map((p) => [p, { ...current[p], ...changes[p] }])) as Record<
      Priority,
      SlaTarget
    >;
    const value = storedSchema.parse(next);
    await tx
      .insert(settings)
      .values({ key: SLA_SETTINGS_KEY, value, updatedBy, updatedAt: new Date() })
      .onConflictDoUpdate({ target: settings.key, set: { value, updatedBy, updatedAt: new Date() } });
    return next;
  });
}
