import { cueFeatures } from './cues.js';
import { type LexiconScore, type Lexicons, scoreLexicon } from './lexicon.js';
import type { SparseVector } from './linear-model.js';
import { countOpinionWords, type OpinionCounts } from './opinion-words.js';
import { tokenize } from './tokenize.js';

/** 2^18 hashed slots: few collisions for our vocabulary, and the gzip of a mostly-empty table stays small. */
export const FEATURE_DIMS = 1 << 18;
const MASK = FEATURE_DIMS - 1;

/** FNV-1a over UTF-16 code units: fast, stable across runs and machines. */
export function hashFeature(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & MASK;
}

/** The FNV-1a state after "c:", where every character n-gram's hash starts. */
const CHAR_GRAM_SEED = Math.imul(Math.imul(0x811c9dc5 ^ 99, 0x01000193) ^ 58, 0x01000193);

const scratch = new Float64Array(FEATURE_DIMS);
let touched: Uint32Array = new Uint32Array(1024);

function growTouched(old: Uint32Array): Uint32Array {
  const grown = new Uint32Array(old.length * 2);
  grown.set(old);
  return grown;
}

const PUNCTUATION = new Set(['.', ',', ';', ':']);

/**
 * Everything the linear heads read from one post: word unigrams (negation-marked), word bigrams,
 * character 3–5-grams of each word, and dense lexicon (valences, opinion-word counts) and
 * punctuation features. The sparse text part is scaled to unit length so long posts do not shout
 * louder; the dense part keeps its own scale.
 */
export interface FeatureOptions {
  /** Weight of each character n-gram relative to a word (0 leaves them out). */
  charWeight: number;
  /** Multiplier on the dense lexicon features. */
  denseWeight: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { charWeight: 0.5, denseWeight: 1 };

export function extractFeatures(text: string, lexicons: Lexicons, options: FeatureOptions = DEFAULT_FEATURE_OPTIONS) {
  const tokens = tokenize(text);
  // A shared scratch table instead of a Map: extraction is synchronous, so no two calls interleave.
  let touchedCount = 0;
  const addIndex = (index: number, value: number) => {
    if (scratch[index] === 0) {
      if (touchedCount === touched.length) touched = growTouched(touched);
      touched[touchedCount++] = index;
    }
    scratch[index]! += value;
  };
  const add = (name: string, value = 1) => addIndex(hashFeature(name), value);
  let previous = '<s>';
  let exclamations = 0;
  let questions = 0;
  let shouted = 0;
  for (const token of tokens) {
    const { text } = token;
    if (PUNCTUATION.has(text)) {
      previous = '<p>';
      continue;
    }
    if (text[0] === '!') exclamations += text.length;
    if (text[0] === '?') questions += text.length;
    if (token.shouted) shouted++;
    const word = text[0] === '#' && text.length > 1 ? text.slice(1) : text;
    add(token.negated ? `n:${word}` : `w:${word}`);
    if (word !== text) add('w:#');
    add(`b:${previous} ${word}`);
    previous = word;
    if (options.charWeight > 0 && word.length >= 3 && /\p{L}/u.test(word)) {
      // Same hashes as hashFeature(`c:${gram}`), computed incrementally: no substring per n-gram.
      const padded = `<${word}>`;
      for (let i = 0; i + 3 <= padded.length; i++) {
        let hash = CHAR_GRAM_SEED;
        for (let j = i; j < padded.length && j < i + 5; j++) {
          hash ^= padded.charCodeAt(j);
          hash = Math.imul(hash, 0x01000193);
          if (j - i >= 2) addIndex((hash >>> 0) & MASK, options.charWeight);
        }
      }
    }
  }
  add(`b:${previous} </s>`);

  let norm = 0;
  for (let i = 0; i < touchedCount; i++) norm += scratch[touched[i]!]! ** 2;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;

  const lexiconScore = scoreLexicon(tokens, lexicons.valence);
  const opinion = countOpinionWords(tokens, lexicons.opinion);
  const dense = denseFeatures(lexiconScore, opinion, { exclamations, questions, shouted, tokens: tokens.length });
  Object.assign(dense, cueFeatures(text));
  const size = touchedCount + Object.keys(dense).length;
  const indices = new Uint32Array(size);
  const values = new Float32Array(size);
  let at = 0;
  for (let i = 0; i < touchedCount; i++) {
    const index = touched[i]!;
    indices[at] = index;
    values[at++] = scratch[index]! * scale;
    scratch[index] = 0;
  }
  for (const [name, value] of Object.entries(dense)) {
    indices[at] = hashFeature(`d:${name}`);
    values[at++] = value * options.denseWeight;
  }
  const vector: SparseVector = { indices, values };
  return { vector, lexicon: lexiconScore, tokens };
}

function denseFeatures(
  score: LexiconScore,
  opinion: OpinionCounts,
  counts: { exclamations: number; questions: number; shouted: number; tokens: number },
): Record<string, number> {
  const net = score.positive + score.negative + score.emojiPositive + score.emojiNegative;
  const features: Record<string, number> = {
    bias: 1,
    pos: Math.min(score.positive, 8) / 4,
    neg: Math.max(score.negative, -8) / 4,
    posCount: Math.min(score.positiveCount, 4) / 2,
    negCount: Math.min(score.negativeCount, 4) / 2,
    emojiPos: Math.min(score.emojiPositive, 6) / 3,
    emojiNeg: Math.max(score.emojiNegative, -6) / 3,
    net: Math.tanh(net / 4),
    exclaim: Math.min(counts.exclamations, 3) / 3,
    question: counts.questions > 0 ? 1 : 0,
    shouted: Math.min(counts.shouted, 3) / 3,
    noLexicon: score.known === 0 ? 1 : 0,
    opinionPos: Math.min(opinion.positive, 4) / 2,
    opinionNeg: Math.min(opinion.negative, 4) / 2,
    opinionNet: Math.tanh((opinion.positive - opinion.negative) / 2),
    noOpinion: opinion.positive + opinion.negative === 0 ? 1 : 0,
  };
  // A one-hot bin of the net valence lets the model learn a non-linear response to it.
  const bin = Math.max(-4, Math.min(4, Math.round(net)));
  features[`netBin${bin}`] = 1;
  return features;
}
