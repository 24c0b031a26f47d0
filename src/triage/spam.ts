/**
 * Phrases that are spam on their own. Crypto, giveaways and guarantees need the bait around them:
 * customers of an exchange say "my crypto withdrawal", customers of a shop say "guaranteed delivery".
 */
const SPAM_PHRASES: RegExp[] = [
  /\b(?:follow ?back|f4f|giveaway|forex|click (?:here|the link)|link in (?:my )?bio|onlyfans|claim (?:now|your)|hot singles|double your money|promote your business|selected for a|\d+% profit)\b/i,
  /\b(?:crypto|bitcoin|btc)\s+(?:signals?|trading|investments?|profits?|giveaway)\b|\b(?:doubled|tripled) my (?:savings|money|investment)\b|\bcriptovalut\w*/i,
  /\bguaranteed (?:profits?|returns?|income|results|followers|views|likes|winnings?)\b|\b\d+k? (?:views|followers|likes) guaranteed\b/i,
  /\b(?:earn(?:ed|ing)?|make|made|making)\s+(?:[£$€]\s?\d|\d[\d,.]*\s?(?:[£$€]|dollars|euros?|pounds))|\b(?:money|cash|income) from home\b|\$+ from home\b|\bpassive income\b|\bbe your own boss\b/i,
  /\b(?:buy|cheap|get \d+k?(?: real)?) (?:followers|likes)\b|\b\d+k? (?:real )?followers for\b|\bcheck (?:out )?my (?:profile|page|bio|channel)\b/i,
  /\b(?:nft drop|mint now|airdrop|connect your wallet|trading bot|recovery experts?)\b|\bdm (?:them|him|her)\b/i,
  /\bis (?:this|that) you in (?:this|the|that) (?:video|pic|photo)\b|\b(?:message|contact|text|reach|chat with) (?:us|our [\w/ ]{0,25}?) (?:on|via) (?:whatsapp|telegram)\b/i,
  /\bgiving away \d+|\blike,? share (?:and|&) (?:comment|follow)\b|\bbrand ambassadors?\b|\bcheap designer\b|\bverify your (?:details|account|identity|information) (?:within|at|here|now|by)\b/i,
  /\b(?:gana(?:r)? \d|gagnez|cliquez ici|guadagn\w*|ganhe dinheiro|gewinnspiel)/i,
];

/**
 * A points score for spam: spam phrases, link and mention stuffing, hashtag walls, money bait.
 * Two points or more is spam; a customer's real complaint rarely scores one.
 */
export function spamScore(text: string): number {
  let score = 0;
  if (SPAM_PHRASES.some((pattern) => pattern.test(text))) score += 2;
  const links = text.match(/https?:\/\/\S+|www\.\S+|\b\w+\.(?:ly|example|xyz|top|click)\b/gi)?.length ?? 0;
  if (links >= 1 && /\b(?:free|win|earn|click|claim|dm)\b/i.test(text)) score += 1;
  if (links >= 3) score += 1;
  if ((text.match(/@\w+/g)?.length ?? 0) >= 5) score += 1;
  if ((text.match(/#\w+/g)?.length ?? 0) >= 5) score += 1;
  if (/\bFREE\b|\$\$+|!!!.*http/.test(text)) score += 1;
  return score;
}

export function isSpam(text: string): boolean {
  return spamScore(text) >= 2;
}
