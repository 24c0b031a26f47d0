import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { settings } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { CATEGORIES } from '../tickets/types.js';
import { DEFAULT_PRIORITY_WEIGHTS, type PriorityWeights } from './priority.js';
import { URGENCY_SIGNALS } from './types.js';

/** The settings row that holds the priority weights admins set with `/earshot priority set`. */
export const PRIORITY_SETTINGS_KEY = 'triage.priority_weights';

const points = z.number().finite().min(-1000).max(1000);

/** What may be stored: any subset of the weights, nested groups partial too. */
const storedSchema = z
  .object({
    negativeSentiment: points,
    anger: points,
    urgency: z.object(Object.fromEntries(URGENCY_SIGNALS.map((s) => [s, points]))).partial(),
    category: z.object(Object.fromEntries(CATEGORIES.map((c) => [c, points]))).partial(),
    followersPerDecade: points,
    followersFloor: z.number().int().min(1).max(1e9),
    followersCap: points,
    verified: points,
    vip: points,
    repeatContact: points,
    repeatContactCap: points,
    thresholds: z.object({ P1: points, P2: points, P3: points }).partial(),
  })
  .partial();
type StoredWeights = z.infer<typeof storedSchema>;

/** Every weight's name as `/earshot priority set` takes it: `anger`, `urgency.outage`, `thresholds.P1`. */
export const PRIORITY_WEIGHT_NAMES: readonly string[] = Object.entries(DEFAULT_PRIORITY_WEIGHTS).flatMap(
  ([key, value]) => (typeof value === 'object' ? Object.keys(value).map((sub) => `${key}.${sub}`) : [key]),
);

/** The stored overrides over the documented defaults; a malformed row falls back to the defaults. */
export function mergePriorityWeights(stored: unknown): PriorityWeights {
  const parsed = storedSchema.safeParse(stored ?? {});
  const s: StoredWeights = parsed.success ? parsed.data : {};
  const d = DEFAULT_PRIORITY_WEIGHTS;
  return {
    ...d,
    ...(s as Partial<PriorityWeights>),
    urgency: { ...d.urgency, ...s.urgency },
    category: { ...d.category, ...s.category },
    thresholds: { ...d.thresholds, ...s.thresholds },
  };
}

/** The weights in force: defaults (src/triage/priority.ts) with what admins changed on top. */
export async function loadPriorityWeights(db: Database): Promise<PriorityWeights> {
  const [row] = await db.select().from(settings).where(eq(settings.key, PRIORITY_SETTINGS_KEY));
  return mergePriorityWeights(row?.value);
}

/**
 * Changes one weight (`urgency.outage`, `thresholds.P1`, …) and returns the weights now in force.
 * The thresholds must stay in order (P1 above P2 above P3), or every item would land in one priority.
 */
export async function savePriorityWeight(
  db: Database,
  input: { name: string; value: number; updatedBy: string },
): Promise<PriorityWeights> {
  const known = PRIORITY_WEIGHT_NAMES.find((n) => n.toLowerCase() === input.name.toLowerCase());
  if (!known) {
    throw new AppError('invalid_input', `Unknown weight "${input.name.slice(0, 60)}".`, {
      details: { field: 'weight', known: PRIORITY_WEIGHT_NAMES },
    });
  }
  if (!Number.isFinite(input.value)) throw new AppError('invalid_input', 'The value must be a number.');
  const [key, subKey] = known.split('.') as [string, string | undefined];
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(settings).where(eq(settings.key, PRIORITY_SETTINGS_KEY));
    const parsedRow = storedSchema.safeParse(row?.value ?? {});
    const current: Record<string, unknown> = parsedRow.success ? { ...parsedRow.data } : {};
    if (subKey) current[key] = { ...(current[key] as Record<string, number> | undefined), [subKey]: input.value };
    else current[key] = input.value;
    const value = storedSchema.safeParse(current);
    if (!value.success) {
      throw new AppError('invalid_input', `${known} cannot be ${input.value}: ${value.error.issues[0]?.message}`);
    }
    const next = mergePriorityWeights(value.data);
    const t = next.thresholds;
    if (!(t.P1 > t.P2 && t.P2 > t.P3)) {
      throw new AppError(
        'invalid_input',
        `Thresholds must fall from P1 to P3 (now P1 ${t.P1}, P2 ${t.P2}, P3 ${t.P3} would result).`,
      );
    }
    await tx
      .insert(settings)
      .values({ key: PRIORITY_SETTINGS_KEY, value: value.data, updatedBy: input.updatedBy, updatedAt: new Date() })
      .onConflictDoUpdate({
        target: settings.key,
        set: { value: value.data, updatedBy: input.updatedBy, updatedAt: new Date() },
      });
    return next;
  });
}

/** Drops every stored override: the documented defaults apply again. */
export async function resetPriorityWeights(db: Database): Promise<PriorityWeights> {
  await db.delete(settings).where(eq(settings.key, PRIORITY_SETTINGS_KEY));
  return mergePriorityWeights({});
}
