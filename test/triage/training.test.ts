import { describe, expect, it } from 'vitest';
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
});
