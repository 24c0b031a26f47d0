/**
 * Which reply template fits a customer's message, for the Reply modal to pre-fill. The agent edits
 * and sends it, so a wrong guess costs a click, but a template that speaks of a refund to someone who
 * praised the driver looks careless: better no suggestion than a weak one.
 *
 * Each word the message shares with a template counts by how rare it is among the templates (one
 * that every template says, "sorry" or "order", tells them apart least), double in the template's
 * name. The ticket's category adds the words a template for it would use ("thanks" for praise).
 * Words match on their first five letters, so "charged" finds "charge" and "refunded" "refund".
 */

interface Candidate {
  id: number;
  name: string;
  body: string;
}

/** What a template for each category tends to say. */
const CATEGORY_CUES: Record<string, string> = {
  question: 'question answer help',
  complaint: 'sorry apologies apologise complaint',
  bug_report: 'bug issue fix reproduce report technical',
  suggestion: 'idea suggestion feature feedback',
  praise: 'thanks thank glad lovely praise kind',
  other: '',
};

/** The least evidence for a suggestion: one rare shared word, a name match, or several common words. */
const MIN_SCORE = 2;

const STOPWORDS = new Set(
  `the and for you your our with this that are was have has had not but can will would could been from
  they them their what when where which who how why there here then than just very also into about
  its it's i'm i've don't can't please hi hello hey now right soon post send like need want make know
  look see say said tell told thing things really still even ever one two got get`.split(/\s+/),
);
const VARIABLE = /\{\{\s*[a-z_]+\s*\}\}/g;

function stems(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .replace(VARIABLE, ' ')
      .replace(/https?:\/\/\S+|@\w+/g, ' ')
      .split(/[^\p{L}\p{N}']+/u)
      .map((word) => word.replace(/^'+|'+$/g, ''))
      .filter((word) => word.length > 2 && !STOPWORDS.has(word))
      .map((word) => word.replace(/'/g, '').slice(0, 5)),
  );
}

export function bestTemplate<T extends Candidate>(
  templates: readonly T[],
  message: { text: string; category?: string | null },
): T | null {
  const docs = templates.map((template) => ({
    template,
    name: stems(template.name.replace(/[-_]/g, ' ')),
    body: stems(template.body),
  }));
  const spread = new Map<string, number>();
  for (const doc of docs) {
    for (const word of new Set([...doc.name, ...doc.body])) spread.set(word, (spread.get(word) ?? 0) + 1);
  }
  const weight = (word: string) => Math.log(1 + docs.length / (spread.get(word) ?? 1));
  const said = stems(message.text);
  const cues = stems(CATEGORY_CUES[message.category ?? ''] ?? '');
  let best: { score: number; cue: number; template: T } | null = null;
  for (const doc of docs) {
    let score = 0;
    for (const word of said) score += weight(word) * ((doc.name.has(word) ? 2 : 0) + (doc.body.has(word) ? 1 : 0));
    // The category counts once, by its best cue: a long template does not win by listing them all.
    const cue = Math.max(0, ...[...cues].filter((w) => doc.name.has(w) || doc.body.has(w)).map(weight));
    score += cue;
    // On a tie the category decides (it read the whole message, a shared word only itself), then the
    // older template, so the answer does not hang on the order templates are listed in.
    const better =
      !best ||
      score > best.score ||
      (score === best.score && (cue > best.cue || (cue === best.cue && doc.template.id < best.template.id)));
    if (score >= MIN_SCORE && better) best = { score, cue, template: doc.template };
  }
  return best?.template ?? null;
}
