import type { OpinionWords } from './opinion-words.js';
import type { Token } from './tokenize.js';

/** Word → valence, -4 (very negative) … 4 (very positive), as in VADER's lexicon. */
export type Lexicon = ReadonlyMap<string, number>;

/** The word lists the features read: VADER's valences, and Hu and Liu's opinion words. */
export interface Lexicons {
  valence: Lexicon;
  opinion: OpinionWords;
}

/**
 * Emoji polarity, written for Earshot: emoji carry across languages, so they are what the
 * classifier still reads in a language it does not model.
 */
export const EMOJI_VALENCE: Readonly<Record<string, number>> = {
  '😀': 2,
  '😃': 2,
  '😄': 2,
  '😁': 2,
  '😆': 2,
  '😊': 2,
  '🙂': 1,
  '😉': 1,
  '😍': 3,
  '🥰': 3,
  '😘': 2,
  '😎': 1.5,
  '🤩': 3,
  '🥳': 3,
  '😂': 1,
  '🤣': 1,
  '❤': 3,
  '💕': 3,
  '💖': 3,
  '💙': 2,
  '💚': 2,
  '💜': 2,
  '🧡': 2,
  '💛': 2,
  '👍': 2,
  '👏': 2,
  '🙌': 2,
  '🎉': 2,
  '🔥': 1,
  '💯': 2,
  '✨': 1,
  '🙏': 1,
  '✅': 1,
  '⭐': 1.5,
  '🌟': 1.5,
  '😢': -2,
  '😭': -2,
  '😞': -2,
  '😔': -2,
  '😟': -2,
  '😕': -1.5,
  '🙁': -1.5,
  '☹': -2,
  '😩': -2.5,
  '😫': -2.5,
  '😤': -2.5,
  '😠': -3,
  '😡': -3,
  '🤬': -3.5,
  '👎': -2.5,
  '💔': -2.5,
  '🤮': -3,
  '🤢': -2.5,
  '😒': -2,
  '🙄': -2,
  '😑': -1,
  '😐': -0.5,
  '🤦': -2,
  '😱': -2,
  '😰': -2,
  '😨': -2,
  '💩': -2.5,
  '🖕': -3.5,
  '❌': -1,
  '⚠': -1,
  '🚨': -1.5,
};

/**
 * A small multilingual lexicon written for Earshot (Spanish, French, German, Portuguese, Italian,
 * Dutch): the customer-support words that matter most, so results in those languages are not blind.
 */
export const MULTILINGUAL_VALENCE: Readonly<Record<string, number>> = {
  // Spanish
  gracias: 2,
  excelente: 3,
  genial: 3,
  encanta: 3,
  perfecto: 3,
  bueno: 2,
  buena: 2,
  malo: -2,
  mala: -2,
  pésimo: -3,
  pesimo: -3,
  terrible: -3,
  horrible: -3,
  vergüenza: -3,
  verguenza: -3,
  estafa: -3.5,
  decepcionado: -2.5,
  decepcionada: -2.5,
  enfadado: -2.5,
  harto: -2.5,
  harta: -2.5,
  nunca: -1,
  // French
  merci: 2,
  génial: 3,
  parfait: 3,
  super: 2,
  bravo: 2.5,
  nul: -2.5,
  nulle: -2.5,
  honte: -3,
  arnaque: -3.5,
  déçu: -2.5,
  déçue: -2.5,
  decu: -2.5,
  inadmissible: -3,
  inacceptable: -3,
  // German
  danke: 2,
  toll: 3,
  großartig: 3,
  grossartig: 3,
  prima: 2,
  schlecht: -2.5,
  schrecklich: -3,
  enttäuscht: -2.5,
  unverschämt: -3,
  unverschaemt: -3,
  betrug: -3.5,
  katastrophe: -3,
  ärgerlich: -2,
  // Portuguese
  obrigado: 2,
  obrigada: 2,
  ótimo: 3,
  otimo: 3,
  adorei: 3,
  péssimo: -3,
  ruim: -2.5,
  vergonha: -3,
  golpe: -3,
  // Italian
  grazie: 2,
  ottimo: 3,
  bellissimo: 3,
  pessimo: -3,
  vergogna: -3,
  truffa: -3.5,
  deluso: -2.5,
  delusa: -2.5,
  // Dutch
  bedankt: 2,
  geweldig: 3,
  slecht: -2.5,
  oplichting: -3.5,
  teleurgesteld: -2.5,
};

const BOOSTERS = new Set([
  'very',
  'so',
  'really',
  'extremely',
  'totally',
  'absolutely',
  'completely',
  'super',
  'incredibly',
  'utterly',
  'most',
  'too',
]);

export interface LexiconScore {
  /** Sum of positive valences (after negation), ≥ 0. */
  positive: number;
  /** Sum of negative valences (after negation), ≤ 0. */
  negative: number;
  positiveCount: number;
  negativeCount: number;
  emojiPositive: number;
  emojiNegative: number;
  /** How many tokens the lexicons knew: a sign of how much the lexicon part can be trusted. */
  known: number;
}

/**
 * VADER-style lexicon scoring: valences summed with negation flipping (× -0.74, as VADER does),
 * boosters and shouting amplifying, and the clause after "but" counting more than the one before.
 */
export function scoreLexicon(tokens: readonly Token[], lexicon: Lexicon): LexiconScore {
  const score: LexiconScore = {
    positive: 0,
    negative: 0,
    positiveCount: 0,
    negativeCount: 0,
    emojiPositive: 0,
    emojiNegative: 0,
    known: 0,
  };
  const butAt = tokens.findIndex((t) => t.text === 'but');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const emoji = EMOJI_VALENCE[token.text];
    if (emoji !== undefined) {
      score.known++;
      if (emoji > 0) score.emojiPositive += emoji;
      else score.emojiNegative += emoji;
      continue;
    }
    let valence = lexicon.get(token.text) ?? MULTILINGUAL_VALENCE[token.text];
    if (valence === undefined) continue;
    score.known++;
    const previous = tokens[i - 1]?.text;
    if (previous && BOOSTERS.has(previous)) valence += Math.sign(valence) * 0.3;
    if (token.shouted) valence += Math.sign(valence) * 0.7;
    if (token.negated) valence *= -0.74;
    if (butAt >= 0) valence *= i < butAt ? 0.5 : 1.5;
    if (valence > 0) {
      score.positive += valence;
      score.positiveCount++;
    } else {
      score.negative += valence;
      score.negativeCount++;
    }
  }
  return score;
}

/** Parses VADER's lexicon file (token TAB mean TAB sd TAB ratings) into word → valence. */
export function parseVaderLexicon(text: string): Map<string, number> {
  const lexicon = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [word, mean] = line.split('\t');
    if (!word || mean === undefined) continue;
    const valence = Number(mean);
    if (Number.isFinite(valence)) lexicon.set(word.toLowerCase().replace(/['’]/g, ''), valence);
  }
  return lexicon;
}
