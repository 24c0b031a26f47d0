import { describe, expect, it } from 'vitest';
import { createEmbeddedClassifier, MODELLED_LANGUAGES } from '../../src/triage/embedded/classifier.js';
import { DEFAULT_DATA_DIR, loadSupportSet, loadTweetEval } from '../../src/triage/embedded/datasets.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import { macroF1 } from '../../src/triage/embedded/training.js';

const model = loadEmbeddedModel();
const classifier = createEmbeddedClassifier(model);
const sample = loadSupportSet(new URL('./fixtures/held-out-sample.jsonl', import.meta.url).pathname);

describe('embedded classifier', () => {
  it('loads the shipped weights with the labels the contract expects', () => {
    expect(model.sentiment.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(model.category.labels).toEqual(['question', 'complaint', 'bug_report', 'suggestion', 'praise', 'other']);
    expect(model.lexicons.valence.size).toBeGreaterThan(5000);
  });

  it('classifies a held-out customer-support sample above its accuracy floors', () => {
    let category = 0;
    let sentiment = 0;
    const misses: string[] = [];
    for (const example of sample) {
      const result = classifier.classify(example.text);
      if (result.category === example.category) category++;
      else misses.push(`${example.category} → ${result.category}: ${example.text}`);
      if (result.sentiment === example.sentiment) sentiment++;
    }
    const categoryAccuracy = category / sample.length;
    const sentimentAccuracy = sentiment / sample.length;
    // The shipped model scores 78.7% category and 81.6% sentiment on these 136 posts (the 98 harder
    // ones added 2026-12 included); the floors sit just below, so a worse retrain fails.
    expect(sample.length).toBeGreaterThanOrEqual(136);
    expect(categoryAccuracy, misses.join('\n')).toBeGreaterThanOrEqual(0.77);
    expect(sentimentAccuracy).toBeGreaterThanOrEqual(0.8);
  });

  it('flags the urgency signals a person would flag on the held-out sample', () => {
    for (const example of sample.filter((e) => e.urgency.length > 0)) {
      const result = classifier.classify(example.text);
      for (const signal of example.urgency) expect(result.urgency, example.text).toContain(signal);
    }
  });

  it('returns a complete TriageResult', () => {
    const result = classifier.classify(
      'I will sue you if my refund for order #A12345 is not back on card 4242 4242 4242 4242',
    );
    expect(result).toMatchObject({
      provider: 'embedded',
      language: 'en',
      sentiment: 'negative',
      spam: false,
      lowConfidence: expect.any(Boolean),
    });
    expect(result.urgency).toEqual(expect.arrayContaining(['legal', 'payment']));
    expect(result.topics).toContain('refund');
    expect(result.pii.map((p) => p.kind)).toEqual(['order', 'card']);
    expect(result.sentimentScore).toBeLessThan(0);
    expect(result.confidence).toBeGreaterThan(0);
    expect(result.confidence).toBeLessThanOrEqual(1);
    expect(result.model).toMatch(/^embedded:linear/);
  });

  it('flags spam apart from the category', () => {
    const result = classifier.classify('FREE crypto giveaway!!! click here http://x.example to claim now');
    expect(result.spam).toBe(true);
    expect(classifier.classify('My order never arrived, please help').spam).toBe(false);
  });

  it('marks languages it does not model low-confidence, reading emoji and the multilingual lexicon', () => {
    expect(MODELLED_LANGUAGES.has('es')).toBe(false);
    const angry = classifier.classify('Pésimo servicio, mi pedido nunca llegó 😡');
    expect(angry).toMatchObject({ language: 'es', sentiment: 'negative', lowConfidence: true });
    const happy = classifier.classify('Merci beaucoup, livraison parfaite ! 😍');
    expect(happy).toMatchObject({ language: 'fr', sentiment: 'positive', lowConfidence: true });
    const japanese = classifier.classify('注文した商品がまだ届きません 😢');
    expect(japanese).toMatchObject({ language: 'ja', sentiment: 'negative', lowConfidence: true });
  });

  it('takes the language the source reported over its own guess', () => {
    expect(classifier.classify('ok', { language: 'pt' }).language).toBe('pt');
    expect(classifier.classify('ok', { language: 'und' }).language).not.toBe('und-');
  });

  it('keeps every training example within the support set schema', () => {
    expect(loadSupportSet().length).toBeGreaterThanOrEqual(200);
  });

  const offensiveVal = loadTweetEval(DEFAULT_DATA_DIR, 'offensive', 'val');
  it.skipIf(offensiveVal.length === 0)('detects offensive tweets on the held-out TweetEval val split', () => {
    const predicted = offensiveVal.map((row) => (classifier.classify(row.text).offensive ? 1 : 0));
    expect(
      macroF1(
        offensiveVal.map((row) => row.label),
        predicted,
        2,
      ),
    ).toBeGreaterThan(0.65);
  });
});
