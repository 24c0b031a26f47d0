import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sources } from '../../src/db/schema/index.js';
import { createSealer } from '../../src/db/sealed.js';
import type { HttpServer } from '../../src/http/server.js';
import type { IngestPipeline } from '../../src/ingest/pipeline.js';
import { createLogger } from '../../src/logger.js';
import { sealSourceSecrets } from '../../src/sources/secrets.js';
import { createSource, rotateWebhookSecret } from '../../src/sources/sources.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, userActor } from '../helpers/fixtures.js';
import { signedHeaders } from '../helpers/webhooks.js';
import { startWebhookServer } from '../ingest/helpers.js';

const logger = createLogger({ level: 'silent' });
const admin = userActor('UADMIN', 'admin');

describeEachDatabase('webhook signing secrets sealed with EARSHOT_SECRET_KEY', (handle) => {
  const key = randomBytes(32);
  const sealer = createSealer([key]);
  let http: HttpServer;
  let pipeline: IngestPipeline;

  beforeAll(async () => {
    ({ pipeline, http } = await startWebhookServer(
      handle().db,
      logger,
      { assess: async () => assessmentFixture() },
      sealer,
    ));
  });
  afterAll(async () => {
    await pipeline.stop();
    await http.close();
  });

  const stored = async (id: number) => {
    const [row] = await handle().db.select().from(sources).where(eq(sources.id, id));
    return row!;
  };
  const post = (name: string, secret: string, id: string) => {
    const payload = JSON.stringify({ id, author: { id: 'cust-1', handle: 'dana' }, text: 'Where is my parcel?' });
    const at = new Date();
    return fetch(`${http.url}/ingest/${name}`, {
      method: 'POST',
      body: payload,
      headers: signedHeaders(secret, id, payload, at),
    });
  };

  it('stores a new or rotated secret sealed, shows it once in plaintext, and verifies with it', async () => {
    const { db } = handle();
    const source = await createSource(db, admin, { name: 'sealed-feedback', kind: 'webhook' }, sealer);
    expect(source.secret).toMatch(/^whsec_/);
    const row = await stored(source.id);
    expect(row.secret).toMatch(/^v1\./);
    expect(row.secret).not.toContain(source.secret!.slice(6));
    expect(sealer.open(row.secret!)).toBe(source.secret);
    expect((await post('sealed-feedback', source.secret!, 'sealed-1')).status).toBe(202);

    // The route keeps the row it read; a rotation changes the sealed value it confirms against.
    const rotated = await rotateWebhookSecret(db, admin, 'sealed-feedback', sealer);
    expect((await stored(source.id)).secret).toMatch(/^v1\./);
    expect((await post('sealed-feedback', source.secret!, 'sealed-2')).status).toBe(401);
    expect((await post('sealed-feedback', rotated.secret!, 'sealed-3')).status).toBe(202);
  });

  it('seals at start what was kept in plaintext or under the previous key, once, and keeps it working', async () => {
    const { db } = handle();
    const plain = await createSource(db, admin, { name: 'older-feedback', kind: 'webhook' }, null);
    expect((await stored(plain.id)).secret).toBe(plain.secret);
    const before = (await stored(plain.id)).updatedAt;

    expect(await sealSourceSecrets(db, sealer, logger)).toBeGreaterThanOrEqual(1);
    const sealedRow = await stored(plain.id);
    expect(sealedRow.secret).toMatch(/^v1\./);
    expect(sealer.open(sealedRow.secret!)).toBe(plain.secret);
    // The same secret, so the source is not "updated" (and the sender changes nothing).
    expect(sealedRow.updatedAt).toEqual(before);
    expect((await post('older-feedback', plain.secret!, 'older-1')).status).toBe(202);
    expect(await sealSourceSecrets(db, sealer, logger)).toBe(0);

    // Rotating the key: with the new key first and the old one as previous, one start re-seals.
    const next = createSealer([randomBytes(32), key]);
    expect(await sealSourceSecrets(db, next, logger)).toBeGreaterThanOrEqual(2);
    const resealed = (await stored(plain.id)).secret!;
    expect(next.isCurrent(resealed)).toBe(true);
    expect(sealer.isCurrent(resealed)).toBe(false);
    expect(next.open(resealed)).toBe(plain.secret);
    expect(await sealSourceSecrets(db, next, logger)).toBe(0);
  });

  it('refuses to start without the key, or with a key that does not open them, and changes nothing', async () => {
    const { db } = handle();
    const rows = async () => (await db.select({ secret: sources.secret }).from(sources)).map((r) => r.secret);
    const kept = await rows();
    await expect(sealSourceSecrets(db, null, logger)).rejects.toThrow(/EARSHOT_SECRET_KEY is not set/);
    await expect(sealSourceSecrets(db, createSealer([randomBytes(32)]), logger)).rejects.toThrow(/EARSHOT_SECRET_KEY/);
    expect(await rows()).toEqual(kept);
  });
});
