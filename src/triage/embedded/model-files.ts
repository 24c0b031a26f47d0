import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATEGORIES } from '../../tickets/types.js';
import { EMOTIONS } from '../types.js';
import type { FeatureOptions } from './features.js';
import type { Lexicons } from './lexicon.js';
import { deserializeLinearModel, type LinearModel, serializeLinearModel } from './linear-model.js';
import { loadOpinionWords } from './opinion-words.js';
import { OFFENSIVE_LABELS, SENTIMENT_LABELS } from './training.js';

/** Where the trained weights ship, inside the repository, so the app loads them without a network. */
export const MODEL_DIR = fileURLToPath(new URL('./model/', import.meta.url));

/** Everything the embedded classifier needs at run time, as the trainer wrote it. */
export interface EmbeddedModel {
  version: string;
  features: FeatureOptions;
  lexicons: Lexicons;
  sentiment: LinearModel;
  emotion: LinearModel;
  offensive: LinearModel;
  category: LinearModel;
}

interface Manifest {
  version: string;
  trainedAt: string;
  features: FeatureOptions;
  metrics: Record<string, unknown>;
}

const HEADS = ['sentiment', 'emotion', 'offensive', 'category'] as const;
const EXPECTED_LABELS: Record<(typeof HEADS)[number], readonly string[]> = {
  sentiment: SENTIMENT_LABELS,
  emotion: EMOTIONS,
  offensive: OFFENSIVE_LABELS,
  category: CATEGORIES,
};

/** Reads the shipped model; throws naming the file when one is missing or was trained for other labels. */
export function loadEmbeddedModel(dir = MODEL_DIR): EmbeddedModel {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const lexiconEntries = JSON.parse(readFileSync(join(dir, 'lexicon.json'), 'utf8')) as Record<string, number>;
  const heads = Object.fromEntries(
    HEADS.map((head) => {
      const model = deserializeLinearModel(readFileSync(join(dir, `${head}.model.gz`)));
      if (model.labels.join(',') !== EXPECTED_LABELS[head].join(',')) {
        throw new Error(
          `${join(dir, `${head}.model.gz`)} has labels ${model.labels.join(',')}; retrain the classifier`,
        );
      }
      return [head, model];
    }),
  ) as Record<(typeof HEADS)[number], LinearModel>;
  return {
    version: manifest.version,
    features: manifest.features,
    lexicons: { valence: new Map(Object.entries(lexiconEntries)), opinion: loadOpinionWords() },
    ...heads,
  };
}

/** Writes the model files the loader reads, with the metrics measured while training. */
export function writeEmbeddedModel(dir: string, model: EmbeddedModel, metrics: Record<string, unknown>): void {
  const manifest: Manifest = {
    version: model.version,
    trainedAt: new Date().toISOString(),
    features: model.features,
    metrics,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const sorted = Object.fromEntries(
    [...model.lexicons.valence.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  writeFileSync(join(dir, 'lexicon.json'), JSON.stringify(sorted));
  for (const head of HEADS) writeFileSync(join(dir, `${head}.model.gz`), serializeLinearModel(model[head]));
}
