/**
 * Replies longer than a channel allows become a numbered thread of posts, split between words,
 * never cut (a word is only broken when it alone is longer than a post). Weighing is a parameter
 * because channels count differently: X weighs URLs, CJK and emoji; a webhook counts characters.
 */

/** How long a piece of text counts as on a channel. Must be additive across whitespace-separated words. */
export type Weigh = (text: string) => number;

export interface SplitOptions {
  /** The most one post may weigh, numbering included. */
  limit: number;
  weigh: Weigh;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Counts characters as people see them (an emoji with a skin tone is one). */
export const weighCharacters: Weigh = (text) => {
  let count = 0;
  for (const _ of graphemes.segment(text)) count += 1;
  return count;
};

/** What X counts every URL as, whatever its length (t.co wrapping). */
export const X_URL_WEIGHT = 23;
export const X_POST_LIMIT = 280;

// twitter-text v3: code points in these ranges weigh 1, everything else (CJK, most scripts) 2.
const X_LIGHT_RANGES: readonly [number, number][] = [
  [0, 4351],
  [8192, 8205],
  [8208, 8223],
  [8242, 8247],
];
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;
const URL_SCHEME = /^(?:https?:\/\/|www\.)\S+$/i;
// Bare domains X also links (example.com/path); a short list of common TLDs keeps false positives rare.
const BARE_DOMAIN =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|net|org|io|co|dev|app|ai|me|ly|gg|tv|uk|de|fr|es|it|nl|us|ca|au|jp|in|br|info|biz|shop|store|xyz)(?:[/?#]\S*)?$/i;
const LEADING_PUNCTUATION = /^[("'«“‘[]+/;
const TRAILING_PUNCTUATION = /[.,;:!?)"'»”’\]]+$/;

function isLight(codePoint: number): boolean {
  return X_LIGHT_RANGES.some(([start, end]) => codePoint >= start && codePoint <= end);
}

function weighXPlain(text: string): number {
  let weight = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (EMOJI.test(segment)) {
      weight += 2;
      continue;
    }
    for (const char of segment) weight += isLight(char.codePointAt(0) ?? 0) ? 1 : 2;
  }
  return weight;
}

function isUrl(word: string): boolean {
  return URL_SCHEME.test(word) || BARE_DOMAIN.test(word);
}

/**
 * X's weighted length (twitter-text v3): each URL counts 23, Latin and common punctuation 1, CJK and
 * other scripts 2, an emoji 2 however many code points it has. Text is NFC-normalized first, as X does.
 */
export const weighX: Weigh = (text) => {
  let weight = 0;
  for (const token of text.normalize('NFC').split(/(\s+)/)) {
    if (!token) continue;
    const leading = LEADING_PUNCTUATION.exec(token)?.[0] ?? '';
    const rest = token.slice(leading.length);
    const trailing = TRAILING_PUNCTUATION.exec(rest)?.[0] ?? '';
    const core = rest.slice(0, rest.length - trailing.length);
    if (core && isUrl(core)) weight += weighXPlain(leading) + X_URL_WEIGHT + weighXPlain(trailing);
    else weight += weighXPlain(token);
  }
  return weight;
};

/** A part of a long reply at least this full may end at a sentence instead of the last word that fits. */
const SENTENCE_BREAK_FILL = 0.6;

interface Word {
  /** Whitespace before the word, as typed (kept inside a post, dropped at a post boundary). */
  gap: string;
  text: string;
}

function wordsOf(text: string): Word[] {
  const words: Word[] = [];
  const tokens = text.split(/(\s+)/);
  for (let i = 0; i < tokens.length; i += 2) {
    const word = tokens[i] ?? '';
    if (word) words.push({ gap: i === 0 ? '' : (tokens[i - 1] ?? ''), text: word });
  }
  return words;
}

/** Breaks a word longer than a post into pieces that fit, between graphemes. */
function breakWord(word: string, room: number, weigh: Weigh): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const { segment } of graphemes.segment(word)) {
    if (piece && weigh(piece + segment) > room) {
      pieces.push(piece);
      piece = '';
    }
    piece += segment;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/** Packs words greedily into posts of at most `room`, preferring to end a well-filled post at a sentence. */
function pack(text: string, room: number, weigh: Weigh): string[] {
  const posts: string[] = [];
  let current: Word[] = [];
  let weight = 0;

  const render = (words: Word[]) => words.map((w, i) => (i === 0 ? w.text : w.gap + w.text)).join('');
  const weightOf = (words: Word[]) =>
    words.reduce((sum, w, i) => sum + (i === 0 ? 0 : weigh(w.gap)) + weigh(w.text), 0);

  const flush = () => {
    // End at the last sentence if that keeps the post reasonably full; carry the rest over.
    let cut = current.length;
    for (let i = current.length - 1; i > 0; i -= 1) {
      if (/[.!?…]["')»”’]*$/.test(current[i]?.text ?? '')) {
        if (weightOf(current.slice(0, i + 1)) >= room * SENTENCE_BREAK_FILL) cut = i + 1;
        break;
      }
    }
    posts.push(render(current.slice(0, cut)));
    current = current.slice(cut);
    if (current[0]) current[0] = { gap: '', text: current[0].text };
    weight = weightOf(current);
  };

  for (const word of wordsOf(text)) {
    const wordWeight = weigh(word.text);
    const added = current.length === 0 ? wordWeight : weigh(word.gap) + wordWeight;
    if (weight + added <= room) {
      current.push(current.length === 0 ? { gap: '', text: word.text } : word);
      weight += added;
      continue;
    }
    if (current.length > 0) flush();
    const gapWeight = current.length === 0 ? 0 : weigh(word.gap);
    if (weight + gapWeight + wordWeight <= room) {
      current.push(current.length === 0 ? { gap: '', text: word.text } : word);
      weight += gapWeight + wordWeight;
      continue;
    }
    // Still too long: flush what was carried over, then break the word itself.
    if (current.length > 0) {
      posts.push(render(current));
      current = [];
      weight = 0;
    }
    const pieces = breakWord(word.text, room, weigh);
    const last = pieces.pop() ?? '';
    posts.push(...pieces);
    current = [{ gap: '', text: last }];
    weight = weigh(last);
  }
  if (current.length > 0) posts.push(render(current));
  return posts;
}

/** The numbering appended to each post of a split reply: ` (2/3)`. */
export function partNumber(index: number, total: number): string {
  return ` (${index + 1}/${total})`;
}

/**
 * Splits a reply into posts that each weigh at most `limit`. A reply that fits is returned whole
 * (trimmed); a longer one is split between words into numbered posts (`… (1/3)`). Empty text gives
 * no posts.
 */
export function splitReply(text: string, options: SplitOptions): string[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const { limit, weigh } = options;
  if (weigh(trimmed) <= limit) return [trimmed];
  // Reserve room for the widest numbering with this many digits; retry with more digits if needed.
  for (let digits = 1; digits <= 6; digits += 1) {
    const most = 10 ** digits - 1;
    const room = limit - weigh(partNumber(most - 1, most));
    if (room < 1) break;
    const posts = pack(trimmed, room, weigh);
    if (posts.length <= most) return posts.map((post, i) => post + partNumber(i, posts.length));
  }
  throw new RangeError(`A post limit of ${limit} is too small to split a reply into numbered posts.`);
}
