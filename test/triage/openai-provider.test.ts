import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { triageCache } from '../../src/db/schema/index.js';
import { createLogger } from '../../src/logger.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import { cacheKey } from '../../src/triage/openai/openai-provider.js';
import { createTriage, type TriageService } from '../../src/triage/triage-service.js';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/openai-server.js';

const model = loadEmbeddedModel();
const logger = createLogger({ level: 'silent' });

const validOutput = {
  category: 'complaint',
  spam: false,
  offensive: false,
  sentiment: 'negative',
  sentimentScore: -0.8,
  emotion: 'anger',
  urgency: ['payment'],
  language: 'en',
  topics: ['Refund', 'refund', ' delivery '],
  confidence: 0.9,
};

describe('OpenAI triage against a local Chat Completions server', () => {
  let fake: FakeOpenAi;
  let handle: DatabaseHandle;
  let triage: TriageService;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    handle = await openDatabase({ dataDir: 'memory://', migrationsFolder: MIGRATIONS_FOLDER });
    await handle.migrate();
    const config = loadConfig({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: 'gpt-test',
      OPENAI_TIMEOUT_MS: '400',
    });
    triage = createTriage({ config, logger, db: handle.db, model });
  });
  afterEach(() => {
    fake.requests.length = 0;
    fake.fallback = { kind: 'status', status: 500, message: 'no reply queued' };
  });
  afterAll(async () => {
    await fake.close();
    await handle.close();
  });

  it('uses structured output and returns the parsed result, with PII found locally', async () => {
    fake.enqueue({ kind: 'json', content: validOutput });
    const text = 'Still no refund for order #A48213, email me at jo@example.com';
    const result = await triage.triage(text);

    expect(triage.provider).toBe('openai');
    expect(result).toMatchObject({
      provider: 'openai',
      model: 'openai:gpt-test',
      category: 'complaint',
      sentiment: 'negative',
      emotion: 'anger',
      urgency: ['payment'],
      topics: ['refund', 'delivery'],
      lowConfidence: false,
    });
    expect(result.pii.map((span) => span.kind).sort()).toEqual(['email', 'order']);
    const [request] = fake.requests;
    expect(request?.authorization).toBe('Bearer sk-test');
    expect(request?.body.model).toBe('gpt-test');
    expect(request?.body.response_format?.type).toBe('json_schema');
    expect(request?.body.response_format?.json_schema?.strict).toBe(true);
    expect(request?.body.messages.at(-1)?.content).toContain(text);
  });

  it('caches by text hash in triage_cache, so a repeat makes no call', async () => {
    const text = 'My parcel never arrived, third time asking';
    fake.enqueue({ kind: 'json', content: validOutput });
    const first = await triage.triage(text);
    const second = await triage.triage(text);
    expect(fake.requests).toHaveLength(1);
    expect(second).toEqual(first);
    const rows = await handle.db
      .select()
      .from(triageCache)
      .where(eq(triageCache.key, cacheKey('gpt-test', text)));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.provider).toBe('openai');
  });

  it('falls back to the embedded classifier on malformed JSON', async () => {
    fake.enqueue({ kind: 'malformed' });
    const result = await triage.triage('The app crashes every time I open it');
    expect(result.provider).toBe('embedded-fallback');
    expect(result.model).toMatch(/^embedded:/);
    expect(fake.requests).toHaveLength(1);
  });

  it('falls back on output that parses as JSON but breaks the schema', async () => {
    fake.enqueue({ kind: 'json', content: { ...validOutput, category: 'rant' } });
    const result = await triage.triage('Worst service ever, never again');
    expect(result.provider).toBe('embedded-fallback');
  });

  it('falls back when the model refuses', async () => {
    fake.enqueue({ kind: 'refusal' });
    const result = await triage.triage('Where is my order?');
    expect(result.provider).toBe('embedded-fallback');
    expect(result.category).toBe('question');
  });

  it('retries a 429 after retry-after-ms and then succeeds', async () => {
    fake.enqueue(
      { kind: 'status', status: 429, headers: { 'retry-after-ms': '20' }, message: 'Rate limit reached' },
      { kind: 'json', content: { ...validOutput, category: 'bug_report', urgency: ['outage'] } },
    );
    const result = await triage.triage('Site is down for everyone');
    expect(fake.requests).toHaveLength(2);
    expect(result.provider).toBe('openai');
    expect(result.category).toBe('bug_report');
  });

  it('falls back when OpenAI does not answer within the timeout', async () => {
    fake.fallback = { kind: 'hang' };
    const started = Date.now();
    const result = await triage.triage('Hello, is anyone there? Still waiting for my refund');
    expect(result.provider).toBe('embedded-fallback');
    expect(result.urgency).toContain('payment');
    // 400 ms timeout, two retries with backoff: well under the test's patience.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('falls back when the server keeps failing', async () => {
    const result = await triage.triage('Please add dark mode');
    expect(result.provider).toBe('embedded-fallback');
    expect(fake.requests.length).toBe(3);
  });

  describe('suggestReply', () => {
    const templates = [
      {
        id: 1,
        name: 'Delivery delay',
        body: 'Hi {{name}}, sorry your delivery is late. Could you DM us the order number?',
      },
      { id: 2, name: 'Thanks', body: 'Thanks so much {{name}}, glad you like it!' },
    ];

    it("offers OpenAI's draft in the customer's language, with the brand tone in the prompt", async () => {
      fake.enqueue({
        kind: 'json',
        content: { reply: 'Hola Ana, sentimos el retraso. ¿Nos envías el número de pedido por DM?' },
      });
      const suggestion = await triage.suggestReply({
        text: 'Mi pedido nunca llegó',
        language: 'es',
        customerName: 'Ana',
        brandTone: 'warm, brief, no emoji',
        templates,
      });
      expect(suggestion).toEqual({ text: expect.stringContaining('Hola Ana'), source: 'openai' });
      const system = fake.requests[0]?.body.messages[0]?.content ?? '';
      expect(system).toContain('warm, brief, no emoji');
      expect(system).toContain('Never promise a refund');
      expect(fake.requests[0]?.body.messages[1]?.content).toContain('Language: es');
    });

    it('throws away a draft that promises a refund or a date, and offers the best template', async () => {
      fake.enqueue({ kind: 'json', content: { reply: "Sorry Ana! We'll refund you by Friday." } });
      const suggestion = await triage.suggestReply({
        text: 'my delivery is late again',
        customerName: 'Ana',
        templates,
      });
      expect(suggestion).toEqual({
        text: 'Hi Ana, sorry your delivery is late. Could you DM us the order number?',
        source: 'template',
        templateId: 1,
      });
    });

    it('offers a template when OpenAI fails', async () => {
      fake.enqueue({ kind: 'status', status: 400, message: 'bad request' });
      const suggestion = await triage.suggestReply({ text: 'Love it, thanks!', category: 'praise', templates });
      expect(suggestion.source).toBe('template');
      expect(suggestion.templateId).toBe(2);
    });
  });
});

describe('triage without an OpenAI key', () => {
  it('uses the embedded classifier and matches templates for replies', async () => {
    const triage = createTriage({ config: loadConfig({}), logger, model });
    expect(triage.provider).toBe('embedded');
    const result = await triage.triage('Thank you so much, the new update is brilliant!');
    expect(result).toMatchObject({ provider: 'embedded', sentiment: 'positive', category: 'praise' });
    const suggestion = await triage.suggestReply({ text: 'hello', templates: [] });
    expect(suggestion).toEqual({ text: '', source: 'none' });
  });
});
