import { URGENCY_SIGNALS, type UrgencySignal } from './types.js';

/**
 * Phrases that make a post urgent whatever its tone, in English and the languages the support set
 * covers. Written for Earshot; a signal fires when any of its patterns matches.
 */
const PATTERNS: Record<UrgencySignal, RegExp> = {
  outage:
    /\b(?:outage|(?:is|are|it'?s|went|still|totally|completely|site|app|website|servers?|service)\s+down|down (?:again|for everyone)|not loading|can'?t (?:access|connect|load)|unreachable|50[234] ?errors?|5\d\d(?:s| error)|ca[ií]d[oa]|fora do ar|en panne|störung|ausfall)\b/i,
  security:
    /\b(?:hack(?:ed|er)?|breach|data leak|leak(?:ed|ing)|exposed|someone else'?s (?:order|account|data|details)|another customer'?s|phishing|unauthori[sz]ed|compromised|security (?:issue|hole|problem|flaw)|vulnerabilit(?:y|ies)|stolen (?:account|data|identity)|datos personales)\b/i,
  legal:
    /\b(?:lawyers?|attorneys?|solicitors?|sue|suing|lawsuit|legal action|court|trading standards|ombudsman|small claims|class action|regulator|gdpr complaint|abogad[oa]|demanda|avocat|anwalt|klage|denuncia)\b/i,
  payment:
    /\b(?:refunds?|refunded|charged|charges?|overcharg\w*|double[- ]charg\w*|billing|billed|payment|paid|money back|chargeback|invoice|fees?|reembolso|remboursement|rückerstattung|rimborso|cobro)\b/i,
  safety:
    /\b(?:fire|smoke|smoking|burn(?:t|ed|ing)?|overheat\w*|explod\w*|electric shock|shocked me|injur\w*|hurt|choking|allergic reaction|unsafe|dangerous|poison\w*|food poisoning|scary)\b/i,
  churn:
    /\b(?:cancel+(?:ing|ed)? (?:my|our|the) (?:account|subscription|plan|membership|order)|cancel+ing|switching to|moving to (?:a )?competitor|never (?:ordering|buying|using)|close my account|closing my account|done with you|leaving you|unsubscrib\w*|kündigen|cancelar mi|résilier)\b/i,
  media:
    /\b(?:journalist|reporter|press|news(?:paper)?|going viral|viral|influencer|my followers|blog(?:ger)? post about|writing (?:a story|an article|about)|podcast)\b/i,
};

/** The urgency signals a text raises, in the contract's order. */
export function detectUrgency(text: string): UrgencySignal[] {
  return URGENCY_SIGNALS.filter((signal) => PATTERNS[signal].test(text));
}
