import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Earshot, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { items, tickets } from '../../src/db/schema/index.js';
import { type IngestService, ingestModule } from '../../src/ingest/module.js';
import { repliesModule } from '../../src/replies/module.js';
import { createSource, getSourceByName } from '../../src/sources/sources.js';
import { FakeXServer } from '../fakes/x-server.js';
import { userActor } from '../helpers/fixtures.js';
import { signedHeaders } from '../helpers/webhooks.js';
import { silentLogger, waitFor } from './helpers.js';

describe('ingest and replies modules in a running Earshot, with the embedded classifier', () => {
  let app: Earshot;
  let x: FakeXServer;

  beforeAll(async () => {
    x = new FakeXServer({ heartbeatMs: 50 });
    await x.start();
    const config = loadConfig({
      PORT: '0',
      EARSHOT_DATA_DIR: 'memory://',
      X_BEARER_TOKEN: 'bearer',
      X_API_URL: x.url,
      X_OAUTH2_USER_TOKEN: 'user-token',
    });
    app = await startEarshot(config, silentLogger, { modules: [ingestModule, repliesModule] });
  });
  afterAll(async () => {
    await app.stop();
    await x.close();
  });

  it('serves the signed webhook and turns a post into a ticket', async () => {
    const { db } = app.context;
    const source = await createSource(db, userActor('UADMIN', 'admin'), { name: 'forms', kind: 'webhook' }, null);
    const payload = JSON.stringify({ id: 'f-1', author: { id: 'a-1' }, text: 'The form eats my attachments' });
    const at = new Date();
    const res = await fetch(`${app.http.url}/ingest/forms`, {
      method: 'POST',
      body: payload,
      headers: signedHeaders(source.secret!, 'msg_1', payload, at),
    });
    expect(res.status).toBe(202);
    await waitFor(async () => {
      const [item] = await db.select().from(items).where(eq(items.externalId, 'f-1'));
      return Boolean(item?.ticketId);
    }, 'item processed');
    // No triage module is registered, so ingestion built triage from config: the embedded classifier.
    const [ticket] = await db.select().from(tickets).where(eq(tickets.sourceId, source.id));
    expect(ticket?.triage).toMatchObject({ provider: 'embedded' });
  });

  it('runs the X stream on this replica, under the configured X source', async () => {
    const ingest = app.context.services.get('ingest') as IngestService;
    await waitFor(() => ingest.x?.status().connected === true, 'stream connected');
    expect(await getSourceByName(app.context.db, 'x')).toMatchObject({ kind: 'x' });
    expect(app.context.services.has('replies')).toBe(true);
  });
});
