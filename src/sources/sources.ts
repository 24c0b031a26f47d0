import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { sources } from '../db/schema/index.js';
import type { Sealer } from '../db/sealed.js';
import { AppError } from '../errors.js';
import { requirePermission } from '../tickets/permissions.js';
import type { Actor, Source } from '../tickets/types.js';
import { replyUrlProblem, replyUrlRulesFor } from './reply-url.js';
import { storeSourceSecret } from './secrets.js';

const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Registers a channel Earshot listens to. A webhook source gets its signing secret here, stored
 * sealed when `sealer` is set (see `./secrets.ts`); the source returned holds it in plaintext for
 * the caller to show once, and Earshot never prints it again.
 */
export async function createSource(
  db: Database,
  actor: Actor,
  input: { name: string; kind: Source['kind']; settings?: Record<string, unknown> },
  sealer: Sealer | null,
): Promise<Source> {
  requirePermission(actor, 'source.manage');
  const name = input.name.trim().toLowerCase();
  if (!SOURCE_NAME.test(name)) {
    throw new AppError(
      'invalid_input',
      'A source name is 1–40 lowercase letters, digits or dashes, starting with a letter or digit.',
      {
        details: { field: 'name' },
      },
    );
  }
  const secret = input.kind === 'webhook' ? generateWebhookSecret() : null;
  const [created] = await db
    .insert(sources)
    .values({
      name,
      kind: input.kind,
      settings: input.settings ?? {},
      secret: secret === null ? null : storeSourceSecret(secret, sealer),
    })
    .onConflictDoNothing()
    .returning();
  if (!created)
    throw new AppError('conflict', `A source named "${name}" already exists.`, { details: { field: 'name' } });
  return { ...created, secret };
}

async function requireWebhookSource(db: Database, name: string): Promise<Source> {
  const source = await getSourceByName(db, name);
  if (!source)
    throw new AppError('not_found', `There is no source named "${name}". \`/earshot source list\` shows them.`);
  if (source.kind !== 'webhook') throw new AppError('invalid_input', `"${source.name}" is not a webhook source.`);
  return source;
}

/**
 * Gives a webhook source a new signing secret (admins), stored as `createSource` stores one. The old
 * one stops working at once, so the sender must switch; the caller shows the new one once.
 */
export async function rotateWebhookSecret(
  db: Database,
  actor: Actor,
  name: string,
  sealer: Sealer | null,
): Promise<Source> {
  requirePermission(actor, 'source.manage');
  const source = await requireWebhookSource(db, name);
  const secret = generateWebhookSecret();
  const [updated] = await db
    .update(sources)
    .set({ secret: storeSourceSecret(secret, sealer), updatedAt: sql`now()` })
    .where(eq(sources.id, source.id))
    .returning();
  if (!updated) throw new AppError('not_found', `The source "${name}" is gone.`);
  return { ...updated, secret };
}

/** Sets where a webhook source's replies are POSTed (admins), checked as every reply endpoint is. */
export async function setSourceReplyUrl(db: Database, actor: Actor, name: string, url: string): Promise<Source> {
  requirePermission(actor, 'source.manage');
  const source = await requireWebhookSource(db, name);
  const problem = replyUrlProblem(url, replyUrlRulesFor(source, false));
  if (problem) throw new AppError('invalid_input', `The reply URL ${problem}.`, { details: { field: 'url' } });
  return updateSource(db, source, { settings: { replyUrl: url } });
}

/** Longest reply a webhook source's channel takes: an SMS gateway's 160, a review site's 1,000. */
export const MAX_REPLY_LIMIT = 100_000;

/**
 * How a webhook source takes replies (admins): `limit` characters per message, and whether a
 * longer reply goes out as a thread of messages (`threads`) or is refused in the Reply modal.
 */
export async function setSourceReplyRules(
  db: Database,
  actor: Actor,
  name: string,
  rules: { limit?: number; threads?: boolean },
): Promise<Source> {
  requirePermission(actor, 'source.manage');
  const source = await requireWebhookSource(db, name);
  const patch: Record<string, unknown> = {};
  if (rules.limit !== undefined) {
    if (!Number.isInteger(rules.limit) || rules.limit < 1 || rules.limit > MAX_REPLY_LIMIT) {
      throw new AppError(
        'invalid_input',
        `A reply limit is a whole number of characters from 1 to ${MAX_REPLY_LIMIT.toLocaleString('en')}.`,
        { details: { field: 'limit' } },
      );
    }
    patch.replyMaxLength = rules.limit;
  }
  if (rules.threads !== undefined) patch.replyThreads = rules.threads;
  return updateSource(db, source, { settings: patch });
}

/**
 * Stops or resumes taking a webhook source's deliveries (admins). A disabled source answers 404,
 * as an unknown one does, and stores nothing; every replica refuses at once, since each receipt
 * confirms the source row in the statement that stores it. Its tickets and replies carry on.
 */
export async function setSourceEnabled(db: Database, actor: Actor, name: string, enabled: boolean): Promise<Source> {
  requirePermission(actor, 'source.manage');
  const source = await requireWebhookSource(db, name);
  return updateSource(db, source, { enabled });
}

/** One change to a source row; `updated_at` moves, so replicas holding the row see it changed. */
async function updateSource(
  db: Database,
  source: Source,
  change: { settings?: Record<string, unknown>; enabled?: boolean },
): Promise<Source> {
  const [updated] = await db
    .update(sources)
    .set({
      ...(change.settings ? { settings: sql`${sources.settings} || ${JSON.stringify(change.settings)}::jsonb` } : {}),
      ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(sources.id, source.id))
    .returning();
  if (!updated) throw new AppError('not_found', `The source "${source.name}" is gone.`);
  return updated;
}

export async function getSourceByName(db: Database, name: string): Promise<Source | null> {
  const [source] = await db.select().from(sources).where(sql`lower(${sources.name}) = ${name.toLowerCase()}`);
  return source ?? null;
}

export async function getSource(db: Database, id: number): Promise<Source | null> {
  const [source] = await db.select().from(sources).where(eq(sources.id, id));
  return source ?? null;
}

export async function listSources(db: Database): Promise<Source[]> {
  return db.select().from(sources).orderBy(sources.name);
}

/**
 * Returns the source with this name, creating it when it is missing; for sources that Earshot's
 * own configuration declares (the X account, the sandbox demo feed), not for users. Its `secret`
 * is as stored when found, plaintext when just created: `openSourceSecret` reads either.
 */
export async function ensureSource(
  db: Database,
  input: { name: string; kind: Source['kind']; settings?: Record<string, unknown> },
  sealer: Sealer | null,
): Promise<Source> {
  const existing = await getSourceByName(db, input.name);
  if (existing) return existing;
  return createSource(db, { kind: 'system', name: 'config' }, input, sealer).catch(async (err) => {
    const raced = await getSourceByName(db, input.name);
    if (raced) return raced;
    throw err;
  });
}

/**
 * Moves the ingestion cursor forward only: post ids are compared as numbers (they exceed 2^53,
 * so as BigInt in SQL), so a late, older post can never move it back.
 */
export async function advanceCursor(db: Database, sourceId: number, externalId: string): Promise<void> {
  if (!/^\d+$/.test(externalId)) throw new AppError('invalid_input', `Cursor ${externalId} is not a numeric id.`);
  await db
    .update(sources)
    .set({ cursor: externalId, updatedAt: sql`now()` })
    .where(
      sql`${sources.id} = ${sourceId} and (${sources.cursor} is null or ${sources.cursor}::numeric < ${externalId}::numeric)`,
    );
}
