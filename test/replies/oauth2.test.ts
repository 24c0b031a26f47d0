import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replies, settings } from '../../src/db/schema/index.js';
import type { XCredentials } from '../../src/ingest/x/client.js';
import { createXUserAuth, OAUTH2_SETTINGS_KEY } from '../../src/ingest/x/user-auth.js';
import { createReplyWorker } from '../../src/replies/deliver.js';
import { createSource } from '../../src/sources/sources.js';
import { recordReply } from '../../src/tickets/actions.js';
import type { Source } from '../../src/tickets/types.js';
import { type FakeUser, FakeXServer } from '../fakes/x-server.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, ingestFixture, userActor } from '../helpers/fixtures.js';
import { silentLogger } from '../ingest/helpers.js';

const customer: FakeUser = { id: '5001', username: 'cust', name: 'Customer' };
let keys = 0;

describeEachDatabase('replies with an OAuth 2.0 user token', (handle) => {
  let x: FakeXServer;
  let source: Source;

  beforeAll(async () => {
    x = new FakeXServer();
    await x.start();
    source = await createSource(handle().db, { kind: 'system', name: 'test' }, { name: 'x-oauth2', kind: 'x' }, null);
  });
  afterAll(async () => {
    await x.close();
  });

  const credentials = (overrides: Partial<XCredentials>): XCredentials => ({
    X_API_URL: x.url,
    X_BEARER_TOKEN: undefined,
    X_API_KEY: undefined,
    X_API_SECRET: undefined,
    X_ACCESS_TOKEN: undefined,
    X_ACCESS_SECRET: undefined,
    X_OAUTH2_USER_TOKEN: undefined,
    X_OAUTH2_CLIENT_ID: undefined,
    X_OAUTH2_CLIENT_SECRET: undefined,
    X_OAUTH2_REFRESH_TOKEN: undefined,
    EARSHOT_SECRET_KEY: undefined,
    EARSHOT_SECRET_KEY_PREVIOUS: undefined,
    ...overrides,
  });

  /** A customer's post, its ticket, an agent's reply queued; returns the reply's row id. */
  const queueReply = async (text: string) => {
    const { db } = handle();
    const post = x.publish({ text: 'where is my parcel', author: customer });
    const { ticket } = await ingestFixture(
      db,
      {
        sourceId: source.id,
        externalId: post.id,
        author: { externalId: customer.id },
        text: post.text,
        createdAt: new Date(),
        conversationId: post.id,
      },
      assessmentFixture(),
      0,
    );
    keys += 1;
    const { reply } = await recordReply(db, userActor('UAGENT'), {
      ticketId: ticket.id,
      text,
      parts: [text],
      idempotencyKey: `oauth2-${keys}`,
    });
    return reply.id;
  };
  const replyRow = async (id: number) => (await handle().db.select().from(replies).where(eq(replies.id, id)))[0]!;
  const tokenCalls = () => x.requests.filter((r) => r.path === '/2/oauth2/token');
  const stored = async () =>
    (await handle().db.select().from(settings).where(eq(settings.key, OAUTH2_SETTINGS_KEY)))[0]?.value as
      | { accessToken: string; refreshToken: string }
      | undefined;

  it('refreshes the token before the first post and after X expires it, keeping the rotated refresh token', async () => {
    const { db } = handle();
    const seed = x.issueOAuth2Tokens();
    const config = credentials({ X_OAUTH2_CLIENT_ID: 'earshot-client', X_OAUTH2_REFRESH_TOKEN: seed.refreshToken });
    const worker = createReplyWorker({
      sealer: null,
      db,
      logger: silentLogger,
      xUser: createXUserAuth({ db, config, logger: silentLogger }),
    });

    const first = await queueReply('On its way, sorry for the wait!');
    await worker.runOnce();
    expect(await replyRow(first)).toMatchObject({ status: 'done' });
    expect(tokenCalls()).toHaveLength(1);
    expect(tokenCalls()[0]!.body).toMatchObject({ grant_type: 'refresh_token', client_id: 'earshot-client' });
    const afterFirst = (await stored())!;
    expect(afterFirst.refreshToken).not.toBe(seed.refreshToken);
    expect(x.refreshTokens.has(seed.refreshToken)).toBe(false);
    const post = x.requests.findLast((r) => r.path === '/2/tweets');
    expect(post?.authorization).toBe(`Bearer ${afterFirst.accessToken}`);

    // Two hours later X refuses the token: one refresh, the part posted once.
    x.expireUserTokens();
    const second = await queueReply('Tracking says tomorrow.');
    const postsBefore = x.createdPosts.length;
    await worker.runOnce();
    expect(await replyRow(second)).toMatchObject({ status: 'done' });
    expect(x.createdPosts.length).toBe(postsBefore + 1);
    expect(tokenCalls()).toHaveLength(2);
    expect((await stored())!.refreshToken).not.toBe(afterFirst.refreshToken);

    // Another replica, started with the same (now spent) refresh token in its config, uses the
    // token kept in Postgres instead of spending the dead one.
    const replica = createReplyWorker({
      sealer: null,
      db,
      logger: silentLogger,
      xUser: createXUserAuth({ db, config, logger: silentLogger }),
    });
    const third = await queueReply('Any news? We are checking.');
    await replica.runOnce();
    expect(await replyRow(third)).toMatchObject({ status: 'done' });
    expect(tokenCalls()).toHaveLength(2);
  });

  it('keeps the rotated refresh token when the commit after a refresh fails, rather than spend the dead one', async () => {
    const { db } = handle();
    await db.delete(settings).where(eq(settings.key, OAUTH2_SETTINGS_KEY));
    const seed = x.issueOAuth2Tokens();
    const config = credentials({ X_OAUTH2_CLIENT_ID: 'earshot-client', X_OAUTH2_REFRESH_TOKEN: seed.refreshToken });
    // The first write of a refreshed token fails, as a connection lost at commit would; a sequence
    // is not rolled back with the transaction, so it fails once.
    await db.execute(sql`create sequence oauth2_write_failures`);
    await db.execute(
      sql.raw(`create function oauth2_fail_once() returns trigger language plpgsql as $$
        begin
          if nextval('oauth2_write_failures') = 1 then raise exception 'connection lost at commit'; end if;
          return new;
        end $$`),
    );
    await db.execute(
      sql.raw(`create trigger oauth2_fail_once before update on settings for each row
        when (new.key = '${OAUTH2_SETTINGS_KEY}' and new.value->>'accessToken' is not null)
        execute function oauth2_fail_once()`),
    );
    try {
      const worker = createReplyWorker({
        sealer: null,
        db,
        logger: silentLogger,
        xUser: createXUserAuth({ db, config, logger: silentLogger }),
      });
      const id = await queueReply('Looking into it now.');
      const refreshesBefore = tokenCalls().length;
      await worker.runOnce();
      expect(await replyRow(id)).toMatchObject({ status: 'pending', externalIds: [] });
      expect(tokenCalls()).toHaveLength(refreshesBefore + 1);
      expect(x.refreshTokens.has(seed.refreshToken)).toBe(false);

      await db.update(replies).set({ nextAttemptAt: new Date() }).where(eq(replies.id, id));
      await worker.runOnce();
      expect(await replyRow(id)).toMatchObject({ status: 'done' });
      expect(tokenCalls()).toHaveLength(refreshesBefore + 1);
      expect(x.refreshTokens.has((await stored())!.refreshToken)).toBe(true);
    } finally {
      await db.execute(sql`drop trigger oauth2_fail_once on settings`);
      await db.execute(sql`drop function oauth2_fail_once`);
      await db.execute(sql`drop sequence oauth2_write_failures`);
    }
  });

  it('authenticates a confidential client with Basic auth, and fails a reply clearly when X refuses the refresh', async () => {
    const { db } = handle();
    x.oauth2Client = { clientId: 'confidential', clientSecret: 's3cret' };
    const seed = x.issueOAuth2Tokens();
    const good = credentials({
      X_OAUTH2_CLIENT_ID: 'confidential',
      X_OAUTH2_CLIENT_SECRET: 's3cret',
      X_OAUTH2_REFRESH_TOKEN: seed.refreshToken,
    });
    const worker = createReplyWorker({
      sealer: null,
      db,
      logger: silentLogger,
      xUser: createXUserAuth({ db, config: good, logger: silentLogger }),
    });
    const ok = await queueReply('Refund issued.');
    await worker.runOnce();
    expect(await replyRow(ok)).toMatchObject({ status: 'done' });
    const basic = Buffer.from('confidential:s3cret').toString('base64');
    expect(tokenCalls().at(-1)?.authorization).toBe(`Basic ${basic}`);

    // An operator pastes a refresh token X no longer accepts: the reply fails with what to do.
    const dead = credentials({ ...good, X_OAUTH2_REFRESH_TOKEN: 'revoked-token' });
    const stuck = createReplyWorker({
      sealer: null,
      db,
      logger: silentLogger,
      xUser: createXUserAuth({ db, config: dead, logger: silentLogger }),
    });
    const failed = await queueReply('This one cannot go out.');
    await stuck.runOnce();
    const row = await replyRow(failed);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('X_OAUTH2_REFRESH_TOKEN');
    x.oauth2Client = { clientId: 'earshot-client' };
  });

  it('seals the stored token with EARSHOT_SECRET_KEY, seals one kept before the key was set, and names the key it lacks', async () => {
    const { db } = handle();
    await db.delete(settings).where(eq(settings.key, OAUTH2_SETTINGS_KEY));
    const seed = x.issueOAuth2Tokens();
    const plain = credentials({ X_OAUTH2_CLIENT_ID: 'earshot-client', X_OAUTH2_REFRESH_TOKEN: seed.refreshToken });
    const key = randomBytes(32).toString('base64');
    const sealed = { ...plain, EARSHOT_SECRET_KEY: key };
    const send = async (config: XCredentials, text: string) => {
      const worker = createReplyWorker({
        sealer: null,
        db,
        logger: silentLogger,
        xUser: createXUserAuth({ db, config, logger: silentLogger }),
      });
      const id = await queueReply(text);
      await worker.runOnce();
      return replyRow(id);
    };

    // Before the key: the token is kept as it is (what earlier versions stored).
    expect(await send(plain, 'First, in plain text.')).toMatchObject({ status: 'done' });
    const kept = (await stored())!;
    expect(kept.refreshToken).toBeTruthy();

    // With the key, the same row is sealed at once; the token still works without a refresh.
    const refreshes = tokenCalls().length;
    expect(await send(sealed, 'Now sealed.')).toMatchObject({ status: 'done' });
    expect(tokenCalls()).toHaveLength(refreshes);
    const row = JSON.stringify(await stored());
    expect(row).toContain('"sealed":"v1.');
    expect(row).not.toContain(kept.refreshToken);
    expect(row).not.toContain(kept.accessToken);
    expect(x.requests.findLast((r) => r.path === '/2/tweets')?.authorization).toBe(`Bearer ${kept.accessToken}`);

    // A refresh under the key keeps the rotated token sealed, and a rotation to a new key still opens it.
    x.expireUserTokens();
    const rotated = {
      ...sealed,
      EARSHOT_SECRET_KEY: randomBytes(32).toString('base64'),
      EARSHOT_SECRET_KEY_PREVIOUS: key,
    };
    expect(await send(rotated, 'After the refresh and a key rotation.')).toMatchObject({ status: 'done' });
    expect(tokenCalls()).toHaveLength(refreshes + 1);
    expect(JSON.stringify(await stored())).not.toContain(kept.refreshToken);

    // A replica without the key cannot read the token, and the reply says which setting it needs.
    const failed = await send(plain, 'No key here.');
    expect(failed.status).toBe('failed');
    expect(failed.lastError).toContain('EARSHOT_SECRET_KEY');
  });

  it('posts with a bare X_OAUTH2_USER_TOKEN, and says so when X has expired it', async () => {
    const { db } = handle();
    const { accessToken } = x.issueOAuth2Tokens();
    const auth = createXUserAuth({
      db,
      config: credentials({ X_OAUTH2_USER_TOKEN: accessToken }),
      logger: silentLogger,
    });
    expect(auth?.kind).toBe('oauth2');
    const worker = createReplyWorker({ sealer: null, db, logger: silentLogger, xUser: auth });
    const ok = await queueReply('Sent with a fixed token.');
    await worker.runOnce();
    expect(await replyRow(ok)).toMatchObject({ status: 'done' });
    expect(x.requests.findLast((r) => r.path === '/2/tweets')?.authorization).toBe(`Bearer ${accessToken}`);

    x.expireUserTokens();
    const late = await queueReply('Too late for this token.');
    await worker.runOnce();
    const row = await replyRow(late);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('401');
  });
});
