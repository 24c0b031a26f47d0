import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Earshot, startEarshot } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { recordSignals } from '../../src/crisis/alerts.js';
import type { CrisisSignal } from '../../src/crisis/detector.js';
import { routingFromConfig } from '../../src/crisis/job.js';
import { outbox } from '../../src/db/schema/index.js';
import { createLogger } from '../../src/logger.js';
import { reportsModule } from '../../src/reports/module.js';
import { SEED } from '../../src/sandbox/index.js';
import { SLASH_COMMAND } from '../../src/slack/ids.js';
import { assessmentFixture, inboundFixture, ingestFixture, seedSource } from '../helpers/fixtures.js';
import { type SlackHarness, startSlackHarness } from '../slack/harness.js';

describe('/earshot summary … csv through Bolt and the sandbox Slack', () => {
  let h: SlackHarness;

  beforeAll(async () => {
    h = await startSlackHarness();
    const db = h.earshot.context.db;
    const source = await seedSource(db, 'csv-src');
    for (let i = 0; i < 3; i += 1) {
      await ingestFixture(
        db,
        inboundFixture(source.id, { author: { externalId: `csv-${i}` }, text: `order ${i} is late` }),
        assessmentFixture({ channel: 'earshot-feedback' }),
      );
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('uploads the rows as a CSV file to the user’s DM and answers ephemerally with its link', async () => {
    const user = SEED.users.agent2;
    const session = h.sandbox.as(user);
    const before = session.ephemerals(SEED.channels.feedback).length;
    h.sandbox.workspace.clearCalls();
    const delivery = await session.runCommand(SLASH_COMMAND, 'summary 7d csv-src csv', {
      channel: SEED.channels.feedback,
    });
    expect(delivery.status).toBe(200);
    const [note] = session.ephemerals(SEED.channels.feedback).slice(before);
    expect(note?.text).toContain('The CSV is in your DM with Earshot');

    const methods = h.sandbox.workspace.calls.map((c) => c.method);
    expect(methods).toContain('files.getUploadURLExternal');
    expect(methods).toContain('files.completeUploadExternal');
    const dm = h.sandbox.workspace.openDm(user);
    const posted = h.sandbox.workspace.lastMessage(dm.id);
    const shared = posted?.files?.[0] as { id: string; name: string; permalink: string } | undefined;
    expect(shared?.name).toMatch(/^earshot-summary-\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}-csv-src\.csv$/);
    expect(note?.text).toContain(`<${shared!.permalink}|`);
    const content = h.sandbox.workspace.files.get(shared!.id)?.content?.toString() ?? '';
    const lines = content.trimEnd().split('\n');
    expect(lines[0]).toBe('section,key,label,value,previous');
    expect(lines).toContain('volume,total,Tickets,3,0');
    // Every row is in the file: nothing is cut to fit a message.
    expect(lines.length).toBeGreaterThan(10);
    // The channel saw nothing: the report stays private.
    expect(h.sandbox.workspace.channelMessages(SEED.channels.feedback).some((m) => (m.files ?? []).length > 0)).toBe(
      false,
    );
  });
});

describe('the crisis card’s trend chart, served by the reports module', () => {
  let app: Earshot;
  const secret = 'chart-secret';

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      EARSHOT_DATA_DIR: 'memory://',
      // A bot token keeps the app out of sandbox mode, whose config would replace the public URL.
      SLACK_BOT_TOKEN: 'xoxb-reports-test',
      SLACK_SIGNING_SECRET: secret,
      EARSHOT_PUBLIC_URL: 'https://earshot.example',
    });
    app = await startEarshot(config, createLogger({ level: 'silent' }), { modules: [reportsModule] });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('puts a signed chart URL on the card, and the app answers it with a PNG', async () => {
    const { db, config } = app.context;
    const now = new Date();
    const signal: CrisisSignal = {
      kind: 'volume',
      groupKey: 'source:1',
      title: 'Volume spike on x',
      sourceIds: [1],
      topic: null,
      count: 30,
      mean: 3,
      sd: 1,
      ratio: 10,
      z: 8,
      baselineWindows: 8,
      windowStart: new Date(now.getTime() - 15 * 60_000),
      windowEnd: now,
      topTopics: [],
      topTerms: [],
      samples: [
        { at: now, sourceId: 1, topics: [], sentiment: 'negative', followers: 3, text: 'write to me: a.b@example.org' },
      ],
      ticketIds: [],
      trend: [2, 3, 2, 30],
    };
    await recordSignals(db, [signal], routingFromConfig(config), now);
    const [row] = await db.select().from(outbox);
    const blocks = (row!.payload.blocks ?? []) as { type: string; image_url?: string }[];
    expect(JSON.stringify(blocks)).not.toContain('a.b@example.org');
    const image = blocks.find((b) => b.type === 'image');
    expect(image?.image_url).toMatch(
      /^https:\/\/earshot\.example\/reports\/chart\.png\?trend=2%2C3%2C2%2C30&step=15&sig=/,
    );
    const local = new URL(image!.image_url!);
    const res = await fetch(`${app.http.url}${local.pathname}${local.search}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    local.searchParams.set('trend', '2,3,2,31');
    expect((await fetch(`${app.http.url}${local.pathname}${local.search}`)).status).toBe(403);
  });
});
