import type { UrgencySignal } from './types.js';

/** Words that name the same problem, folded to one topic so a crisis clusters across wordings and languages. */
const CANONICAL: [RegExp, string][] = [
  [/^(?:refunds?|refunded|reembolsos?|remboursements?|rückerstattung|rimborsi?|money back)$/, 'refund'],
  [/^(?:outages?|down|downtime|panne|ausfall|caído)$/, 'outage'],
  [/^(?:login|logins|log|signin|password|passwords|2fa|contraseña)$/, 'login'],
  [
    /^(?:delivery|deliveries|parcel|parcels|package|packages|shipping|shipment|courier|pedido|livraison|lieferung)$/,
    'delivery',
  ],
  [/^(?:charge|charged|charges|billing|billed|payment|payments|overcharged|invoice)$/, 'billing'],
  [/^(?:crash|crashes|crashed|crashing|freezes|frozen|plante|stürzt)$/, 'crash'],
  [/^(?:app|apps|aplicación|appli|application)$/, 'app'],
  [/^(?:website|site|webpage|page)$/, 'website'],
  [/^(?:subscription|subscriptions|plan|membership|abo|suscripción)$/, 'subscription'],
  [/^(?:hacked|breach|leak|leaked|phishing)$/, 'security'],
];

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
 * A few normalized keywords for crisis clustering: canonical topics first ("refund", "outage"),
 * then the longest remaining content words, singularised. At most `limit`.
 */
export function extractTopics(text: string, urgency: readonly UrgencySignal[] = [], limit = 4): string[] {
  const topics: string[] = [];
  const add = (topic: string) => {
    if (topic && !topics.includes(topic)) topics.push(topic);
  };
  const words = (
    text
      .replace(/https?:\/\/\S+|@\w+/g, ' ')
      .toLowerCase()
      .match(/[\p{L}][\p{L}\p{N}'’-]*/gu) ?? []
  ).map((word) => word.replace(/['’]/g, ''));
  const rest: string[] = [];
  for (const word of words) {
    const canonical = CANONICAL.find(([pattern]) => pattern.test(word));
    if (canonical) add(canonical[1]);
    else if (word.length >= 4 && !STOPWORDS.has(word)) rest.push(singular(word));
  }
  if (urgency.includes('outage')) add('outage');
  if (urgency.includes('security')) add('security');
  const seen = new Set<string>();
  const content = rest.filter((word) => !seen.has(word) && seen.add(word));
  content.sort((a, b) => b.length - a.length);
  for (const word of content) add(word);
  return topics.slice(0, limit);
}

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}
