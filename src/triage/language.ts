import { franc } from 'franc-min';

/** The Latin- and Cyrillic-script languages franc chooses among (ISO 639-3 → 639-1); fewer models, faster and steadier. */
const FRANC_LANGUAGES: Record<string, string> = {
  eng: 'en',
  spa: 'es',
  fra: 'fr',
  deu: 'de',
  por: 'pt',
  ita: 'it',
  nld: 'nl',
  swe: 'sv',
  pol: 'pl',
  tur: 'tr',
  ind: 'id',
  ron: 'ro',
  ces: 'cs',
  hun: 'hu',
  vie: 'vi',
  tgl: 'tl',
  rus: 'ru',
  ukr: 'uk',
};
const FRANC_ONLY = Object.keys(FRANC_LANGUAGES);

/** Scripts that name their language outright, checked before any statistics. */
const SCRIPTS: [RegExp, string][] = [
  [/[\u3040-\u30ff]/u, 'ja'],
  [/[\uac00-\ud7af]/u, 'ko'],
  [/\p{Script=Han}/u, 'zh'],
  [/\p{Script=Arabic}/u, 'ar'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Thai}/u, 'th'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Devanagari}/u, 'hi'],
];

const ENGLISH_WORDS = new Set(
  'the a an and or but is are was were be been have has had do does did i you he she it we they my your our their me him her us them this that these those to of in on at for with from by not no can cant could would should will wont dont doesnt didnt im its just so very what how why when where who which there here again still never please thanks thank'.split(
    ' ',
  ),
);

/**
 * ISO 639-1 code of a post, or `und`. Non-Latin scripts are read from their characters; plainly
 * English posts (most of the traffic) skip the n-gram model; the rest go to franc.
 */
export function detectLanguage(text: string): string {
  const letters = text.replace(/https?:\/\/\S+|[@#]\w+/g, ' ');
  for (const [pattern, code] of SCRIPTS) if (pattern.test(letters)) return code;
  const words = letters.toLowerCase().match(/[\p{L}']+/gu) ?? [];
  if (words.length === 0) return 'und';
  let english = 0;
  for (const word of words) if (ENGLISH_WORDS.has(word.replace(/'/g, ''))) english++;
  if (english >= 2 && english / words.length >= 0.2) return 'en';
  const guess = franc(letters, { minLength: 8, only: FRANC_ONLY });
  if (guess !== 'und') return FRANC_LANGUAGES[guess] ?? 'und';
  // Too short for statistics: a couple of English words still make it English.
  return english >= 1 && !/[^ -~\s]/.test(letters) ? 'en' : 'und';
}
