import { describe, expect, it } from 'vitest';
import { createEmbeddedClassifier } from '../../src/triage/embedded/classifier.js';
import { loadSupportSet } from '../../src/triage/embedded/datasets.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import { detectLanguage } from '../../src/triage/language.js';
import { findPii, luhnValid, maskPii } from '../../src/triage/pii.js';
import { isSpam } from '../../src/triage/spam.js';
import { extractTopics } from '../../src/triage/topics.js';
import { detectUrgency } from '../../src/triage/urgency.js';

describe('detectLanguage', () => {
  it.each([
    ['en', 'my order never arrived and nobody answers'],
    ['en', 'app down again?'],
    ['es', 'mi pedido nunca llegó y nadie responde'],
    ['es', 'Pésimo servicio, mi pedido nunca llegó'],
    ['fr', "ma commande n'est jamais arrivée, personne ne répond"],
    ['de', 'meine Bestellung ist nie angekommen und niemand antwortet'],
    ['pt', 'meu pedido nunca chegou e ninguém responde'],
    ['it', 'il mio ordine non è mai arrivato'],
    ['nl', 'mijn bestelling is nooit aangekomen'],
    ['ja', '注文した商品がまだ届きません'],
    ['ar', 'لم يصل طلبي بعد'],
    ['ru', 'мой заказ так и не пришел'],
    ['und', '😡😡😡'],
  ])('%s: %s', (language, text) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('agrees with the labels of the support set', () => {
    const set = loadSupportSet();
    const right = set.filter((example) => detectLanguage(example.text) === example.language).length;
    expect(right / set.length).toBeGreaterThan(0.9);
  });
});

describe('findPii and maskPii', () => {
  it('finds emails, cards (Luhn-valid only), order numbers and phone numbers', () => {
    const text =
      'Order #A48213 paid with 4111 1111 1111 1111, not 4111 1111 1111 1112. Mail jo.smith+x@mail.example.com or call +44 20 7946 0958';
    const spans = findPii(text);
    expect(spans.map((s) => [s.kind, text.slice(s.start, s.end)])).toEqual([
      ['order', 'A48213'],
      ['card', '4111 1111 1111 1111'],
      ['email', 'jo.smith+x@mail.example.com'],
      ['phone', '+44 20 7946 0958'],
    ]);
  });

  it('masks for the card, keeping what agents match on', () => {
    const text = 'email jo@example.com, card 4242-4242-4242-4242, order number 99812345';
    expect(maskPii(text)).toBe('email j•••@example.com, card [card ••4242], order number [order ••2345]');
  });

  it('leaves @handles, dates and short numbers alone', () => {
    expect(findPii('@acme it broke on 12/03 after 3 tries, version 4.2.1')).toEqual([]);
  });

  it('checks card numbers with Luhn', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
  });
});

describe('detectUrgency', () => {
  it.each([
    ['the site is down for everyone', ['outage']],
    ['someone hacked my account and changed the email', ['security']],
    ["I'm contacting my lawyer about this", ['legal']],
    ['still waiting for my refund', ['payment']],
    ['O checkout do Basketly está cobrando duas vezes! Meu cartão foi debitado', ['payment']],
    ['Me hicieron cargos duplicados y quiero que me reembolsen', ['payment']],
    ['On m’a débité deux fois, je veux être remboursé', ['payment']],
    ['Mir wurde die Bestellung doppelt berechnet', ['payment']],
    ['the charger started smoking and burnt my desk', ['safety']],
    ["I'm cancelling my subscription today", ['churn']],
    ["I'm a journalist writing about this", ['media']],
    ['how do I change my password?', []],
  ])('%s → %j', (text, signals) => {
    expect(detectUrgency(text)).toEqual(signals);
  });

  it('recalls every signal labelled in the support set', () => {
    for (const example of loadSupportSet()) {
      for (const signal of example.urgency) expect(detectUrgency(example.text), example.text).toContain(signal);
    }
  });
});

describe('extractTopics', () => {
  it('folds wordings and languages into canonical topics first', () => {
    expect(extractTopics('Still waiting for my refund, parcel never came')).toEqual(
      expect.arrayContaining(['refund', 'delivery']),
    );
    expect(extractTopics('Llevo un mes esperando mi reembolso')[0]).toBe('refund');
    expect(extractTopics('The app is down again', ['outage']).slice(0, 2)).toEqual(['app', 'outage']);
  });

  it('returns at most four lowercase keywords without stopwords or handles', () => {
    const topics = extractTopics('@acme The Bluetooth headphones disconnect constantly from my laptop and phone');
    expect(topics.length).toBeLessThanOrEqual(4);
    for (const topic of topics) expect(topic).toBe(topic.toLowerCase());
    expect(topics).not.toContain('acme');
    expect(topics).toContain('headphone');
    expect(topics).not.toContain('constantly');
  });

  it('names things, never feelings, intensifiers or fillers', () => {
    const model = loadEmbeddedModel();
    const topics = (text: string) => extractTopics(text, [], 4, model.lexicons.valence);
    expect(topics('I want my refund, I am absolutely furious about this')).toEqual(['refund']);
    expect(topics('Checkout keeps failing with error 500 on the website')).toEqual(['checkout', 'error', 'website']);
    expect(topics('Your app logs me out every time, seriously annoying')).toEqual(['app', 'login']);
    expect(topics('Flight delayed 6 hours and nobody at the gate knows anything')).toEqual(['flight', 'delay', 'gate']);
    expect(topics('Mi pedido nunca llegó, pésimo servicio')).toEqual(['order', 'support']);
    for (const word of ['absolutely', 'furious', 'terrible', 'disappointed', 'seriously', 'waiting', 'again']) {
      expect(topics(`The delivery was ${word} ${word}`)).toEqual(['delivery']);
    }
  });

  it('gives the embedded classifier the same topics, so crisis clustering groups by subject', () => {
    const classifier = createEmbeddedClassifier(loadEmbeddedModel());
    const a = classifier.classify('Absolutely furious, the checkout crashed twice and took my money');
    const b = classifier.classify('checkout is broken AGAIN, this is ridiculous');
    expect(a.topics).toContain('checkout');
    expect(b.topics).toContain('checkout');
    for (const mood of ['absolutely', 'furious', 'ridiculous', 'again']) {
      expect([...a.topics, ...b.topics]).not.toContain(mood);
    }
  });
});

describe('isSpam', () => {
  it('agrees with the spam labels of the support set', () => {
    const set = loadSupportSet();
    const wrong = set.filter((example) => isSpam(example.text) !== example.spam).map((e) => e.text);
    expect(wrong.length / set.length).toBeLessThan(0.03);
  });
});
