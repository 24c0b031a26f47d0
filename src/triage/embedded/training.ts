import { CATEGORIES } from '../../tickets/types.js';
import { EMOTIONS } from '../types.js';
import type { LabelledText, SupportExample, TrainingData } from './datasets.js';
import { DEFAULT_FEATURE_OPTIONS, extractFeatures, FEATURE_DIMS, type FeatureOptions } from './features.js';
import type { Lexicons } from './lexicon.js';
import {
  type LinearModel,
  predictProbabilities,
  type SparseVector,
  seededRandom,
  shuffle,
  type TrainingExample,
  type TrainOptions,
  trainLinearModel,
} from './linear-model.js';

export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export const OFFENSIVE_LABELS = ['no', 'yes'] as const;

/**
 * Settings chosen by 10-fold cross-validation on the TweetEval sentiment val split (see the
 * README beside the model). The neutral bias is not among them: each training run picks its own
 * on a held-out fifth of its training data.
 */
export const HYPERPARAMETERS = {
  features: { charWeight: 0.25, denseWeight: 2 } satisfies FeatureOptions,
  sentiment: { epochs: 8, learningRate: 0.1, l2: 1e-3 } satisfies TrainOptions,
  /** Emotion tweets give distant sentiment labels (anger/sadness → negative, joy/optimism → positive). */
  emotionAsSentimentWeight: 0.25,
  /**
   * Self-training: a teacher trained on the labelled data labels the unlabelled tweets (the texts of
   * TweetEval's offensive train split); those it is at least `minConfidence` sure of join the
   * student's training at `weight`. Fixed before measuring, not searched.
   */
  selfTraining: { weight: 0.3, minConfidence: 0.7 },
  emotion: { epochs: 8, learningRate: 0.1, l2: 1e-3 } satisfies TrainOptions,
  offensive: { epochs: 5, learningRate: 0.1, l2: 1e-3 } satisfies TrainOptions,
  category: { epochs: 15, learningRate: 0.2, l2: 1e-4 } satisfies TrainOptions,
  neutralBiasGrid: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
} as const;

/** Turns text into a feature vector, memoised, so cross-validation extracts each text once. */
export function createFeaturizer(lexicons: Lexicons, options: FeatureOptions = DEFAULT_FEATURE_OPTIONS) {
  const cache = new Map<string, SparseVector>();
  return (text: string): SparseVector => {
    let vector = cache.get(text);
    if (!vector) {
      vector = extractFeatures(text, lexicons, options).vector;
      cache.set(text, vector);
    }
    return vector;
  };
}
export type Featurize = ReturnType<typeof createFeaturizer>;

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Recall of each class and their mean: TweetEval's sentiment metric. */
export function macroRecall(gold: readonly number[], predicted: readonly number[], classes: number) {
  const hits = new Array<number>(classes).fill(0);
  const totals = new Array<number>(classes).fill(0);
  for (let i = 0; i < gold.length; i++) {
    totals[gold[i]!]!++;
    if (gold[i] === predicted[i]) hits[gold[i]!]!++;
  }
  const perClass = hits.map((hit, c) => (totals[c]! > 0 ? hit / totals[c]! : 0));
  return { macro: perClass.reduce((a, b) => a + b, 0) / classes, perClass };
}

/** Mean F1 over classes, the metric TweetEval uses for emotion and offensive. */
export function macroF1(gold: readonly number[], predicted: readonly number[], classes: number): number {
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < gold.length; i++) {
      if (predicted[i] === c && gold[i] === c) tp++;
      else if (predicted[i] === c) fp++;
      else if (gold[i] === c) fn++;
    }
    sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return sum / classes;
}

const SENTIMENT_INDEX: Record<SupportExample['sentiment'], number> = { negative: 0, neutral: 1, positive: 2 };

function sentimentExamples(featurize: Featurize, gold: readonly LabelledText[], data: TrainingData) {
  const examples: TrainingExample[] = gold.map((row) => ({ x: featurize(row.text), label: row.label }));
  for (const row of data.support) {
    examples.push({ x: featurize(row.text), label: SENTIMENT_INDEX[row.sentiment] });
  }
  const counts = [0, 0, 0];
  for (const example of examples) counts[example.label]!++;
  // Balance on the gold labels only: the distant emotion labels would otherwise drown out neutral.
  const classWeights = counts.map((count) => examples.length / (3 * Math.max(count, 1)));
  for (const row of data.emotion) {
    examples.push({
      x: featurize(row.text),
      label: row.label === 0 || row.label === 3 ? 0 : 2,
      weight: HYPERPARAMETERS.emotionAsSentimentWeight,
    });
  }
  return { examples, classWeights };
}

/**
 * One sentiment model: trained on the labelled examples, then (self-training) again with the
 * unlabelled tweets its first version labels confidently. Only the data passed in is seen.
 */
function trainSentimentModel(featurize: Featurize, gold: readonly LabelledText[], data: TrainingData, seed: number) {
  const { examples, classWeights } = sentimentExamples(featurize, gold, data);
  const options = { ...HYPERPARAMETERS.sentiment, classWeights, seed };
  const { weight, minConfidence } = HYPERPARAMETERS.selfTraining;
  if (weight <= 0 || data.offensive.length === 0) {
    return trainLinearModel(SENTIMENT_LABELS, FEATURE_DIMS, examples, options);
  }
  const teacher = trainLinearModel(SENTIMENT_LABELS, FEATURE_DIMS, examples, { ...options, seed: seed + 8 });
  const probabilities = new Float64Array(SENTIMENT_LABELS.length);
  for (const row of data.offensive) {
    const x = featurize(row.text);
    predictProbabilities(teacher, x, probabilities);
    const label = argmax(probabilities);
    if (probabilities[label]! >= minConfidence) examples.push({ x, label, weight });
  }
  return trainLinearModel(SENTIMENT_LABELS, FEATURE_DIMS, examples, options);
}

/**
 * Trains the sentiment head on gold tweets plus the support set and distant emotion labels, with
 * self-training on unlabelled tweets, then picks the bias towards neutral that maximises macro
 * recall on a held-out fifth of the gold tweets (a model trained without that fifth decides).
 */
export function trainSentimentHead(
  featurize: Featurize,
  gold: readonly LabelledText[],
  data: TrainingData,
  seed = 1,
): LinearModel {
  const order = gold.map((_, i) => i);
  shuffle(order, seededRandom(seed + 100));
  const holdout = order.filter((_, i) => i % 5 === 0).map((i) => gold[i]!);
  const inner = order.filter((_, i) => i % 5 !== 0).map((i) => gold[i]!);
  const probe = trainSentimentModel(featurize, inner, data, seed);
  const holdoutProbabilities = holdout.map((row) => predictProbabilities(probe, featurize(row.text)));
  let bestBias = 0;
  let bestRecall = -1;
  for (const bias of HYPERPARAMETERS.neutralBiasGrid) {
    const predicted = holdoutProbabilities.map((p) => argmax([p[0]!, p[1]! * Math.exp(bias), p[2]!]));
    const { macro } = macroRecall(
      holdout.map((row) => row.label),
      predicted,
      3,
    );
    if (macro > bestRecall) {
      bestRecall = macro;
      bestBias = bias;
    }
  }
  const model = trainSentimentModel(featurize, gold, data, seed);
  model.bias[1]! += bestBias;
  return model;
}

export function trainEmotionHead(featurize: Featurize, rows: readonly LabelledText[], seed = 1): LinearModel {
  const examples = rows.map((row) => ({ x: featurize(row.text), label: row.label }));
  return trainLinearModel(EMOTIONS, FEATURE_DIMS, examples, {
    ...HYPERPARAMETERS.emotion,
    classWeights: balancedWeights(examples, EMOTIONS.length),
    seed,
  });
}

export function trainOffensiveHead(featurize: Featurize, rows: readonly LabelledText[], seed = 1): LinearModel {
  const examples = rows.map((row) => ({ x: featurize(row.text), label: row.label }));
  return trainLinearModel(OFFENSIVE_LABELS, FEATURE_DIMS, examples, {
    ...HYPERPARAMETERS.offensive,
    classWeights: balancedWeights(examples, 2),
    seed,
  });
}

export function trainCategoryHead(featurize: Featurize, rows: readonly SupportExample[], seed = 1): LinearModel {
  const examples = rows.map((row) => ({ x: featurize(row.text), label: CATEGORIES.indexOf(row.category) }));
  return trainLinearModel(CATEGORIES, FEATURE_DIMS, examples, {
    ...HYPERPARAMETERS.category,
    classWeights: balancedWeights(examples, CATEGORIES.length),
    seed,
  });
}

function balancedWeights(examples: readonly TrainingExample[], classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const example of examples) counts[example.label]!++;
  return counts.map((count) => examples.length / (classes * Math.max(count, 1)));
}

/** Splits indices 0…n-1 into k shuffled folds, the same folds for the same seed. */
export function kFolds(n: number, k: number, seed = 7): number[][] {
  const order = Array.from({ length: n }, (_, i) => i);
  shuffle(order, seededRandom(seed));
  const folds: number[][] = Array.from({ length: k }, () => []);
  for (const [i, index] of order.entries()) folds[i % k]!.push(index);
  return folds;
}

/**
 * Held-out sentiment figures: k-fold cross-validation over the gold tweets, each fold's model trained
 * without its test tweets (the support set, emotion tweets and unlabelled pool stay in every
 * training fold; the pool is labelled by a teacher trained on that fold alone).
 */
export function crossValidateSentiment(featurize: Featurize, data: TrainingData, k = 10, foldSeed = 7) {
  const gold: number[] = [];
  const predicted: number[] = [];
  for (const fold of kFolds(data.sentiment.length, k, foldSeed)) {
    const test = new Set(fold);
    const train = data.sentiment.filter((_, i) => !test.has(i));
    const model = trainSentimentHead(featurize, train, data);
    for (const i of fold) {
      const row = data.sentiment[i]!;
      gold.push(row.label);
      predicted.push(argmax(predictProbabilities(model, featurize(row.text))));
    }
  }
  return macroRecall(gold, predicted, 3);
}

/** Held-out category accuracy on the support set, by k-fold cross-validation. */
export function crossValidateCategory(featurize: Featurize, support: readonly SupportExample[], k = 5) {
  let correct = 0;
  const gold: number[] = [];
  const predicted: number[] = [];
  for (const fold of kFolds(support.length, k)) {
    const test = new Set(fold);
    const model = trainCategoryHead(
      featurize,
      support.filter((_, i) => !test.has(i)),
    );
    for (const i of fold) {
      const row = support[i]!;
      const guess = argmax(predictProbabilities(model, featurize(row.text)));
      gold.push(CATEGORIES.indexOf(row.category));
      predicted.push(guess);
      if (CATEGORIES[guess] === row.category) correct++;
    }
  }
  return { accuracy: correct / support.length, macroF1: macroF1(gold, predicted, CATEGORIES.length) };
}

/**
 * Held-out sentiment on the support set, by k-fold cross-validation over it: each fold's model
 * trains on every gold tweet and the other folds, so it shows what the customer-support register
 * keeps when the head is tuned for TweetEval.
 */
export function crossValidateSupportSentiment(featurize: Featurize, data: TrainingData, k = 5) {
  const gold: number[] = [];
  const predicted: number[] = [];
  for (const fold of kFolds(data.support.length, k)) {
    const test = new Set(fold);
    const model = trainSentimentHead(featurize, data.sentiment, {
      ...data,
      support: data.support.filter((_, i) => !test.has(i)),
    });
    for (const i of fold) {
      const row = data.support[i]!;
      gold.push(SENTIMENT_INDEX[row.sentiment]);
      predicted.push(argmax(predictProbabilities(model, featurize(row.text))));
    }
  }
  const accuracy = gold.filter((g, i) => g === predicted[i]).length / gold.length;
  return { accuracy, ...macroRecall(gold, predicted, 3) };
}
