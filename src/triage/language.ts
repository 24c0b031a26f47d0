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
  'the a an and or but is are was were be been have has had do does did i you he she it we they my your our their me him her us them this that these those to of in on at for with from by not no can cant could would should will wont dont doesnt didnt im its just so very what how why when where who which there here again still never please thanks thank about after all any because before being during every get got if into ive like more much only out off some than then too'.split(
    ' ',
  ),
);

/** Words and letters that mark one language among its neighbours, for posts too short for franc to settle. */
const MARKERS: Record<string, { words: Set<string>; letters?: RegExp }> = {
  es: {
    words: new Set(
      'el los del mi mis nunca pero muy está llegó nadie gracias qué cómo también hola quiero puedo tengo y pésimo servicio hay alguien una las es ya todo todos desde cuando llevo'.split(
        ' ',
      ),
    ),
    letters: /[ñ¿¡]/,
  },
  pt: {
    words: new Set(
      'o os meu minha não você vocês muito ninguém obrigado obrigada chegou um uma em está também olá quero posso tenho e péssimo'.split(
        ' ',
      ),
    ),
    letters: /[ãõ]/,
  },
  fr: {
    words: new Set(
      'le les je mon ma mes est pas et une très merci avec pour vous nous jamais personne bonjour bien sur dans sans mais tout aussi encore toujours depuis cette ce ça suis ai votre vos'.split(
        ' ',
      ),
    ),
  },
  de: {
    words: new Set(
      'der die das ich nicht und ist mein meine mit seit niemand danke bitte sehr auch kein keine ein eine für nur noch schon heute immer wieder ihr'.split(
        ' ',
      ),
    ),
    letters: /[ßäöü]/,
  },
  it: {
    words: new Set(
      'il di che non mio mia mai è per sono grazie molto ciao nessuno qualcuno domani anche questo questa sempre ancora'.split(
        ' ',
      ),
    ),
  },
  nl: { words: new Set('de het een ik niet en mijn is nooit bedankt niemand heel'.split(' ')) },
};

function voteByMarkers(words: readonly string[], text: string): { language: string; score: number } | null {
  let best: string | null = null;
  let bestScore = 0;
  let runnerUp = 0;
  for (const [language, marker] of Object.entries(MARKERS)) {
    let score = marker.letters?.test(text) ? 2 : 0;
    for (const word of words) if (marker.words.has(word)) score++;
    if (score > bestScore) {
      runnerUp = bestScore;
      bestScore = score;
      best = language;
    } else if (score > runnerUp) runnerUp = score;
  }
  return best && bestScore >= 2 && bestScore - runnerUp >= 2 ? { language: best, score: bestScore } : null;
}

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
  const marked = voteByMarkers(words, letters.toLowerCase());
  // Short words are shared ("in", "an", "a", "so"): a neighbour's markers outvoting them win.
  if (english >= 2 && english / words.length >= 0.2 && (!marked || marked.score <= english)) return 'en';
  if (marked) return marked.language;
  // Accented letters mark another language; emoji and symbols do not.
  const ascii = !/[^a-z']/.test(words.join(''));
  // Under ~20 letters franc guesses wildly; a known English word in plain ASCII is the better bet.
  if (words.join('').length < 20) return english >= 1 && ascii ? 'en' : 'und';
  const guess = franc(letters, { minLength: 8, only: FRANC_ONLY });
  if (guess !== 'und') return FRANC_LANGUAGES[guess] ?? 'und';
  return english >= 1 && ascii ? 'en' : 'und';
}
