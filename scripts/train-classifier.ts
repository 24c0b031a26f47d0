/**
 * Trains the embedded triage classifier and writes its weights to src/triage/embedded/model/.
 *
 *   npx tsx scripts/train-classifier.ts [--data ../shared/data] [--cv]
 *
 * --cv also runs the held-out checks (10-fold sentiment on TweetEval, 5-fold sentiment on the annotated
 * tweets, 5-fold sentiment and category on the support set) and stores them in the manifest.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, loadTrainingData, loadTweetEval } from '../src/triage/embedded/datasets.js';
import { parseVaderLexicon } from '../src/triage/embedded/lexicon.js';
import { predictProbabilities } from '../src/triage/embedded/linear-model.js';
import { MODEL_DIR, writeEmbeddedModel } from '../src/triage/embedded/model-files.js';
import { loadOpinionWords } from '../src/triage/embedded/opinion-words.js';
import {
  argmax,
  createFeaturizer,
  crossValidateAnnotated,
  crossValidateCategory,
  crossValidateSentiment,
  crossValidateSupportSentiment,
  HYPERPARAMETERS,
  macroF1,
  trainCategoryHead,
  trainEmotionHead,
  trainOffensiveHead,
  trainSentimentHead,
} from '../src/triage/embedded/training.js';

const { values: args } = parseArgs({
  options: { data: { type: 'string', default: DEFAULT_DATA_DIR }, cv: { type: 'boolean', default: false } },
});
const dataDir = args.data!;

const require = createRequire(import.meta.url);
const vaderPath = require.resolve('vader-sentiment/vader_lexicon.txt');
const lexicons = { valence: parseVaderLexicon(readFileSync(vaderPath, 'utf8')), opinion: loadOpinionWords() };

const data = loadTrainingData(dataDir);
if (data.sentiment.length === 0) throw new Error(`no TweetEval data under ${dataDir}; pass --data`);
const emotionVal = loadTweetEval(dataDir, 'emotion', 'val');
const offensiveVal = loadTweetEval(dataDir, 'offensive', 'val');

const featurize = createFeaturizer(lexicons, HYPERPARAMETERS.features);
const started = performance.now();
const log = (message: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);

const metrics: Record<string, unknown> = {};
if (args.cv) {
  const sentimentCv = crossValidateSentiment(featurize, data);
  metrics.sentimentMacroRecall10Fold = round(sentimentCv.macro);
  metrics.sentimentRecallPerClass = sentimentCv.perClass.map(round);
  log(`sentiment 10-fold macro recall ${(sentimentCv.macro * 100).toFixed(1)}`);
  const annotatedCv = crossValidateAnnotated(featurize, data);
  metrics.annotatedMacroRecall5Fold = round(annotatedCv.macro);
  metrics.annotatedRecallPerClass = annotatedCv.perClass.map(round);
  log(`annotated political tweets 5-fold macro recall ${(annotatedCv.macro * 100).toFixed(1)}`);
  const supportCv = crossValidateSupportSentiment(featurize, data);
  metrics.supportSentimentAccuracy5Fold = round(supportCv.accuracy);
  log(`support-set sentiment 5-fold accuracy ${(supportCv.accuracy * 100).toFixed(1)}`);
  const categoryCv = crossValidateCategory(featurize, data.support);
  metrics.categoryAccuracy5Fold = round(categoryCv.accuracy);
  log(`category 5-fold accuracy ${(categoryCv.accuracy * 100).toFixed(1)}`);
}

const sentiment = trainSentimentHead(featurize, data.sentiment, data);
log('sentiment head trained');
// Emotion trains on the emotion train split plus the val split's share held out for scoring below.
const emotion = trainEmotionHead(featurize, data.emotion);
metrics.emotionValMacroF1 = round(
  macroF1(
    emotionVal.map((r) => r.label),
    emotionVal.map((r) => argmax(predictProbabilities(emotion, featurize(r.text)))),
    4,
  ),
);
log(`emotion head trained; val macro F1 ${metrics.emotionValMacroF1}`);
const offensive = trainOffensiveHead(featurize, data.offensive);
metrics.offensiveValMacroF1 = round(
  macroF1(
    offensiveVal.map((r) => r.label),
    offensiveVal.map((r) => argmax(predictProbabilities(offensive, featurize(r.text)))),
    2,
  ),
);
log(`offensive head trained; val macro F1 ${metrics.offensiveValMacroF1}`);
const category = trainCategoryHead(featurize, data.support);
log('category head trained');

writeEmbeddedModel(
  MODEL_DIR,
  {
    // `ann`: the sentiment head also learns from the tweets annotated for Earshot (HYPERPARAMETERS.annotatedWeight);
    // `ow`: the features count Hu and Liu's opinion words.
    version: `linear-hash18-ann-ow-${new Date().toISOString().slice(0, 10)}`,
    features: HYPERPARAMETERS.features,
    lexicons,
    sentiment,
    emotion,
    offensive,
    category,
  },
  metrics,
);
log(`model written to ${MODEL_DIR}`);

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
