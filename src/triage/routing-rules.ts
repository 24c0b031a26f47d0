import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { routingRules } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { type RoutingConditions, type RoutingRule, routingConditionsSchema } from './routing.js';

export interface NewRoutingRule {
  name: string;
  conditions: RoutingConditions;
  channel: string;
  addTags?: string[];
  notify?: string | null;
  createdBy: string;
  /** 1-based place in the order; appended last when absent. */
  position?: number;
}

/** All rules in evaluation order, disabled ones included (the list command shows them). */
export async function listRoutingRules(db: Database): Promise<RoutingRule[]> {
  return db.select().from(routingRules).orderBy(asc(routingRules.position), asc(routingRules.id));
}

/** Adds a rule, shifting later rules down when it is inserted at a position. Conditions are validated first. */
export async function addRoutingRule(db: Database, input: NewRoutingRule): Promise<RoutingRule> {
  const parsed = routingConditionsSchema.safeParse(input.conditions);
  if (!parsed.success) {
    throw new AppError('invalid_input', `Routing conditions are not valid: ${parsed.error.issues[0]?.message}`, {
      details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    });
  }
  if (!input.channel.trim()) throw new AppError('invalid_input', 'A routing rule needs a channel.');
  return db.transaction(async (tx) => {
    const [last] = await tx.select({ max: sql<number>`coalesce(max(${routingRules.position}), 0)` }).from(routingRules);
    const end = Number(last?.max ?? 0) + 1;
    const position = input.position ? Math.min(Math.max(1, input.position), end) : end;
    if (position < end) {
      await tx
        .update(routingRules)
        .set({ position: sql`${routingRules.position} + 1` })
        .where(sql`${routingRules.position} >= ${position}`);
    }
    const [rule] = await tx
      .insert(routingRules)
      .values({
        position,
        name: input.name,
        conditions: parsed.data,
        channel: input.channel.trim(),
        addTags: input.addTags ?? [],
        notify: input.notify ?? null,
        createdBy: input.createdBy,
      })
      .returning();
    return rule!;
  });
}

/** Removes a rule and closes the gap it leaves in the order. */
export async function removeRoutingRule(db: Database, input: { id: number }): Promise<RoutingRule> {
  return db.transaction(async (tx) => {
    const [removed] = await tx.delete(routingRules).where(eq(routingRules.id, input.id)).returning();
    if (!removed) throw new AppError('not_found', `Routing rule ${input.id} does not exist.`);
    await tx
      .update(routingRules)
      .set({ position: sql`${routingRules.position} - 1` })
      .where(sql`${routingRules.position} > ${removed.position}`);
    return removed;
  });
}

/** Sets the order: `ids` lists every rule once, first to last. */
export async function reorderRoutingRules(db: Database, input: { ids: number[] }): Promise<RoutingRule[]> {
  return db.transaction(async (tx) => {
    const current = await tx.select({ id: routingRules.id }).from(routingRules);
    const known = new Set(current.map((r) => r.id));
    const given = new Set(input.ids);
    if (given.size !== input.ids.length || given.size !== known.size || input.ids.some((id) => !known.has(id))) {
      throw new AppError('invalid_input', 'Reordering must list every routing rule exactly once.', {
        details: { expected: [...known].sort((a, b) => a - b) },
      });
    }
    for (const [index, id] of input.ids.entries()) {
      await tx
        .update(routingRules)
        .set({ position: index + 1 })
        .where(eq(routingRules.id, id));
    }
    return tx.select().from(routingRules).orderBy(asc(routingRules.position), asc(routingRules.id));
  });
}

/** Turns a rule on or off without losing its place. */
export async function setRoutingRuleEnabled(db: Database, input: { id: number; enabled: boolean }) {
  const [rule] = await db
    .update(routingRules)
    .set({ enabled: input.enabled })
    .where(eq(routingRules.id, input.id))
    .returning();
  if (!rule) throw new AppError('not_found', `Routing rule ${input.id} does not exist.`);
  return rule;
}
