import { CATEGORIES } from '../../tickets/types.js';
import type { TriageHints } from '../hints.js';
import { detectLanguage } from '../language.js';
import { findPii } from '../pii.js';
import { isSpam } from '../spam.js';
import { extractTopics } from '../topics.js';
import { EMOTIONS, type Emotion, type TriageResult } from '../types.js';
import { detectUrgency } from '../urgency.js';
import { extractFeatures } from './features.js';
import type { LexiconScore } from './lexicon.js';
import { predictProbabilities } from './linear-model.js';
import type { EmbeddedModel } from './model-files.js';
import { argmax, SENTIMENT_LABELS } from './training.js';

/** Languages the heads were trained on; anything else is marked low-confidence. */
export const MODELLED_LANGUAGES: ReadonlySet<string> = new Set(['en']);
/** Below this the card marks the result low-confidence. */
export const CONFIDENCE_THRESHOLD = 0.45;

export interface EmbeddedClassifier {
  classify(text: string, hints?: TriageHints): TriageResult;
  model: string;
}

/** The in-process classifier: linear heads over hashed n-grams and lexicons, plus rule-based signals. */
export function createEmbeddedClassifier(model: EmbeddedModel): EmbeddedClassifier {
  const modelName = `embedded:${model.version}`;
  return {
    model: modelName,
    classify(text, hints = {}) {
      const { vector, lexicon } = extractFeatures(text, model.lexicons, model.features);
      const sentimentP = predictProbabilities(model.sentiment, vector);
      const categoryP = predictProbabilities(model.category, vector);
      const emotionP = predictProbabilities(model.emotion, vector);
      const offensiveP = predictProbabilities(model.offensive, vector);

      const hinted = hints.language && hints.language !== 'und' ? hints.language.toLowerCase().slice(0, 2) : null;
      const language = hinted ?? detectLanguage(text);
      const modelled = MODELLED_LANGUAGES.has(language);

      let sentimentIndex = argmax(sentimentP);
      let sentimentScore = sentimentP[2]! - sentimentP[0]!;
      let sentimentConfidence = sentimentP[sentimentIndex]!;
      if (!modelled && language !== 'und') {
        // The n-gram weights know English; elsewhere emoji and the multilingual lexicon carry across.
        const fallback = lexiconSentiment(lexicon);
        if (fallback) ({ index: sentimentIndex, score: sentimentScore, confidence: sentimentConfidence } = fallback);
      }
      const sentiment = SENTIMENT_LABELS[sentimentIndex]!;
      const categoryIndex = argmax(categoryP);
      const urgency = detectUrgency(text);
      const confidence = Math.sqrt(categoryP[categoryIndex]! * sentimentConfidence) * (modelled ? 1 : 0.6);

      return {
        category: CATEGORIES[categoryIndex]!,
        spam: isSpam(text),
        offensive: offensiveP[1]! > 0.6,
        sentiment,
        sentimentScore: round(Math.max(-1, Math.min(1, sentimentScore))),
        emotion: pickEmotion(emotionP, sentiment),
        urgency,
        language,
        topics: extractTopics(text, urgency, 4, model.lexicons.valence),
        pii: findPii(text),
        confidence: round(confidence),
        lowConfidence: !modelled || confidence < CONFIDENCE_THRESHOLD,
        provider: 'embedded',
        model: modelName,
      };
    },
  };
}

/** Emotion only where the sentiment agrees with it: anger/sadness for negative, joy/optimism for positive. */
function pickEmotion(p: Float64Array, sentiment: TriageResult['sentiment']): Emotion | null {
  if (sentiment === 'neutral') return null;
  const allowed: Emotion[] = sentiment === 'negative' ? ['anger', 'sadness'] : ['joy', 'optimism'];
  const best = allowed.reduce((a, b) => (p[EMOTIONS.indexOf(a)]! >= p[EMOTIONS.indexOf(b)]! ? a : b));
  return p[EMOTIONS.indexOf(best)]! >= 0.3 ? best : null;
}

function lexiconSentiment(score: LexiconScore) {
  if (score.known === 0) return null;
  const net = score.positive + score.negative + score.emojiPositive + score.emojiNegative;
  const value = Math.tanh(net / 3);
  const index = value > 0.2 ? 2 : value < -0.2 ? 0 : 1;
  return { index, score: value, confidence: 0.5 + Math.abs(value) / 2 };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
