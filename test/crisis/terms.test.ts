import { describe, expect, it } from 'vitest';
import { crisisTermsOf } from '../../src/crisis/detector.js';

describe('the words a crisis card counts as top terms', () => {
  it('keeps contractions whole, so "don\'t" is a stopword rather than "don"', () => {
    const terms = crisisTermsOf("Don't place orders, I've been hit twice and there's no status update. It isn't fixed");
    expect(terms).toEqual(['place', 'orders', 'hit', 'twice', 'status', 'update', 'fixed']);
  });

  it("leaves out @handles, the brand's own above all, and links, but keeps hashtags and numbers", () => {
    const terms = crisisTermsOf('@basketly checkout down again https://t.co/x1 #outage since 9am (cc @someone)');
    expect(terms).toEqual(['checkout', 'down', 'again', '#outage', 'since', '9am']);
  });

  it('reads a curly apostrophe as a straight one, and words in other scripts', () => {
    expect(crisisTermsOf('Can’t pay — zahlung fehlgeschlagen, 支払いできない')).toEqual([
      'pay',
      'zahlung',
      'fehlgeschlagen',
      '支払いできない',
    ]);
  });
});
