import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalizeWord, type Token } from './tokenize.js';

/** Hu and Liu's opinion lexicon, vendored (provenance and licence in `data/README.md`). */
export const OPINION_WORDS_PATH = fileURLToPath(new URL('./data/opinion-words.json', import.meta.url));

/** Word → 1 (positive opinion) or -1 (negative), keyed as the tokenizer writes words. */
export type OpinionWords = ReadonlyMap<string, 1 | -1>;

/** The shipped file: Hu and Liu's lists as published, so they can be compared with the source. */
export interface OpinionWordsFile {
  positive: string[];
  negative: string[];
}

/**
 * Keys the lists as `tokenize` writes a word (lower case, apostrophes dropped, elongations squashed),
 * leaving out entries no token can match ("2-faced"). A word on both lists is left out: it tells nothing.
 */
export function parseOpinionWords(file: OpinionWordsFile): Map<string, 1 | -1> {
  const key = (word: string) => normalizeWord(word.trim());
  const words = new Map<string, 1 | -1>();
  const both = new Set<string>();
  for (const [list, polarity] of [
    [file.positive, 1],
    [file.negative, -1],
  ] as const) {
    for (const word of list.map(key)) {
      if (!/^[\p{L}\p{M}][\p{L}\p{M}\p{N}_]*$/u.test(word)) continue;
      const seen = words.get(word);
      if (seen !== undefined && seen !== polarity) both.add(word);
      words.set(word, polarity);
    }
  }
  for (const word of both) words.delete(word);
  return words;
}

export function loadOpinionWords(path = OPINION_WORDS_PATH): Map<string, 1 | -1> {
  return parseOpinionWords(JSON.parse(readFileSync(path, 'utf8')) as OpinionWordsFile);
}

export interface OpinionCounts {
  positive: number;
  negative: number;
}

/**
 * Counts opinion words, a negated one ("not good") counting for the other side. Counts, not
 * valences: the lists say only which way a word leans, and their 6,800 words (misspellings
 * included, as social media writes them) reach many a word VADER's lexicon lacks.
 */
export function countOpinionWords(tokens: readonly Token[], words: OpinionWords): OpinionCounts {
  const counts: OpinionCounts = { positive: 0, negative: 0 };
  for (const token of tokens) {
    const polarity = words.get(token.text);
    if (polarity === undefined) continue;
    if (polarity > 0 !== token.negated) counts.positive++;
    else counts.negative++;
  }
  return counts;
}
