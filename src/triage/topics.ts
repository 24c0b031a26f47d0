import { MULTILINGUAL_VALENCE } from './embedded/lexicon.js';
import type { UrgencySignal } from './types.js';

/** Words that name the same problem, folded to one topic so a crisis clusters across wordings and languages. */
const CANONICAL: [RegExp, string][] = [
  [
    /^(?:refunds?|refunded|refunding|reembolsos?|remboursements?|rückerstattung|erstattung|rimborsi?|reembolso|terugbetaling|money back|chargeback)$/,
    'refund',
  ],
  [/^(?:outages?|down|downtime|panne|ausfall|caído|storing)$/, 'outage'],
  [
    /^(?:login|logins|log|logs|logged|logout|signin|password|passwords|2fa|contraseña|passwort|senha|wachtwoord|mot de passe)$/,
    'login',
  ],
  [
    /^(?:delivery|deliveries|delivered|parcel|parcels|package|packages|shipping|shipment|courier|livraison|lieferung|entrega|consegna|bezorging|pakket|paket|colis|encomenda)$/,
    'delivery',
  ],
  [
    /^(?:charge|charged|charges|billing|billed|overcharged|invoice|invoices|bill|fees?|factura|facture|rechnung|fattura|fatura)$/,
    'billing',
  ],
  [/^(?:payment|payments|pay|paid|paying|pago|paiement|zahlung|pagamento|betaling)$/, 'payment'],
  [/^(?:checkout|basket|cart|carrito|panier|warenkorb|carrello|winkelwagen)$/, 'checkout'],
  [/^(?:orders?|ordered|pedidos?|commande|bestellung|ordine|bestelling)$/, 'order'],
  [/^(?:accounts?|profile|cuenta|compte|konto|conta|account)$/, 'account'],
  [/^(?:crash|crashes|crashed|crashing|freezes|freezing|frozen|plante|stürzt|abstürze)$/, 'crash'],
  [/^(?:app|apps|aplicación|appli|application|aplicativo)$/, 'app'],
  [/^(?:website|site|webpage|page|web|sitio|webseite)$/, 'website'],
  [
    /^(?:subscription|subscriptions|plan|membership|abo|abonnement|suscripción|assinatura|abbonamento)$/,
    'subscription',
  ],
  [
    /^(?:cancel|cancelled|canceled|cancelling|canceling|cancellation|cancelar|annuler|kündigen|kündigung|disdetta|opzeggen)$/,
    'cancellation',
  ],
  [/^(?:hacked|breach|leak|leaked|phishing|security)$/, 'security'],
  [/^(?:scam|scams|scammed|fraud|fraudulent|estafa|arnaque|betrug|truffa|golpe|oplichting)$/, 'fraud'],
  [/^(?:errors?|bug|bugs|glitch|glitches|fehler|erreur)$/, 'error'],
  [/^(?:delays?|delayed|late|retraso|retard|verspätung|ritardo|atraso|vertraging)$/, 'delay'],
  [/^(?:flights?|vuelo|vol|flug|volo|voo|vlucht)$/, 'flight'],
  [/^(?:price|prices|pricing|precio|prix|preis|prezzo|preço|prijs)$/, 'price'],
  [/^(?:update|updates|updated|upgrade|actualización|mise à jour)$/, 'update'],
  [/^(?:notifications?|alerts?|emails?|newsletter)$/, 'notification'],
  [
    /^(?:support|agent|agents|helpdesk|service|soporte|servicio|kundenservice|kundendienst|assistenza|atendimento|klantenservice)$/,
    'support',
  ],
  [/^(?:wifi|wi-fi|broadband|internet|connection|router|signal)$/, 'connection'],
  [/^(?:battery|charger|charging)$/, 'battery'],
];

/**
 * Words that say how the customer feels or how strongly, never what about: intensifiers, hedges,
 * and feelings the valence lexicon may not hold. Crisis clustering wants things, not moods.
 */
const MOOD_WORDS = new Set(
  `absolutely totally completely utterly extremely incredibly really seriously literally honestly actually basically
  definitely certainly truly simply genuinely super mega quite rather pretty fairly somewhat barely hardly entirely
  furious angry annoyed annoying frustrated frustrating disappointed disappointing disgusted disgusting ridiculous
  unacceptable terrible horrible awful worst best amazing awesome brilliant excellent fantastic great good bad poor
  useless pathetic shocking appalling outrageous insane crazy unbelievable incredible lovely perfect wonderful happy
  unhappy sad upset livid fuming gutted thrilled delighted impressed love loved hate hated sick tired fed joke shame
  again ever still yet even already finally always constantly repeatedly keeps keep kept`.split(/\s+/),
);

/** Verbs and fillers that are in most complaints and name nothing. */
const FILLER_VERBS = new Set(
  `waiting waited wait tried trying try received receive ordered arrived arrive working worked work happened happen
  called call calling asked ask told tell said sent send sending bought buy using used use thought think looking
  looked look seems seem seemed getting gave give given taking took take trying wanted wants hours minutes months
  year years since ago still anything nobody someone everyone people thing things stuff know knows knew
  nunca siempre jamais toujours immer nie sempre mai nooit altijd llegó llega llegado arrivé angekommen arrivato chegou aangekomen`.split(
    /\s+/,
  ),
);

const STOPWORDS = new Set(
  `a an the and or but if then so to of in on at for with from by as is are was were be been being am have has had do does did
  i me my mine you your yours he him his she her it its we us our they them their this that these those there here what which who
  whom how why when where not no nor can cant could would should will wont shall may might must just also very really too more most
  some any all every each other another such only own same than again still ever never yet already even about into over under
  after before out up down off now today yesterday tomorrow week weeks day days time times one two three get got getting make made
  im ive id ill youre dont doesnt didnt isnt wasnt arent werent havent hasnt cannot lol pls please thanks thank hey hi hello ok okay
  guys anyone someone something nothing everything way lot much many new like know want need going go went come came see say said
  atuser httpurl num numlong el la los las de del que en un una por para con es mi le les des du et est pas une je il nous vous
  der die das und ist nicht ich ein eine mit von zu den o os as um uma do da no na com não é`.split(/\s+/),
);

/**
 * A few normalized keywords for crisis clustering, naming things (checkout, refund, delivery, app,
 * login): canonical topics first, then the longest remaining content words, singularised. Stopwords,
 * intensifiers, adverbs and words of feeling are left out (with `lexicon`, every word whose valence
 * is 1 or more either way). At most `limit`.
 */
export function extractTopics(
  text: string,
  urgency: readonly UrgencySignal[] = [],
  limit = 4,
  lexicon?: ReadonlyMap<string, number>,
): string[] {
  const topics: string[] = [];
  const add = (topic: string) => {
    if (topic && !topics.includes(topic)) topics.push(topic);
  };
  const words = (
    text
      .replace(/https?:\/\/\S+|@\w+|#/g, ' ')
      .toLowerCase()
      .match(/[\p{L}][\p{L}\p{N}'’-]*/gu) ?? []
  ).map((word) => word.replace(/['’]/g, '').replace(/(.)\1{2,}/gu, '$1'));
  const rest: string[] = [];
  for (const word of words) {
    const canonical = CANONICAL.find(([pattern]) => pattern.test(word));
    if (canonical) add(canonical[1]);
    else if (isContentWord(word, lexicon)) rest.push(singular(word));
  }
  if (urgency.includes('outage')) add('outage');
  if (urgency.includes('security')) add('security');
  const seen = new Set<string>();
  const content = rest.filter((word) => !seen.has(word) && seen.add(word));
  content.sort((a, b) => b.length - a.length);
  for (const word of content) add(word);
  return topics.slice(0, limit);
}

function isContentWord(word: string, lexicon: ReadonlyMap<string, number> | undefined): boolean {
  if (word.length < 4 || STOPWORDS.has(word) || MOOD_WORDS.has(word) || FILLER_VERBS.has(word)) return false;
  // Adverbs ("constantly", "seriously") say how, not what.
  if (word.length >= 6 && word.endsWith('ly') && !KEEP_LY.has(word)) return false;
  if (/\d/.test(word)) return false;
  const valence = lexicon?.get(word) ?? MULTILINGUAL_VALENCE[word];
  return valence === undefined || Math.abs(valence) < 1;
}

const KEEP_LY = new Set(['supply', 'assembly', 'family', 'anomaly', 'monopoly', 'butterfly', 'italy', 'reply']);

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}
