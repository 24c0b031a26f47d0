import { asc, eq } from 'drizzle-orm';
import type { TwitterApi } from 'twitter-api-v2';
import type { Database } from '../../db/database.js';
import { streamRules } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import { requirePermission } from '../../tickets/permissions.js';
import { type Actor, actorId } from '../../tickets/types.js';

export type StreamRule = typeof streamRules.$inferSelect;

/** X's limit on one filtered-stream rule (Pro and Enterprise allow 1,024; Basic 512). */
export const MAX_RULE_LENGTH = 1024;

interface XRuleError {
  value?: string;
  id?: string;
  title?: string;
  detail?: string;
  details?: string[];
  type?: string;
}

/** The words X used to refuse a rule, for the person who typed it. */
export function describeRuleErrors(errors: readonly XRuleError[]): string {
  return errors
    .map((e) => [e.title, ...(e.details ?? []), e.detail].filter(Boolean).join(': '))
    .filter(Boolean)
    .join('; ');
}

function ruleErrorsOf(err: unknown): XRuleError[] {
  const data = (err as { data?: { errors?: XRuleError[]; detail?: string; title?: string } } | null)?.data;
  if (data?.errors?.length) return data.errors;
  if (data?.detail || data?.title) return [{ title: data.title, detail: data.detail }];
  return [];
}

export async function listStreamRules(db: Database, sourceId: number): Promise<StreamRule[]> {
  return db.select().from(streamRules).where(eq(streamRules.sourceId, sourceId)).orderBy(asc(streamRules.id));
}

/**
 * Adds a monitoring rule: X validates and stores it first (its refusal comes back as
 * `invalid_input` with X's explanation, and nothing is kept), then Earshot records it with X's id.
 */
export async function addStreamRule(
  db: Database,
  client: TwitterApi,
  actor: Actor,
  input: { sourceId: number; value: string; tag?: string | null },
): Promise<StreamRule> {
  requirePermission(actor, 'rules.manage');
  const value = input.value.trim();
  const tag = input.tag?.trim() || null;
  if (!value) throw new AppError('invalid_input', 'A rule needs a query, such as `@acme -is:retweet`.');
  if (value.length > MAX_RULE_LENGTH) {
    throw new AppError(
      'invalid_input',
      `A rule is at most ${MAX_RULE_LENGTH} characters; this one is ${value.length}.`,
    );
  }
  let added: { id: string; value: string } | undefined;
  try {
    const result = await client.v2.updateStreamRules({ add: [{ value, ...(tag ? { tag } : {}) }] });
    added = result.data?.find((rule) => rule.value === value);
    if (!added) {
      const errors = (result as { errors?: XRuleError[] }).errors ?? [];
      const duplicate = errors.find((e) => e.title === 'DuplicateRule' && e.id);
      if (duplicate?.id) added = { id: duplicate.id, value };
      else
        throw new AppError('invalid_input', `X refused the rule: ${describeRuleErrors(errors) || 'no reason given'}.`);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const errors = ruleErrorsOf(err);
    if (errors.length > 0 && (err as { code?: number }).code === 400) {
      throw new AppError('invalid_input', `X refused the rule: ${describeRuleErrors(errors)}.`, { cause: err });
    }
    throw new AppError('upstream_failed', 'X did not answer the rule change; try again in a minute.', { cause: err });
  }
  const [rule] = await db
    .insert(streamRules)
    .values({ sourceId: input.sourceId, value, tag, externalId: added.id, createdBy: actorId(actor) })
    .returning();
  if (!rule) throw new Error('insert into stream_rules returned no row');
  return rule;
}

/** Removes a monitoring rule from X, then from Earshot. A rule X no longer knows is simply dropped. */
export async function removeStreamRule(
  db: Database,
  client: TwitterApi,
  actor: Actor,
  input: { sourceId: number; id: number },
): Promise<StreamRule> {
  requirePermission(actor, 'rules.manage');
  const [rule] = await db.select().from(streamRules).where(eq(streamRules.id, input.id));
  if (!rule || rule.sourceId !== input.sourceId) {
    throw new AppError('not_found', `There is no monitoring rule #${input.id}. \`/earshot monitor list\` shows them.`);
  }
  if (rule.externalId) {
    try {
      await client.v2.updateStreamRules({ delete: { ids: [rule.externalId] } });
    } catch (err) {
      throw new AppError('upstream_failed', 'X did not answer the rule change; try again in a minute.', { cause: err });
    }
  }
  await db.delete(streamRules).where(eq(streamRules.id, rule.id));
  return rule;
}

/**
 * Makes X's rule set equal Earshot's: rules only X has are deleted, rules X lacks are added (and
 * their new ids stored). Run when the stream starts, so a change made while X was unreachable lands.
 */
export async function syncStreamRules(
  db: Database,
  client: TwitterApi,
  sourceId: number,
): Promise<{ added: number; deleted: number; refused: string[] }> {
  const ours = await listStreamRules(db, sourceId);
  const remote = (await client.v2.streamRules()).data ?? [];
  const byValue = new Map(remote.map((rule) => [rule.value, rule]));
  const wanted = new Set(ours.map((rule) => rule.value));
  const stale = remote.filter((rule) => !wanted.has(rule.value)).map((rule) => rule.id);
  if (stale.length > 0) await client.v2.updateStreamRules({ delete: { ids: stale } });
  const refused: string[] = [];
  let added = 0;
  for (const rule of ours) {
    const existing = byValue.get(rule.value);
    if (existing) {
      if (existing.id !== rule.externalId) {
        await db.update(streamRules).set({ externalId: existing.id }).where(eq(streamRules.id, rule.id));
      }
      continue;
    }
    try {
      const result = await client.v2.updateStreamRules({
        add: [{ value: rule.value, ...(rule.tag ? { tag: rule.tag } : {}) }],
      });
      const created = result.data?.find((r) => r.value === rule.value);
      if (created) {
        await db.update(streamRules).set({ externalId: created.id }).where(eq(streamRules.id, rule.id));
        added += 1;
      } else refused.push(rule.value);
    } catch {
      refused.push(rule.value);
    }
  }
  return { added, deleted: stale.length, refused };
}
