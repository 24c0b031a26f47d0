import { URGENCY_SIGNALS, type UrgencySignal } from './types.js';

/**
 * Phrases that make a post urgent whatever its tone, in English and the languages the support set
 * covers. Written for Earshot; a signal fires when any of its patterns matches.
 */
const PATTERNS: Record<UrgencySignal, RegExp> = {
  outage:
    /\b(?:outage|(?:is|are|it'?s|went|still|totally|completely|been|was|were|site|app|website|servers?|service|multiplayer|network|platform|system|systems)\s+down|down (?:again|for everyone)|not loading|can'?t (?:access|connect|load)|unreachable|(?<![£$€\d.,])50[234](?:s|\s?errors?)?|5\d\d(?:s| error)|(?:nobody|no ?one|none of us)\b[^.?!]{0,30}?\bcan (?:log ?in|sign in|connect|access|get in|get on|get online|make calls)|(?:(?:not|aren'?t|isn'?t) (?:working|loading|going through)|failing|broken) for (?:anyone|anybody|everyone|all of us)|no (?:water|power|electricity|gas|heating|signal|internet|service|network)\b[^.?!]{0,30}?\b(?:whole|entire|all over|across)|(?:whole|entire) (?:region|area|village|town|city|building|estate)\b[^.?!]{0,30}?\b(?:affected|down|without)|ca[ií]d[oa]|fora do ar|en panne|störung|ausfall)\b/i,
  security:
    /\b(?:hack(?:ed|er)?|breach|data leak|leak(?:ed|ing)?\b[^.?!]{0,20}\b(?:data|details|information|info|emails?|passwords?|addresses)|exposed|(?:someone else|another (?:customer|user|person|member|client)|a stranger)'?s (?:order|account|data|details|name|address|card|booking|receipt|information|info|invoices?|documents?|messages?|personal|phone|email|history|loyalty)|phishing|fraud(?:ulent)? (?:transactions?|payments?|charges?|activity|alert|team|department)|fraudsters?|(?:claiming|pretending) to be me|impersonat\w*|unauthori[sz]ed|compromised|security (?:issue|hole|problem|flaw)|vulnerabilit(?:y|ies)|stolen (?:account|data|identity)|(?:orders?|purchases?|transactions?|payments?|upgrades?)\b[^.?!]{0,30}?\bI (?:never|didn'?t) (?:made|make|place|placed|order|ordered|authori[sz]e)|(?:recovery|backup|security) (?:phone|number|email|e-mail) (?:was |got |has been )?(?:changed|swapped|replaced)|without my (?:permission|consent|authori[sz]ation|knowledge)|(?:logged|logging|got|get|getting|broke|broken)\s+in(?:to)?\s+(?:my|our) account|accessed (?:my|our) account|(?:dodgy|suspicious|fake|scam|fraudulent) (?:texts?|emails?|calls?|messages?|sms|links?|dms?)|asked (?:me )?for my (?:card|bank|account|password|pin|login|security)|anyone with the (?:link|url)|datos personales)\b/i,
  legal:
    /\b(?:lawyers?|attorneys?|solicitors?|sue|suing|lawsuit|legal action|court|trading standards|ombudsman|small claims|class action|regulator|gdpr complaint|consumer (?:law|rights)|(?:is|it'?s|that'?s|this is|totally|completely) (?:illegal|unlawful)|abogad[oa]|demanda|avocat|porter plainte|anwalt|klage|denuncia|avvocat[oi]|advocaat|advogad[oa])\b/i,
  payment:
    /\b(?:refunds?|refunded|charged|charges?|overcharg\w*|double[- ]charg\w*|billing|billed|(?:my|the|this|a|your) bill|payment|paid|money back|chargeback|invoice|fees?|compensation|deposit|direct debit|debited|deducted|(?:taking|took|taken|withdrew|withdrawn)\b[^.?!]{0,20}?[£$€]\s?\d+|(?:taking|took|taken) (?:the |my |our )?money|reembols\w*|devoluci[oó]n(?: del dinero)?|cobr(?:o|os|ou|aron|aram|ado|ada|an|am|ando|an[çz]a)|debitad[oa]|estorno|cargos? (?:duplicados?|dobles?)|remboursement|rembours\w*|prélev\w*|débité|factur[ée]e? deux fois|rückerstattung|abgebucht|doppelt (?:belastet|berechnet)|geld zurück|rimborso|addebit\w*|terugbetaling|geld terug|afgeschreven)\b/i,
  safety:
    /\b(?:fire|smoke|smoking|burn(?:t|ed|ing)?|overheat\w*|explod\w*|melt(?:ed|ing)|scorch\w*|electric shock|shocked me|injur\w*|hurt|chok(?:e|ed|ing)|allergic reaction|unsafe|dangerous\w*|poison\w*|food poisoning|scary|gas leak|smell(?:s|ing)? (?:of|like) gas|(?:nearly|almost) (?:hit|ran over|knocked over))\b/i,
  churn:
    /\b(?:cancel+(?:ing|ed)? (?:my|our|the) (?:account|subscription|plan|membership|order|contract|broadband|direct debit)|cancel+ing|switching to|moving to (?:a )?competitor|(?:moving|move|switching|switch|taking|take)\b[^.?!]{0,30}?\bto (?:another|a different|a new) (?:provider|bank|network|supplier|company|airline|carrier|operator)|(?:going|moving|taking|move|go|take)\b[^.?!]{0,25}?\belsewhere|thinking (?:of|about) (?:leaving|cancel\w*|switching|moving)|turn(?:ing)? off auto-?renew\w*|not renewing|won'?t (?:be )?renew\w*|lost a customer|no (?:chance|way) (?:i'?m|i am|am i) staying|port(?:ing)? (?:my number )?out|never (?:ordering|buying|using)|close my account|closing my account|done with you|leaving you|unsubscrib\w*|kündigen|cancelar mi|cancelar (?:a |minha |meu )?(?:assinatura|conta|plano)|me voy a otra|me cambio de (?:compañía|operador|banco)|résilier|opzeggen|disdett\w*)\b/i,
  media:
    /\b(?:journalist|reporter|the press|press office|press release|newspaper|news desk|local news|going viral|viral|influencer|my (?:[\d.,]+k? )?followers|\d[\d.,]*k? followers|(?:retweet|share) this|[\d.,]+k? (?:shares|retweets|views)|blog(?:ger)? post about|writing (?:a story|an article|about)|my podcast)\b/i,
};

/** The same signals in scripts without word spaces or Latin letters, where `\b` does not apply. */
const SCRIPT_PATTERNS: Partial<Record<UrgencySignal, RegExp>> = {
  outage: /障害|サーバーダウン|сбой/,
  security: /不正アクセス|乗っ取|взлом/,
  legal: /弁護士|訴訟|адвокат|юрист|в суд|محامي/,
  payment: /返金|二重請求|списал|возврат|استرداد/,
  churn: /解約|退会|расторг/,
};

/** The urgency signals a text raises, in the contract's order. */
export function detectUrgency(text: string): UrgencySignal[] {
  return URGENCY_SIGNALS.filter((signal) => PATTERNS[signal].test(text) || SCRIPT_PATTERNS[signal]?.test(text));
}
