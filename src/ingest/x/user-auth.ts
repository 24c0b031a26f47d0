import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { ApiRequestError, ApiResponseError, TwitterApi } from 'twitter-api-v2';
import type { Database } from '../../db/database.js';
import { settings } from '../../db/schema/index.js';
import { type Sealer, sealerFromConfig } from '../../db/sealed.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { clientSettings, createXUserClient, type XCredentials } from './client.js';

/** Where the rotating OAuth 2.0 user token lives (the `settings` table, shared by every replica). */
export const OAUTH2_SETTINGS_KEY = 'x.oauth2.user-token';
/** A token this close to its expiry is refreshed before use. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

/** The user-context credentials replies are posted with, and our account as X knows it. */
export interface XUserAuth {
  kind: 'oauth1' | 'oauth2' | 'oauth2-refreshing';
  /** A client for posting; an OAuth 2.0 token close to expiry is refreshed first. */
  client(): Promise<TwitterApi>;
  /** X answered 401 to this client: true when a fresh token may help (the next `client()` refreshes). */
  rejected(client: TwitterApi): boolean;
  /** Our X user id (`users/me`), looked up once. */
  accountId(): Promise<string>;
}

interface StoredToken {
  /** Hash of the X_OAUTH2_REFRESH_TOKEN this chain started from: a new one in config restarts it. */
  seed: string;
  accessToken: string | null;
  refreshToken: string;
  expiresAt: string | null;
}

/** The settings row: the token as is, or with EARSHOT_SECRET_KEY set, sealed (the seed stays readable). */
type StoredValue = StoredToken | { seed: string; sealed: string };

function readToken(value: StoredValue, sealer: Sealer | null): StoredToken {
  if (!('sealed' in value)) return value;
  if (!sealer) {
    throw new AppError(
      'config_invalid',
      'The X OAuth 2.0 token in the database is sealed: set EARSHOT_SECRET_KEY to the key it was sealed with.',
    );
  }
  const { accessToken, refreshToken, expiresAt } = JSON.parse(sealer.open(value.sealed)) as StoredToken;
  return { seed: value.seed, accessToken, refreshToken, expiresAt };
}

function writeToken(token: StoredToken, sealer: Sealer | null): StoredValue {
  if (!sealer) return token;
  const { accessToken, refreshToken, expiresAt } = token;
  return { seed: token.seed, sealed: sealer.seal(JSON.stringify({ accessToken, refreshToken, expiresAt })) };
}

function withAccountLookup(auth: Omit<XUserAuth, 'accountId'>): XUserAuth {
  let account: Promise<string> | null = null;
  return {
    ...auth,
    accountId: () => {
      account ??= auth
        .client()
        .then((c) => c.v2.me())
        .then((me) => me.data.id)
        .catch((err: unknown) => {
          account = null;
          throw err;
        });
      return account;
    },
  };
}

/** User auth around a client that never changes (OAuth 1.0a, or a tests' client). */
export function fixedXUserAuth(client: TwitterApi, kind: XUserAuth['kind'] = 'oauth1'): XUserAuth {
  return withAccountLookup({ kind, client: async () => client, rejected: () => false });
}

/**
 * The user-context auth from config: OAuth 1.0a when its four values are set; OAuth 2.0 with
 * refresh when `X_OAUTH2_CLIENT_ID` and `X_OAUTH2_REFRESH_TOKEN` are (each refresh rotates the
 * refresh token, and the new one is kept in Postgres under a row lock, so replicas never spend the
 * same one twice); a bare `X_OAUTH2_USER_TOKEN` as is (it expires two hours after issue). Null
 * when nothing is configured.
 */
export function createXUserAuth(deps: { db: Database; config: XCredentials; logger: Logger }): XUserAuth | null {
  const { config } = deps;
  const oauth1 = config.X_API_KEY && config.X_API_SECRET && config.X_ACCESS_TOKEN && config.X_ACCESS_SECRET;
  if (!oauth1 && config.X_OAUTH2_CLIENT_ID && config.X_OAUTH2_REFRESH_TOKEN) return refreshingAuth(deps);
  const client = createXUserClient(config);
  if (!client) return null;
  if (!oauth1) {
    deps.logger.warn(
      'X_OAUTH2_USER_TOKEN expires two hours after X issued it; set X_OAUTH2_CLIENT_ID and X_OAUTH2_REFRESH_TOKEN so Earshot refreshes it',
    );
  }
  return fixedXUserAuth(client, oauth1 ? 'oauth1' : 'oauth2');
}

function refreshingAuth(deps: { db: Database; config: XCredentials; logger: Logger }): XUserAuth {
  const { db, config } = deps;
  const log = deps.logger.child({ component: 'x-oauth2' });
  const sealer = sealerFromConfig(config);
  if (!sealer) {
    log.warn('the rotating X refresh token is kept in Postgres in plain text; set EARSHOT_SECRET_KEY to seal it');
  }
  const seedToken = config.X_OAUTH2_REFRESH_TOKEN!;
  const seed = createHash('sha256').update(seedToken).digest('hex').slice(0, 16);
  const app = new TwitterApi(
    {
      clientId: config.X_OAUTH2_CLIENT_ID!,
      ...(config.X_OAUTH2_CLIENT_SECRET ? { clientSecret: config.X_OAUTH2_CLIENT_SECRET } : {}),
    },
    clientSettings(config.X_API_URL),
  );
  let cached: { client: TwitterApi; accessToken: string; expiresAt: number } | null = null;
  let rejectedToken: string | null = null;
  let pending: Promise<TwitterApi> | null = null;
  /**
   * A refresh whose commit failed: X spent `spent` and rotated it into `next`, which now exists only
   * here. Until a commit keeps it, the next attempt writes it instead of spending the dead one.
   */
  let unsaved: { spent: string; next: StoredToken } | null = null;

  const use = (state: StoredToken): TwitterApi => {
    const client = new TwitterApi(state.accessToken!, clientSettings(config.X_API_URL));
    cached = { client, accessToken: state.accessToken!, expiresAt: Date.parse(state.expiresAt ?? '') || 0 };
    return client;
  };

  /** Takes the token from Postgres, or refreshes it there, holding the row so one replica refreshes at a time. */
  const obtain = async () => {
    const client = await db.transaction(async (tx) => {
      const initial: StoredToken = { seed, accessToken: null, refreshToken: seedToken, expiresAt: null };
      await tx
        .insert(settings)
        .values({ key: OAUTH2_SETTINGS_KEY, value: writeToken(initial, sealer), updatedBy: 'system:x-oauth2' })
        .onConflictDoNothing();
      const [row] = await tx.select().from(settings).where(eq(settings.key, OAUTH2_SETTINGS_KEY)).for('update');
      const stored = (row?.value ?? initial) as StoredValue;
      let state = initial;
      if (stored.seed !== seed) {
        log.info('X_OAUTH2_REFRESH_TOKEN changed; starting from the new one');
      } else {
        state = readToken(stored, sealer);
        // A token kept before EARSHOT_SECRET_KEY was set is sealed now, not at its next refresh.
        if (sealer && !('sealed' in stored)) await saveToken(tx, state, sealer);
      }
      if (unsaved && state.refreshToken === unsaved.spent) {
        log.warn('keeping the X OAuth 2.0 token refreshed before a failed commit');
        state = unsaved.next;
        await saveToken(tx, state, sealer);
      }
      const expiresAt = Date.parse(state.expiresAt ?? '') || 0;
      if (state.accessToken && state.accessToken !== rejectedToken && expiresAt - Date.now() > EXPIRY_MARGIN_MS) {
        return use(state);
      }
      let refreshed: Awaited<ReturnType<TwitterApi['refreshOAuth2Token']>>;
      try {
        refreshed = await app.refreshOAuth2Token(state.refreshToken);
      } catch (err) {
        if (err instanceof ApiResponseError && err.code < 500 && err.code !== 429) {
          throw new AppError(
            'config_invalid',
            `X refused to refresh the OAuth 2.0 user token (${err.code}): authorize Earshot again and set X_OAUTH2_REFRESH_TOKEN.`,
            { cause: err },
          );
        }
        const reason = err instanceof ApiRequestError ? err.requestError.message : String(err);
        throw new AppError('upstream_failed', `X did not refresh the OAuth 2.0 user token: ${reason}`, { cause: err });
      }
      const next: StoredToken = {
        seed,
        accessToken: refreshed.accessToken,
        // X rotates refresh tokens: the one just spent is dead, the new one is all there is.
        refreshToken: refreshed.refreshToken ?? state.refreshToken,
        expiresAt: new Date(Date.now() + refreshed.expiresIn * 1000).toISOString(),
      };
      unsaved = { spent: state.refreshToken, next };
      await saveToken(tx, next, sealer);
      rejectedToken = null;
      log.info({ expiresAt: next.expiresAt }, 'X OAuth 2.0 user token refreshed');
      return use(next);
    });
    unsaved = null;
    return client;
  };

  return withAccountLookup({
    kind: 'oauth2-refreshing',
    client: async () => {
      if (cached && cached.accessToken !== rejectedToken && cached.expiresAt - Date.now() > EXPIRY_MARGIN_MS) {
        return cached.client;
      }
      pending ??= obtain().finally(() => {
        pending = null;
      });
      return pending;
    },
    rejected: (client) => {
      if (cached?.client !== client) return true;
      rejectedToken = cached.accessToken;
      cached = null;
      return true;
    },
  });
}

/** Writes the token to its row, sealed whenever a key is configured. */
async function saveToken(tx: Database, token: StoredToken, sealer: Sealer | null): Promise<void> {
  await tx
    .update(settings)
    .set({ value: writeToken(token, sealer), updatedBy: 'system:x-oauth2', updatedAt: sql`now()` })
    .where(eq(settings.key, OAUTH2_SETTINGS_KEY));
}
