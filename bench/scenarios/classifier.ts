import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createEmbeddedClassifier } from '../../src/triage/embedded/classifier.js';
import { DEFAULT_DATA_DIR, loadTrainingData, loadTweetEval } from '../../src/triage/embedded/datasets.js';
import { extractFeatures } from '../../src/triage/embedded/features.js';
import { predictProbabilities } from '../../src/triage/embedded/linear-model.js';
import { loadEmbeddedModel } from '../../src/triage/embedded/model-files.js';
import {
  argmax,
  createFeaturizer,
  crossValidateSentiment,
  HYPERPARAMETERS,
  macroRecall,
  SENTIMENT_LABELS,
} from '../../src/triage/embedded/training.js';
import { REPO_ROOT } from '../lib/app-process.js';
import { type BenchRow, emptyResult, type ScenarioResult } from '../lib/report.js';
import { pairRatio, summarize } from '../lib/stats.js';

export interface ClassifierOptions {
  repeats: number;
  /** Each predictor runs over the texts for at least this long per repeat. */
  minMsPerRun: number;
  /** Tweets used for the embedded classifier's k-fold figure, and k; a tiny slice in smoke runs. */
  crossValidation: { tweets: number; folds: number };
}

const SCENARIO = 'classifier';
const require = createRequire(import.meta.url);
type Label = (typeof SENTIMENT_LABELS)[number];
const LABEL_INDEX: Record<Label, number> = { negative: 0, neutral: 1, positive: 2 };

/**
 * The embedded classifier beside the `sentiment` (AFINN-165) and `vader-sentiment` packages, on one
 * core (this process): items per second, and accuracy as scripts/eval.ts measures it — macro recall
 * on TweetEval's sentiment val split (the embedded model trains on that split, so its figure is
 * k-fold cross-validated) and the held-out support sample written for Earshot's tests.
 */
export async function benchClassifier(options: ClassifierOptions): Promise<ScenarioResult> {
  const result = emptyResult();
  const model = loadEmbeddedModel();
  const classifier = createEmbeddedClassifier(model);
  const Sentiment = require('sentiment') as new () => { analyze(text: string): { score: number } };
  const afinn = new Sentiment();
  const vader = require('vader-sentiment') as {
    SentimentIntensityAnalyzer: { polarity_scores(text: string): { compound: number } };
  };
  const predictors: Record<string, (text: string) => Label> = {
    embedded: (text) => classifier.classify(text).sentiment,
    'embedded, sentiment head only': (text) => {
      const { vector } = extractFeatures(text, model.lexicons, model.features);
      return SENTIMENT_LABELS[argmax(predictProbabilities(model.sentiment, vector))]!;
    },
    AFINN: (text) => {
      const score = afinn.analyze(text).score;
      return score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral';
    },
    VADER: (text) => {
      const compound = vader.SentimentIntensityAnalyzer.polarity_scores(text).compound;
      return compound >= 0.05 ? 'positive' : compound <= -0.05 ? 'negative' : 'neutral';
    },
  };

  const tweets = loadTweetEval(DEFAULT_DATA_DIR, 'sentiment', 'val');
  const heldOut = readFileSync(`${REPO_ROOT}test/triage/fixtures/held-out-sample.jsonl`, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { text: string; category: string; sentiment: Label });
  const speedTexts = tweets.length > 0 ? tweets.map((t) => t.text) : heldOut.map((h) => h.text);

  // Speed: every predictor in each repeat, in rotating order, so drift on a busy machine hits all alike.
  const names = Object.keys(predictors);
  const rates = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let run = 0; run < options.repeats; run += 1) {
    for (let k = 0; k < names.length; k += 1) {
      const name = names[(run + k) % names.length]!;
      rates.get(name)!.push(itemsPerSecond(speedTexts, predictors[name]!, options.minMsPerRun));
    }
  }
  const rate = (name: string) => summarize(rates.get(name)!);
  for (const [name, metric] of [
    ['embedded', 'embedded, full triage (sentiment, category, emotion, language, PII, urgency)'],
    ['embedded, sentiment head only', 'embedded, sentiment head only'],
  ] as const) {
    for (const reference of ['AFINN', 'VADER']) {
      result.rows.push({
        scenario: SCENARIO,
        metric: `items/s on one core: ${metric}`,
        unit: 'items/s',
        value: rate(name),
        reference: { label: reference, value: rate(reference) },
        ratio: pairRatio(rate(name), rate(reference)),
      });
    }
  }

  const once = (value: number) => summarize([value]);
  const accuracyRow = (metric: string, value: number, reference: string, refValue: number): BenchRow => ({
    scenario: SCENARIO,
    metric,
    unit: '%',
    value: once(value * 100),
    reference: { label: reference, value: once(refValue * 100) },
    ratio: once(value / refValue),
  });

  if (tweets.length > 0) {
    const gold = tweets.map((t) => t.label);
    const recallOf = (name: string) =>
      macroRecall(
        gold,
        tweets.map((t) => LABEL_INDEX[predictors[name]!(t.text)]),
        3,
      ).macro;
    const slice = tweets.slice(0, options.crossValidation.tweets);
    const cv = crossValidateSentiment(
      createFeaturizer(model.lexicons, HYPERPARAMETERS.features),
      // The whole split trains as the shipped model did; the smoke run's slice trains on its tweets alone.
      slice.length === tweets.length
        ? loadTrainingData(DEFAULT_DATA_DIR)
        : { sentiment: slice, emotion: [], offensive: [], annotated: [], support: [] },
      options.crossValidation.folds,
    ).macro;
    const metric = `TweetEval sentiment val (${slice.length} tweets), macro recall, embedded ${options.crossValidation.folds}-fold CV`;
    result.rows.push(
      accuracyRow(metric, cv, 'AFINN, whole split', recallOf('AFINN')),
      accuracyRow(metric, cv, 'VADER, whole split', recallOf('VADER')),
    );
  } else {
    result.notes.push(`No TweetEval data under ${DEFAULT_DATA_DIR}: the TweetEval rows are left out.`);
  }

  const accuracy = (name: string) =>
    heldOut.filter((h) => predictors[name]!(h.text) === h.sentiment).length / heldOut.length;
  const sampleMetric = `held-out support sample (${heldOut.length} posts): sentiment accuracy, shipped model`;
  result.rows.push(
    accuracyRow(sampleMetric, accuracy('embedded'), 'AFINN', accuracy('AFINN')),
    accuracyRow(sampleMetric, accuracy('embedded'), 'VADER', accuracy('VADER')),
    {
      scenario: SCENARIO,
      metric: `held-out support sample (${heldOut.length} posts): category accuracy, shipped model`,
      unit: '%',
      value: once(
        (heldOut.filter((h) => classifier.classify(h.text).category === h.category).length / heldOut.length) * 100,
      ),
    },
  );
  result.notes.push(
    'AFINN and VADER score sentiment only, from word lists; the embedded figure is the whole triage Earshot runs ' +
      'per item (four linear heads over hashed n-grams plus language detection, PII, urgency and topic rules), so ' +
      'its items/s row is the conservative one and the sentiment-head row is the like-for-like comparison.',
    'The TweetEval figure of the embedded classifier is cross-validated (each fold’s model never saw its test ' +
      'tweets), as scripts/eval.ts does; the packages need no training and are scored on the whole split.',
  );
  return result;
}

function itemsPerSecond(texts: readonly string[], run: (text: string) => unknown, minMs: number): number {
  for (const text of texts.slice(0, 100)) run(text);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < minMs) {
    for (const text of texts) run(text);
    n += texts.length;
  }
  return n / ((performance.now() - started) / 1000);
}
