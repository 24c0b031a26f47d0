/** Words that flip the polarity of what follows, up to the next punctuation mark. */
const NEGATORS = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'nobody',
  'none',
  'nowhere',
  'neither',
  'nor',
  'cannot',
  'cant',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'wasnt',
  'arent',
  'werent',
  'wont',
  'wouldnt',
  'shouldnt',
  'couldnt',
  'havent',
  'hasnt',
  'hadnt',
  'aint',
  'without',
]);

const URL_RE = /https?:\/\/\S+|www\.\S+/gi;
const MENTION_RE = /@\w+/g;
// Emoji, words (any script, with inner apostrophes), hashtags, numbers, and runs of ! or ?.
const TOKEN_RE =
  /(?:[:;=][-'^]?[)(\][dDpP/\\|*3oO]|<3|[)(][-']?[:;=])(?!\w)|\p{Extended_Pictographic}|#?[\p{L}\p{M}][\p{L}\p{M}\p{N}_'’]*|\d+(?:[.,]\d+)*|[!?]+|[.,;:]/gu;
const EMOTICON_RE = /^(?:[:;=][-'^]?[)(\][dDpP/\\|*3oO]|<3|[)(][-']?[:;=])$/;
const SCOPE_END = new Set(['.', ',', ';', ':', '!', '?']);

export interface Token {
  /** Lower-cased, elongations squashed ("soooo" → "soo"), apostrophes dropped ("don't" → "dont"). */
  text: string;
  /** True inside a negation scope ("not [very good]"). */
  negated: boolean;
  /** Written in capitals in the original (shouting), for words of 3+ letters. */
  shouted: boolean;
}

/** Replaces the parts of a post no classifier should learn from (links, handles). */
export function normalizeText(text: string): string {
  return text.replace(URL_RE, ' httpurl ').replace(MENTION_RE, ' atuser ');
}

/** A word as tokens carry it: lower-cased, apostrophes dropped, elongations squashed. */
export function normalizeWord(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/(.)\1{2,}/gu, '$1$1');
}

/** Splits a post into tokens with negation scope marked, the input of every feature. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let negating = false;
  for (const match of normalizeText(text).matchAll(TOKEN_RE)) {
    const raw = match[0];
    const first = raw.charCodeAt(0);
    if (raw[0] === '!' || raw[0] === '?') {
      tokens.push({ text: raw.length > 1 ? `${raw[0]}${raw[0]}` : raw, negated: false, shouted: false });
      negating = false;
      continue;
    }
    if (SCOPE_END.has(raw)) {
      tokens.push({ text: raw, negated: false, shouted: false });
      negating = false;
      continue;
    }
    if (EMOTICON_RE.test(raw)) {
      tokens.push({ text: raw.toLowerCase(), negated: false, shouted: false });
      continue;
    }
    if (first >= 48 && first <= 57) {
      tokens.push({ text: raw.length >= 5 ? 'numlong' : 'num', negated: negating, shouted: false });
      continue;
    }
    const lower = normalizeWord(raw);
    const letters = raw.replace(/[^\p{L}]/gu, '');
    const shouted = letters.length >= 3 && letters === letters.toUpperCase() && letters !== letters.toLowerCase();
    tokens.push({ text: lower, negated: negating, shouted });
    if (NEGATORS.has(lower)) negating = true;
  }
  return tokens;
}
