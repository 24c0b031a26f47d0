import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { createLogger } from '../../src/logger.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import { createCircuitBreaker } from '../../src/triage/openai/circuit-breaker.js';
import { addRoutingRule } from '../../src/triage/routing-rules.js';
import { createTriage } from '../../src/triage/triage-service.js';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.js';

const model = loadEmbeddedModel();
const logger = createLogger({ level: 'silent' });

const output = (overrides: Record<string, unknown> = {}) => ({
  category: 'complaint',
  spam: false,
  offensive: false,
  sentiment: 'negative',
  sentimentScore: -0.5,
  emotion: null,
  urgency: [],
  language: 'en',
  topics: ['delivery'],
  confidence: 0.9,
  ...overrides,
});

/** The posts of a batched request, as the provider sent them. */
function postsOf(request: FakeOpenAi['requests'][number]): { index: number; text: string }[] {
  const content = request.body.messages.at(-1)?.content ?? '';
  return JSON.parse(content.replace(/^Posts:\n/, '')) as { index: number; text: string }[];
}

describe('OpenAI triage under load, against a local Chat Completions server', () => {
  let fake: FakeOpenAi;
  let clock = 1_000_000;
  const config = () =>
    loadConfig({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: 'gpt-test',
      OPENAI_TIMEOUT_MS: '2000',
    });

  beforeAll(async () => {
    fake = await startFakeOpenAi();
  });
  afterEach(() => {
    fake.requests.length = 0;
    fake.fallback = { kind: 'status', status: 500, message: 'no reply queued' };
  });
  afterAll(async () => {
    await fake.close();
  });

  it('sends the posts waiting beyond the concurrency limit together, keyed by index', async () => {
    const triage = createTriage({ config: config(), logger, model, openaiLoad: { concurrency: 1, maxBatch: 8 } });
    const categories = ['question', 'praise', 'bug_report', 'suggestion'];
    fake.enqueue(
      { kind: 'json', content: output({ category: 'complaint' }) },
      {
        kind: 'json',
        // Out of order on purpose: the index, not the position, says which post an entry answers.
        content: { results: [3, 1, 0, 2].map((index) => ({ index, ...output({ category: categories[index] }) })) },
      },
    );
    const texts = ['first post', 'second post', 'third post', 'fourth post', 'fifth post'];
    const results = await Promise.all(texts.map((text) => triage.triage(text)));

    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]?.body.response_format?.json_schema?.name).toBe('triage');
    const batch = fake.requests[1]!;
    expect(batch.body.response_format?.json_schema?.name).toBe('triage_batch');
    expect(batch.body.response_format?.json_schema?.strict).toBe(true);
    const posts = postsOf(batch);
    expect(posts.map((p) => p.text).sort()).toEqual(texts.slice(1).sort());
    expect(results[0]).toMatchObject({ provider: 'openai', category: 'complaint' });
    for (const post of posts) {
      const result = results[texts.indexOf(post.text)]!;
      expect(result).toMatchObject({ provider: 'openai', category: categories[post.index] });
    }
  });

  it('keeps batches within the maximum size', async () => {
    const triage = createTriage({ config: config(), logger, model, openaiLoad: { concurrency: 1, maxBatch: 3 } });
    const many = (n: number) => ({
      kind: 'json' as const,
      content: { results: Array.from({ length: n }, (_, index) => ({ index, ...output() })) },
    });
    fake.enqueue({ kind: 'json', content: output() }, many(3), many(3));
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => triage.triage(`post number ${i}`)));
    expect(
      fake.requests.map((r) => (r.body.response_format?.json_schema?.name === 'triage' ? 1 : postsOf(r).length)),
    ).toEqual([1, 3, 3]);
    expect(results.every((r) => r.provider === 'openai')).toBe(true);
  });

  it('falls back per post on a bad, missing or doubled entry, keeping the good ones', async () => {
    const triage = createTriage({ config: config(), logger, model, openaiLoad: { concurrency: 1, maxBatch: 8 } });
    fake.enqueue(
      { kind: 'json', content: output() },
      {
        kind: 'json',
        content: {
          results: [
            { index: 0, ...output({ category: 'praise' }) },
            { index: 1, ...output({ category: 'rant' }) },
            { index: 3, ...output() },
            { index: 3, ...output({ category: 'question' }) },
            { index: 9, ...output() },
          ],
        },
      },
    );
    const texts = [
      'opening post',
      'The app crashes on start',
      'Love the new design!',
      'Where is my parcel?',
      'Please add dark mode',
    ];
    const results = await Promise.all(texts.map((text) => triage.triage(text)));
    const posts = postsOf(fake.requests[1]!);
    const at = (index: number) => results[texts.indexOf(posts.find((p) => p.index === index)!.text)]!;
    expect(at(0)).toMatchObject({ provider: 'openai', category: 'praise' });
    expect(at(1).provider).toBe('embedded-fallback');
    expect(at(2).provider).toBe('embedded-fallback');
    expect(at(3).provider).toBe('embedded-fallback');
    expect(fake.requests).toHaveLength(2);
  });

  it('opens the circuit after consecutive failures, answers from the embedded classifier at once, then tries again', async () => {
    const triage = createTriage({
      config: config(),
      logger,
      model,
      openaiLoad: { concurrency: 1, breakerThreshold: 2, breakerCooldownMs: 60_000 },
      now: () => clock,
    });
    fake.fallback = { kind: 'status', status: 503, headers: { 'retry-after-ms': '1' }, message: 'overloaded' };
    expect((await triage.triage('one')).provider).toBe('embedded-fallback');
    expect(triage.openaiCircuit()).toBe('closed');
    expect((await triage.triage('two')).provider).toBe('embedded-fallback');
    // Each failure cost the SDK's three attempts; now the circuit is open.
    expect(fake.requests).toHaveLength(6);
    expect(triage.openaiCircuit()).toBe('open');

    const skipped = await triage.triage('The site is down again');
    expect(skipped).toMatchObject({ provider: 'embedded-fallback', category: 'bug_report' });
    expect(fake.requests).toHaveLength(6);
    // Reply drafts skip OpenAI too while it is out.
    const draft = await triage.suggestReply({
      text: 'my parcel is late',
      templates: [{ id: 1, name: 'late-parcel', body: 'Sorry your parcel is late!' }],
    });
    expect(draft).toMatchObject({ source: 'template' });
    expect(fake.requests).toHaveLength(6);

    clock += 60_001;
    expect(triage.openaiCircuit()).toBe('half-open');
    fake.enqueue({ kind: 'json', content: output({ category: 'question' }) });
    expect(await triage.triage('three')).toMatchObject({ provider: 'openai', category: 'question' });
    expect(fake.requests).toHaveLength(7);
    expect(triage.openaiCircuit()).toBe('closed');
  });

  it('answers everyone waiting from the embedded classifier when the circuit opens', async () => {
    const triage = createTriage({
      config: config(),
      logger,
      model,
      openaiLoad: { concurrency: 1, breakerThreshold: 1 },
      now: () => clock,
    });
    fake.fallback = { kind: 'status', status: 500, headers: { 'retry-after-ms': '1' } };
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((t) => triage.triage(`waiting post ${t}`)));
    expect(results.map((r) => r.provider)).toEqual(Array(4).fill('embedded-fallback'));
    expect(fake.requests).toHaveLength(3);
  });

  it('does not count a refusal or an answer out of schema as an outage', () => {
    // The circuit itself: only failures in a row count.
    const breaker = createCircuitBreaker({ threshold: 2, cooldownMs: 10, now: () => clock });
    breaker.failure();
    breaker.success();
    breaker.failure();
    expect(breaker.state()).toBe('closed');
    breaker.failure();
    expect(breaker.state()).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('a refusal and malformed JSON leave the circuit closed', async () => {
    const triage = createTriage({ config: config(), logger, model, openaiLoad: { breakerThreshold: 1 } });
    fake.enqueue({ kind: 'refusal' }, { kind: 'malformed' });
    expect((await triage.triage('refused')).provider).toBe('embedded-fallback');
    expect((await triage.triage('malformed')).provider).toBe('embedded-fallback');
    expect(triage.openaiCircuit()).toBe('closed');
  });
});

describe('routing rules are cached, not read per item', () => {
  let handle: DatabaseHandle;
  let clock = 0;
  beforeAll(async () => {
    handle = await openDatabase({ dataDir: 'memory://', migrationsFolder: MIGRATIONS_FOLDER });
    await handle.migrate();
  });
  afterAll(async () => {
    await handle.close();
  });

  it('uses the rules it read until they are invalidated or the cache ages out', async () => {
    const triage = createTriage({
      config: loadConfig({ EARSHOT_FEEDBACK_CHANNEL: 'feedback' }),
      logger,
      db: handle.db,
      model,
      settingsTtlMs: 30_000,
      now: () => clock,
    });
    const text = 'Thank you, the new app is brilliant!';
    expect((await triage.assess(text)).channel).toBe('feedback');
    // Written behind the service's back (another replica): not seen yet.
    await addRoutingRule(handle.db, {
      name: 'praise',
      conditions: { category: ['praise'] },
      channel: 'kudos',
      createdBy: 'U1',
    });
    expect((await triage.assess(text)).channel).toBe('feedback');
    triage.invalidateRules();
    expect(await triage.assess(text)).toMatchObject({ channel: 'kudos', rule: { name: 'praise' } });

    await addRoutingRule(handle.db, {
      name: 'all praise to leads',
      conditions: { category: ['praise'] },
      channel: 'leads',
      createdBy: 'U1',
      position: 1,
    });
    clock += 29_000;
    expect((await triage.assess(text)).channel).toBe('kudos');
    clock += 2_000;
    expect((await triage.assess(text)).channel).toBe('leads');
  });
});
