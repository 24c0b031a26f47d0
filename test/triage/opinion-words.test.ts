import { describe, expect, it } from 'vitest';
import { countOpinionWords, loadOpinionWords, parseOpinionWords } from '../../src/triage/embedded/opinion-words.js';
import { tokenize } from '../../src/triage/embedded/tokenize.js';

describe('opinion words', () => {
  it('keys the lists as the tokenizer writes words, and drops what no token can match or both lists hold', () => {
    const words = parseOpinionWords({
      positive: ['Good', "can't-miss", 'sooo-good', 'envious', 'kudos'],
      negative: ['2-faced', "won't", 'envious', 'wayyyy'],
    });
    expect([...words.entries()].sort()).toEqual([
      ['good', 1],
      ['kudos', 1],
      ['wayy', -1],
      ['wont', -1],
    ]);
  });

  it('counts a negated opinion word for the other side', () => {
    const words = parseOpinionWords({ positive: ['helpful', 'works'], negative: ['broken', 'useless'] });
    const count = (text: string) => countOpinionWords(tokenize(text), words);
    expect(count('Support was helpful, the app works')).toEqual({ positive: 2, negative: 0 });
    expect(count('Not helpful at all, still broken')).toEqual({ positive: 0, negative: 2 });
    expect(count("The app isn't useless")).toEqual({ positive: 1, negative: 0 });
    expect(count('Where is my parcel?')).toEqual({ positive: 0, negative: 0 });
  });

  it('ships Hu and Liu’s lists, reaching words VADER’s lexicon lacks', () => {
    const words = loadOpinionWords();
    expect(words.size).toBeGreaterThan(6_500);
    expect([words.get('unusable'), words.get('flawless'), words.get('overpriced')]).toEqual([-1, 1, -1]);
  });
});
