import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATED_POOL_PATH,
  DEFAULT_DATA_DIR,
  loadAnnotatedPool,
  loadTweetEval,
} from '../../src/triage/embedded/datasets.js';
import { kFolds, macroRecall } from '../../src/triage/embedded/training.js';

describe('embedded training helpers', () => {
  it('splits indices into k folds that cover each index once, the same folds for the same seed', () => {
    const folds = kFolds(103, 10, 21);
    expect(folds).toHaveLength(10);
    expect(folds.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(Math.min(...folds.map((f) => f.length))).toBe(10);
    expect(kFolds(103, 10, 21)).toEqual(folds);
    // Another seed is another split: `npm run eval -- --fold-seeds 7,21,33` relies on it.
    expect(kFolds(103, 10, 33)).not.toEqual(folds);
  });

  it('scores macro recall as the mean of per-class recall, as TweetEval does', () => {
    const { macro, perClass } = macroRecall([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 0], 3);
    expect(perClass).toEqual([0.5, 1, 0]);
    expect(macro).toBeCloseTo(0.5);
  });

  const texts = [
    { text: 'first tweet', label: 0 },
    { text: 'second tweet', label: 1 },
    { text: 'third tweet', label: 0 },
  ];
  const writeLabels = (content: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'earshot-annotated-')), 'labels.tsv');
    writeFileSync(path, content);
    return path;
  };

  it('joins annotated labels with the texts they label, by line index', () => {
    const rows = loadAnnotatedPool(texts, writeLabels('2\t2\n0\t1\n\n'));
    expect(rows).toEqual([
      { text: 'third tweet', label: 2 },
      { text: 'first tweet', label: 1 },
    ]);
  });

  it('names the line of an annotation that does not fit, rather than training on it', () => {
    expect(() => loadAnnotatedPool(texts, writeLabels('0\t1\n1\t3\n'))).toThrow(/labels\.tsv:2: expected/);
    expect(() => loadAnnotatedPool(texts, writeLabels('7\t0\n'))).toThrow(/:1: .*one of 3 texts/);
    expect(loadAnnotatedPool(texts, join(tmpdir(), 'no-such-earshot-labels.tsv'))).toEqual([]);
    // A data folder without the offensive split trains without the annotations, as without the split.
    expect(loadAnnotatedPool([], writeLabels('0\t1\n'))).toEqual([]);
  });

  const offensiveTrain = loadTweetEval(DEFAULT_DATA_DIR, 'offensive', 'train');
  it.skipIf(offensiveTrain.length === 0)('ships one annotation for every text of TweetEval offensive train', () => {
    const rows = loadAnnotatedPool(offensiveTrain);
    expect(rows).toHaveLength(offensiveTrain.length);
    const indexes = readFileSync(ANNOTATED_POOL_PATH, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('\t')[0]);
    expect(new Set(indexes).size).toBe(offensiveTrain.length);
    const counts = [0, 1, 2].map((label) => rows.filter((row) => row.label === label).length);
    // Every class is present in numbers: the head balances each class within the set.
    expect(Math.min(...counts)).toBeGreaterThan(1000);
  });
});
