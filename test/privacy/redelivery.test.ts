import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authors, items } from '../../src/db/schema/index.js';
import type { HttpServer } from '../../src/http/server.js';
import type { IngestPipeline } from '../../src/ingest/pipeline.js';
import { createLogger } from '../../src/logger.js';
import { forgetAuthor } from '../../src/privacy/forget.js';
import { runRetention } from '../../src/privacy/retention.js';
import { createSource } from '../../src/sources/sources.js';
import type { Source } from '../../src/tickets/types.js';
import { describeEachDatabase } from '../helpers/database.js';
import { assessmentFixture, userActor } from '../helpers/fixtures.js';
import { signedHeaders } from '../helpers/webhooks.js';
import { startWebhookServer } from '../ingest/helpers.js';
import { type CustomerStory, seedCustomerStory, tablesContaining } from './helpers.js';

const logger = createLogger({ level: 'silent' });
const admin = userActor('U0ADMIN', 'admin');
const routing = { channel: 'C0ONCALL', oncallGroup: null, maskPii: true, chart: null };
const DAY = 86_400_000;
const NOW = new Date('2026-09-01T03:30:00Z');

describeEachDatabase('a post delivered again after its author was erased', (handle) => {
  let http: HttpServer;
  let pipeline: IngestPipeline;
  let source: Source;

  beforeAll(async () => {
    const { db } = handle();
    source = await createSource(db, admin, { name: 'redelivery-src', kind: 'webhook' }, null);
    ({ pipeline, http } = await startWebhookServer(db, logger, { assess: async () => assessmentFixture() }));
  });
  afterAll(async () => {
    await pipeline.stop();
    await http.close();
  });

  /** The customer's first post as their platform sends it again (a webhook resend), signed. */
  async function redeliver(name: string, story: CustomerStory): Promise<Response> {
    const payload = JSON.stringify({
      id: `${name}-post-1`,
      author: { id: `${name}-account`, handle: `${name}_handle`, name: `${name} Displayname`, followers: 99 },
      text: story.itemText,
      thread_id: `${name}-conversation`,
    });
    const id = `msg_${name}`;
    const at = new Date();
    const res = await fetch(`${http.url}/ingest/${source.name}`, {
      method: 'POST',
      body: payload,
      headers: signedHeaders(source.secret!, id, payload, at),
    });
    await pipeline.idle();
    return res;
  }

  async function expectErased(story: CustomerStory): Promise<void> {
    for (const secret of story.secrets)
      expect({ secret, tables: await tablesContaining(handle().db, secret) }).toEqual({ secret, tables: [] });
  }

  it('is recognised as stored and brings back none of the data /earshot forget erased', async () => {
    const { db } = handle();
    const story = await seedCustomerStory(db, { sourceId: source.id, name: 'Wanda', at: new Date(), resolve: false });
    const authorsBefore = (await db.select().from(authors)).length;
    const forgotten = await forgetAuthor(db, admin, { source: source.name, author: 'Wanda_handle', routing });
    expect(forgotten.found).toBe(true);
    await expectErased(story);

    const res = await redeliver('Wanda', story);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'accepted', id: 'Wanda-post-1' });
    await expectErased(story);
    expect(await db.select().from(authors)).toHaveLength(authorsBefore);
    const [item] = await db.select().from(items).where(eq(items.externalId, 'Wanda-post-1'));
    expect(item).toMatchObject({ text: '', ticketId: story.ticket.id });
  });

  it('brings back none of the data retention anonymized', async () => {
    const { db } = handle();
    const story = await seedCustomerStory(db, {
      sourceId: source.id,
      name: 'Vera',
      at: new Date(NOW.getTime() - 120 * DAY),
    });
    await runRetention(db, { now: NOW, days: 90, mode: 'anonymize', batchSize: 10 });
    await expectErased(story);

    const res = await redeliver('Vera', story);
    expect(res.status).toBe(200);
    await expectErased(story);
  });
});
