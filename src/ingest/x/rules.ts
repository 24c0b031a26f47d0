import { and, asc, eq, sql } from 'drizzle-orm';
import type { TwitterApi } from 'twitter-api-v2';
import type { Database } from '../../db/database.js';
import { sources, streamRules } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import { requirePermission } from '../../tickets/permissions.js';
import { type Actor, actorId } from '../../tickets/types.js';
import { classifySearchRefusal, isNotEnrolled } from './refusals.js';

export type StreamRule = typeof streamRules.$inferSelect;

/** `stream`: rules live on X's filtered stream. `poll`: X's stream is not used (tiers without it); rules are searched. */
export type RuleMode = 'stream' | 'poll';

/** X's limit on one filtered-stream rule (Pro and Enterprise allow 1,024; Basic 512). */
export const MAX_RULE_LENGTH = 1024;

/** Where a source keeps the ids of the X rules Earshot itself created: only those may it delete. */
const OWNED_RULES_KEY = 'xRuleIds';

interface XRuleError {
  value?: string;
  id?: string;
  title?: string;
  detail?: string;
  details?: string[];
  type?: string;
}

interface RemoteRule {
  id: string;
  value: string;
  tag?: string;
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

const NO_STREAM_MESSAGE =
  "X refused: this app's access level has no filtered stream (client-not-enrolled). Set X_INGEST_MODE=poll; rules are then checked by search and read by polling.";

/** Turns a failed rule change on X into what the user is told. */
function ruleChangeError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isNotEnrolled(err)) return new AppError('invalid_input', NO_STREAM_MESSAGE, { cause: err });
  const errors = ruleErrorsOf(err);
  if (errors.length > 0 && (err as { code?: number }).code === 400) {
    return new AppError('invalid_input', `X refused the rule: ${describeRuleErrors(errors)}.`, { cause: err });
  }
  return new AppError('upstream_failed', 'X did not answer the rule change; try again in a minute.', { cause: err });
}

export async function listStreamRules(db: Database, sourceId: number): Promise<StreamRule[]> {
  return db.select().from(streamRules).where(eq(streamRules.sourceId, sourceId)).orderBy(asc(streamRules.id));
}

/** The X rule ids this source created; null when it has never recorded any (an install from before the list). */
export async function ownedRuleIds(db: Database, sourceId: number): Promise<Set<string> | null> {
  const [row] = await db.select({ settings: sources.settings }).from(sources).where(eq(sources.id, sourceId));
  const ids = row?.settings?.[OWNED_RULES_KEY];
  return Array.isArray(ids) ? new Set(ids.map(String)) : null;
}

/**
 * The owned-rule list, started when missing. An install from before the list kept only rules it
 * had created on X (or adopted), so the ids its rows hold become the list.
 */
async function ensureOwnedRuleIds(db: Database, sourceId: number): Promise<Set<string>> {
  const owned = await ownedRuleIds(db, sourceId);
  if (owned) return owned;
  const rows = await listStreamRules(db, sourceId);
  const adopted = rows.flatMap((r) => (r.externalId ? [r.externalId] : []));
  await updateOwnedRuleIds(db, sourceId, { add: adopted });
  return new Set(adopted);
}

/** Adds ids to, and removes ids from, the source's list of rules Earshot created, atomically. */
async function updateOwnedRuleIds(
  db: Database,
  sourceId: number,
  change: { add?: readonly string[]; remove?: readonly string[] },
): Promise<void> {
  const add = JSON.stringify(change.add ?? []);
  const remove = JSON.stringify(change.remove ?? []);
  await db.execute(sql`
    update sources set settings = jsonb_set(settings, ${`{${OWNED_RULES_KEY}}`}::text[], (
      select coalesce(jsonb_agg(distinct id), '[]'::jsonb)
      from jsonb_array_elements_text(coalesce(settings -> ${OWNED_RULES_KEY}, '[]'::jsonb) || ${add}::jsonb) as ids(id)
      where not (${remove}::jsonb ? id)
    ))
    where id = ${sourceId}`);
}

/** Stores a rule, one row per (source, value): a second add of the same query changes its tag. */
async function upsertRule(
  db: Database,
  row: { sourceId: number; value: string; tag: string | null; externalId: string | null; createdBy: string },
  keepExternalId = false,
): Promise<StreamRule> {
  const [rule] = await db
    .insert(streamRules)
    .values(row)
    .onConflictDoUpdate({
      target: [streamRules.sourceId, streamRules.value],
      set: { tag: sql`excluded.tag`, ...(keepExternalId ? {} : { externalId: sql`excluded.external_id` }) },
    })
    .returning();
  if (!rule) throw new Error('upsert into stream_rules returned no row');
  return rule;
}

/** Adds one rule on X; a rule X already has (same query) comes back with X's id. */
async function addOnX(
  client: TwitterApi,
  value: string,
  tag: string | null,
): Promise<{ id: string; created: boolean }> {
  const result = await client.v2.updateStreamRules({ add: [{ value, ...(tag ? { tag } : {}) }] });
  const added = result.data?.find((rule) => rule.value === value);
  if (added) return { id: added.id, created: true };
  const errors = (result as { errors?: XRuleError[] }).errors ?? [];
  const duplicate = errors.find((e) => e.title === 'DuplicateRule' && e.id);
  if (duplicate?.id) return { id: duplicate.id, created: false };
  throw new AppError('invalid_input', `X refused the rule: ${describeRuleErrors(errors) || 'no reason given'}.`);
}

/**
 * Adds a monitoring rule, or changes the tag of one already kept for the same query. In stream
 * mode X validates and stores it first (its refusal comes back as `invalid_input` with X's
 * explanation, and nothing is kept); X's rules cannot be edited, so a new tag replaces the rule
 * there. In poll mode X's stream endpoints are never called (tiers without the stream refuse
 * them): the query is validated by a recent-search dry run and kept in Postgres only.
 */
export async function addStreamRule(
  db: Database,
  client: TwitterApi,
  actor: Actor,
  input: { sourceId: number; value: string; tag?: string | null; mode?: RuleMode },
): Promise<{ rule: StreamRule; outcome: 'added' | 'retagged' | 'unchanged' }> {
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
  const [existing] = await db
    .select()
    .from(streamRules)
    .where(and(eq(streamRules.sourceId, input.sourceId), eq(streamRules.value, value)));
  const outcome = !existing ? 'added' : existing.tag === tag ? 'unchanged' : 'retagged';
  const row = { sourceId: input.sourceId, value, tag, createdBy: existing?.createdBy ?? actorId(actor) };

  if (input.mode === 'poll') {
    if (!existing) await validateBySearch(client, value);
    return { rule: await upsertRule(db, { ...row, externalId: null }, true), outcome };
  }
  if (outcome === 'unchanged' && existing?.externalId) return { rule: existing, outcome };

  const owned = await ensureOwnedRuleIds(db, input.sourceId);
  const replaced = existing?.externalId && owned.has(existing.externalId) ? existing.externalId : null;
  let onX: { id: string; created: boolean };
  try {
    if (replaced && outcome === 'retagged') await client.v2.updateStreamRules({ delete: { ids: [replaced] } });
    onX = await addOnX(client, value, tag);
  } catch (err) {
    throw ruleChangeError(err);
  }
  if (onX.created) await updateOwnedRuleIds(db, input.sourceId, { add: [onX.id] });
  const rule = await upsertRule(db, { ...row, externalId: onX.id });
  if (replaced && replaced !== onX.id) await updateOwnedRuleIds(db, input.sourceId, { remove: [replaced] });
  return { rule, outcome };
}

/** Asks recent search whether X accepts the query, without keeping anything on X. */
async function validateBySearch(client: TwitterApi, value: string): Promise<void> {
  try {
    await client.v2.get('tweets/search/recent', { query: value, max_results: 10 });
  } catch (err) {
    const refusal = classifySearchRefusal(err);
    if (refusal?.kind === 'bad_query') {
      throw new AppError('invalid_input', `X refused the rule: ${refusal.message}`, { cause: err });
    }
    throw new AppError('upstream_failed', 'X did not answer the rule check; try again in a minute.', { cause: err });
  }
}

/**
 * Removes a monitoring rule from X (when Earshot created it there), then from Earshot. A rule X
 * no longer knows is simply dropped; one another deployment made is left on X.
 */
export async function removeStreamRule(
  db: Database,
  client: TwitterApi,
  actor: Actor,
  input: { sourceId: number; id: number; mode?: RuleMode },
): Promise<StreamRule> {
  requirePermission(actor, 'rules.manage');
  const [rule] = await db.select().from(streamRules).where(eq(streamRules.id, input.id));
  if (!rule || rule.sourceId !== input.sourceId) {
    throw new AppError('not_found', `There is no monitoring rule #${input.id}. \`/earshot monitor list\` shows them.`);
  }
  const owned = await ensureOwnedRuleIds(db, input.sourceId);
  const ours = rule.externalId && owned.has(rule.externalId);
  if (input.mode !== 'poll' && ours) {
    try {
      await client.v2.updateStreamRules({ delete: { ids: [rule.externalId!] } });
    } catch (err) {
      throw ruleChangeError(err);
    }
  }
  await db.delete(streamRules).where(eq(streamRules.id, rule.id));
  if (rule.externalId) await updateOwnedRuleIds(db, input.sourceId, { remove: [rule.externalId] });
  return rule;
}

/**
 * Makes X's rule set match Earshot's, touching only rules Earshot created (their ids are kept in
 * the source's settings), so deployments sharing one X app leave each other's rules alone: our
 * rules X lacks are added, ours whose tag changed are replaced (X cannot edit a rule), ours no
 * longer kept are deleted. Run when the stream starts, so a change made while X was unreachable lands.
 */
export async function syncStreamRules(
  db: Database,
  client: TwitterApi,
  sourceId: number,
): Promise<{ added: number; deleted: number; retagged: number; refused: string[] }> {
  const ours = await listStreamRules(db, sourceId);
  const remote: RemoteRule[] = (await client.v2.streamRules()).data ?? [];
  const owned = await ensureOwnedRuleIds(db, sourceId);
  const byValue = new Map(remote.map((rule) => [rule.value, rule]));
  const wanted = new Set(ours.map((rule) => rule.value));
  const stale = remote.filter((rule) => !wanted.has(rule.value) && owned.has(rule.id)).map((rule) => rule.id);
  if (stale.length > 0) {
    await client.v2.updateStreamRules({ delete: { ids: stale } });
    await updateOwnedRuleIds(db, sourceId, { remove: stale });
  }
  const refused: string[] = [];
  let added = 0;
  let retagged = 0;
  for (const rule of ours) {
    const existing = byValue.get(rule.value);
    if (existing && (existing.tag || null) !== rule.tag && owned.has(existing.id)) {
      await client.v2.updateStreamRules({ delete: { ids: [existing.id] } });
      await updateOwnedRuleIds(db, sourceId, { remove: [existing.id] });
      await db.update(streamRules).set({ externalId: null }).where(eq(streamRules.id, rule.id));
      if (await addForSync(db, client, rule, refused)) retagged += 1;
      continue;
    }
    if (existing) {
      if (existing.id !== rule.externalId) {
        await db.update(streamRules).set({ externalId: existing.id }).where(eq(streamRules.id, rule.id));
      }
      continue;
    }
    if (await addForSync(db, client, rule, refused)) added += 1;
  }
  return { added, deleted: stale.length, retagged, refused };
}

async function addForSync(db: Database, client: TwitterApi, rule: StreamRule, refused: string[]): Promise<boolean> {
  try {
    const onX = await addOnX(client, rule.value, rule.tag);
    if (onX.created) await updateOwnedRuleIds(db, rule.sourceId, { add: [onX.id] });
    await db.update(streamRules).set({ externalId: onX.id }).where(eq(streamRules.id, rule.id));
    return onX.created;
  } catch {
    refused.push(rule.value);
    return false;
  }
}
