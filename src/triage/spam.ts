const SPAM_PHRASES =
  /\b(?:follow ?back|f4f|giveaway|crypto|bitcoin|forex|earn \$?\d+|make \$?\d+|click (?:here|the link)|link in (?:my )?bio|buy (?:cheap )?followers|onlyfans|claim (?:now|your)|guaranteed|hot singles|double your money|promote your business|selected for a|\d+% profit)\b/i;

/**
 * A points score for spam: spam phrases, link and mention stuffing, hashtag walls, money bait.
 * Two points or more is spam; a customer's real complaint rarely scores one.
 */
export function spamScore(text: string): number {
  let score = 0;
  if (SPAM_PHRASES.test(text)) score += 2;
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
