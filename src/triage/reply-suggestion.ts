import { bestTemplate } from '../replies/template-match.js';
import type { Category } from '../tickets/types.js';

export interface ReplyTemplate {
  id: number;
  name: string;
  body: string;
}

export interface SuggestReplyInput {
  /** The customer's post (or the latest one of the conversation). */
  text: string;
  /** ISO 639-1; the suggestion is written in it. */
  language?: string | null;
  category?: Category | null;
  /** The customer's name or handle, for the greeting and {{name}}. */
  customerName?: string | null;
  /** The brand's tone, from the team's settings ("warm and brief, no emoji"). */
  brandTone?: string | null;
  /** Canned replies to fall back on (or to match when OpenAI is not configured). */
  templates: readonly ReplyTemplate[];
  /** What the agent already typed: promises they wrote themselves are theirs to make. */
  agentDraft?: string | null;
}

export interface ReplySuggestion {
  text: string;
  source: 'openai' | 'template' | 'none';
  templateId?: number;
}

/**
 * The template that best fits a post (bestTemplate: shared words weighed by how rare they are among
 * the templates, and the post's category), filled with the customer's name. Null when none fits.
 */
export function matchTemplate(input: SuggestReplyInput): ReplySuggestion | null {
  const best = bestTemplate(input.templates, { text: input.text, category: input.category ?? null });
  if (!best) return null;
  return { text: fillTemplate(best.body, input), source: 'template', templateId: best.id };
}

/** Fills the customer's name ({{author_name}}); other variables stay for the agent to fill in. */
export function fillTemplate(body: string, input: Pick<SuggestReplyInput, 'customerName'>): string {
  return body.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, variable: string) => {
    if (['author_name', 'name', 'customer'].includes(variable) && input.customerName) return input.customerName;
    return whole;
  });
}

/** A pattern matched as whole words in any script (`\b` only knows ASCII letters). */
const wholeWords = (source: string) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${source})(?![\\p{L}\\p{N}])`, 'iu');

/**
 * Refund and date promises, in English and the languages the classifier detects most (es, fr, de,
 * pt, it, nl). Wide on purpose: a false alarm costs a template instead of a draft, a miss costs a
 * promise nobody approved.
 */
const PROMISE_PATTERNS: readonly RegExp[] = [
  // English
  /\b(?:we|i)(?:'ll| will| shall| are going to| can)\s+(?:\w+\s+)?(?:refund|reimburse|credit|compensate|replace)\b/i,
  /\b(?:refund|replacement|credit)\s+(?:will|is going to|shall)\s+(?:be\s+)?(?:issued|processed|sent|made|arrive)\b/i,
  /\byou(?:'ll| will)\s+(?:get|receive|have)\s+(?:your\s+|a\s+)?(?:refund|money|replacement)\b/i,
  /\b(?:by|before|on|until)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|end of (?:the )?(?:day|week|month))\b/i,
  /\bwithin\s+\d+\s+(?:hours?|days?|business days?|working days?|weeks?)\b/i,
  /\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i,
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}(?:st|nd|rd|th)?\b/i,
  /\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\/\d{1,2}(?:\/\d{2,4})?\b|\b\d{1,2}\.\d{1,2}\.(?:\d{2,4})?(?!\d)/,
  // Spanish
  wholeWords(
    '(?:le|te|les|os)?\\s*(?:reembolsaremos|devolveremos|compensaremos|reemplazaremos|abonaremos)|vamos a (?:reembolsar|devolver|compensar|reponer)\\w*|(?:recibirá|recibirás|tendrá|tendrás) (?:su|tu|el|un) (?:reembolso|dinero|reemplazo)|(?:el|su|tu) reembolso (?:será|se hará|se realizará|llegará)',
  ),
  wholeWords(
    '(?:el |para el |antes del |hasta el )?(?:lunes|martes|miércoles|jueves|viernes|sábado|domingo)|mañana|pasado mañana|en (?:\\d+|un|una|dos|tres) (?:horas?|días?|semanas?)|\\d{1,2} de (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)',
  ),
  // French
  wholeWords(
    '(?:nous )?(?:vous )?rembourserons|(?:nous )?allons vous (?:rembourser|dédommager|indemniser|remplacer)|vous serez (?:remboursée?s?|dédommagée?s?|indemnisée?s?)|(?:le|votre) remboursement (?:sera|arrivera)|vous (?:recevrez|aurez) (?:votre|un) (?:remboursement|argent|avoir)',
  ),
  wholeWords(
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|(?:sous|d'ici|dans) (?:\\d+|un|une|deux|trois) (?:heures?|jours?|semaines?)|\\d{1,2} (?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)",
  ),
  // German
  wholeWords(
    '(?:wir )?(?:werden )?(?:ihnen |dir )?(?:den betrag |das geld )?(?:erstatten|zurückerstatten|ersetzen|gutschreiben)(?: wir)?|erstatten wir|(?:sie|du) (?:erhalten|erhältst|bekommen|bekommst) (?:ihr|dein|eine|ihre|deine) (?:geld|erstattung|rückerstattung|gutschrift|ersatz)|(?:die )?(?:rück)?erstattung (?:wird|erfolgt)',
  ),
  wholeWords(
    '(?:bis |am )?(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)|(?<!guten )morgen|übermorgen|innerhalb (?:von )?(?:\\d+|einem|einer|zwei|drei) (?:stunden?|tagen?|wochen?|werktagen?)|in (?:\\d+|zwei|drei) (?:tagen|wochen|stunden)|\\d{1,2}\\.? (?:januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember)',
  ),
  // Portuguese
  wholeWords(
    '(?:vamos|iremos) (?:te |lhe |o |a )?(?:reembolsar|devolver|compensar|substituir)|(?:o |a )?reembolsaremos|(?:você |tu )?(?:receberá|vai receber|terá) (?:o seu|o teu|seu|teu|o|um) (?:reembolso|dinheiro|estorno)|(?:o )?reembolso (?:será|vai ser|chegará)',
  ),
  wholeWords(
    '(?:segunda|terça|quarta|quinta|sexta)(?:-feira)?|sábado|domingo|amanhã|em (?:\\d+|um|uma|dois|duas|três) (?:horas?|dias?|semanas?)|\\d{1,2} de (?:janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro)',
  ),
  // Italian
  wholeWords(
    '(?:vi |ti |la |le )?rimborseremo|(?:ti |la |vi )?(?:risarciremo|sostituiremo)|(?:riceverà|riceverai|avrà|avrai) (?:il|un|il suo|il tuo) (?:rimborso|denaro|sostituzione)|(?:il )?rimborso (?:sarà|arriverà|verrà)',
  ),
  wholeWords(
    'lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|domani|dopodomani|entro (?:\\d+|un|una|due|tre) (?:ore|giorni|settimane|giorno|ora|settimana)|\\d{1,2} (?:gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre)',
  ),
  // Dutch
  wholeWords(
    '(?:we|wij) (?:zullen |gaan )?(?:u |je |het bedrag )?(?:terugbetalen|vergoeden|terugstorten|vervangen)|(?:betalen|storten) (?:we|wij) (?:u |je )?(?:\\w+ )?terug|(?:u|je) (?:krijgt|ontvangt) (?:uw|je|een) (?:geld|terugbetaling|vergoeding|vervanging)|(?:de )?terugbetaling (?:wordt|komt)',
  ),
  wholeWords(
    'maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|(?<!guten |goede )morgen|overmorgen|binnen (?:\\d+|een|twee|drie) (?:uur|dagen|dag|weken|week|werkdagen)|\\d{1,2} (?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)',
  ),
];

/**
 * The promises of refunds or dates in a suggested reply that the agent did not write themselves:
 * a suggestion that makes one is thrown away rather than offered.
 */
export function findUnapprovedPromises(reply: string, agentDraft?: string | null): string[] {
  const found: string[] = [];
  for (const pattern of PROMISE_PATTERNS) {
    const match = reply.match(pattern);
    if (match && !(agentDraft ?? '').toLowerCase().includes(match[0].trim().toLowerCase())) found.push(match[0].trim());
  }
  return found;
}
