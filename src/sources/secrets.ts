import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { sources } from '../db/schema/index.js';
import { isSealed, type Sealer } from '../db/sealed.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * A webhook source's signing secret verifies what the channel sends and signs the replies Earshot
 * sends back, so whoever holds it can inject customer posts and speak to customers as Earshot.
 * With `EARSHOT_SECRET_KEY` set, the sources table keeps it sealed (see `src/db/sealed.ts`): a
 * dump or backup holds nothing to sign with. Without a key it is kept as it is.
 */
export function storeSourceSecret(secret: string, sealer: Sealer | null): string {
  return sealer ? sealer.seal(secret) : secret;
}

function noKey(): AppError {
  return new AppError(
    'config_invalid',
    'Webhook signing secrets in the database are sealed, and EARSHOT_SECRET_KEY is not set: set the key they were sealed with.',
  );
}

/**
 * The secret of a stored value. A plaintext one (kept before a key was set) is used as it is until
 * `sealSourceSecrets` seals it; a sealed one needs the key: `config_invalid` without it.
 */
export function openSourceSecret(stored: string, sealer: Sealer | null): string {
  if (!isSealed(stored)) return stored;
  if (!sealer) throw noKey();
  return sealer.open(stored);
}

/**
 * Run at start. With a key: seals every secret kept in plaintext, and seals again under the current
 * key what `EARSHOT_SECRET_KEY_PREVIOUS` sealed, so the previous key can be dropped after one start.
 * Each row is rewritten only if it still holds what was read, so replicas starting together and a
 * rotation in between cannot overwrite each other. Without a key: refuses to start when a sealed
 * secret is found (no webhook could be verified), and warns when plaintext ones are.
 * `updated_at` is left alone: the secret is the same secret.
 */
export async function sealSourceSecrets(db: Database, sealer: Sealer | null, logger: Logger): Promise<number> {
  const rows = await db
    .select({ id: sources.id, secret: sources.secret })
    .from(sources)
    .where(isNotNull(sources.secret));
  if (!sealer) {
    if (rows.some((row) => isSealed(row.secret!))) throw noKey();
    if (rows.length > 0) {
      logger.warn(
        { sources: rows.length },
        'webhook signing secrets are stored unsealed; set EARSHOT_SECRET_KEY to seal them (README, Configuration)',
      );
    }
    return 0;
  }
  // Every value is opened before any is written: a key that opens none of them (config_invalid,
  // better at start than on each delivery) leaves the table as it was.
  const changes = rows
    .filter((row) => !sealer.isCurrent(row.secret!))
    .map((row) => ({ id: row.id, stored: row.secret!, sealed: sealer.seal(openSourceSecret(row.secret!, sealer)) }));
  let sealed = 0;
  for (const change of changes) {
    const updated = await db
      .update(sources)
      .set({ secret: change.sealed })
      .where(and(eq(sources.id, change.id), eq(sources.secret, change.stored)))
      .returning({ id: sources.id });
    sealed += updated.length;
  }
  if (sealed > 0) logger.info({ sources: sealed }, 'webhook signing secrets sealed with EARSHOT_SECRET_KEY');
  return sealed;
}
