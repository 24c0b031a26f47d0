/**
 * Phrases that mark a kind of customer message, in English and the languages the support set covers.
 * They give the category head a head start that 200 labelled examples alone cannot.
 */
const CUES: Record<string, RegExp> = {
  questionStart:
    /^(?:\W*)(?:how|what|where|when|why|which|who|can i|can you|could you tell|do you|does|is there|is it|are there|will|any chance|anyone know|¿|comment|combien|est-ce|wie|wo |wann|was |kann ich|gibt es|como|cómo|dónde|donde|cuándo|quando|onde|vocês|posso)/i,
  questionMark: /\?\s*$/,
  bug: /\b(?:error|errors|crash\w*|bug|broken|not working|doesn'?t work|won'?t (?:open|load|work)|can'?t (?:log ?in|load|open)|blank screen|freez\w*|fails?|failing|stuck|glitch\w*|timing out|times out|500|502|503|404|down|outage|not loading|isn'?t loading|aren'?t loading|stopped working|plante|stürzt|abstürz\w*|se cierra|fora do ar|caído)\b/i,
  suggestion:
    /\b(?:would be (?:great|nice|cool|amazing|helpful)|it'?d be|would love|i wish|please (?:add|support|bring|make)|feature request|suggestion|idea:|you should|consider adding|could you (?:add|make)|any chance you could|would help|sería genial|ce serait|bitte fügt|would pay)\b/i,
  complaint:
    /\b(?:still waiting|never (?:arrived|came|received)|refund|charged|worst|unacceptable|ridiculous|disappointed|fed up|rude|useless|scam|lawyer|cancel+ing|cancel+ed|overcharged|damaged|lost my|no one|nobody|on hold|hidden fees|not happy|jamais|nunca|nie angekommen|vergogna|vergüenza|pésimo|péssimo)\b/i,
  praise:
    /\b(?:thank(?:s| you)|love|great|amazing|brilliant|excellent|fantastic|awesome|kudos|shout ?out|five stars|impressed|perfect|gracias|merci|danke|obrigad[oa]|grazie)\b/i,
  spam: /\b(?:follow back|giveaway|crypto|bitcoin|earn \$|click here|link in bio|dm me|buy followers|onlyfans|claim now|guaranteed)\b/i,
};

/** One dense feature per cue that fires. */
export function cueFeatures(text: string): Record<string, number> {
  const features: Record<string, number> = {};
  for (const [name, pattern] of Object.entries(CUES)) if (pattern.test(text)) features[`cue:${name}`] = 1;
  return features;
}
