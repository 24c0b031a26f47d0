import { gunzipSync, gzipSync } from 'node:zlib';

/** A sparse feature vector: hashed indices and their values, same length. */
export interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

/**
 * A multinomial logistic regression over hashed features. Weights are laid out feature-major
 * (`weights[index * classes + k]`) so one feature's classes sit side by side in memory.
 */
export interface LinearModel {
  labels: readonly string[];
  dims: number;
  weights: Float32Array;
  bias: Float32Array;
}

export interface TrainOptions {
  epochs: number;
  learningRate: number;
  l2: number;
  /** Per-class weights that undo class imbalance; 1 by default. */
  classWeights?: number[];
  seed?: number;
}

export interface TrainingExample {
  x: SparseVector;
  label: number;
  /** How much this example counts (distant labels count less than gold ones). */
  weight?: number;
}

/** Class probabilities, softmax over the linear scores. */
export function predictProbabilities(model: LinearModel, x: SparseVector, out?: Float64Array): Float64Array {
  const k = model.labels.length;
  const scores = out ?? new Float64Array(k);
  for (let c = 0; c < k; c++) scores[c] = model.bias[c]!;
  const { indices, values } = x;
  const w = model.weights;
  for (let i = 0; i < indices.length; i++) {
    const base = indices[i]! * k;
    const v = values[i]!;
    for (let c = 0; c < k; c++) scores[c]! += w[base + c]! * v;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) if (scores[c]! > max) max = scores[c]!;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(scores[c]! - max);
    scores[c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) scores[c]! /= sum;
  return scores;
}

/** Trains with AdaGrad SGD and L2 applied to the weights each example touches. Deterministic for a seed. */
export function trainLinearModel(
  labels: readonly string[],
  dims: number,
  examples: readonly TrainingExample[],
  options: TrainOptions,
): LinearModel {
  const k = labels.length;
  const model: LinearModel = { labels, dims, weights: new Float32Array(dims * k), bias: new Float32Array(k) };
  const accum = new Float32Array(dims * k).fill(1e-6);
  const biasAccum = new Float32Array(k).fill(1e-6);
  const order = examples.map((_, i) => i);
  const random = seededRandom(options.seed ?? 1);
  const probs = new Float64Array(k);
  const grad = new Float64Array(k);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    for (const i of order) {
      const example = examples[i]!;
      predictProbabilities(model, example.x, probs);
      const scale = (example.weight ?? 1) * (options.classWeights?.[example.label] ?? 1);
      for (let c = 0; c < k; c++) grad[c] = (probs[c]! - (c === example.label ? 1 : 0)) * scale;
      const { indices, values } = example.x;
      for (let j = 0; j < indices.length; j++) {
        const base = indices[j]! * k;
        const v = values[j]!;
        for (let c = 0; c < k; c++) {
          const at = base + c;
          const g = grad[c]! * v + options.l2 * model.weights[at]!;
          accum[at]! += g * g;
          model.weights[at]! -= (options.learningRate * g) / Math.sqrt(accum[at]!);
        }
      }
      for (let c = 0; c < k; c++) {
        const g = grad[c]!;
        biasAccum[c]! += g * g;
        model.bias[c]! -= (options.learningRate * g) / Math.sqrt(biasAccum[c]!);
      }
    }
  }
  return model;
}

const MAGIC = 'ESLM1';

/**
 * Writes a model as gzip of a JSON header and int16 weights: hashed weight tables are mostly zeros,
 * so the file stays small, and int16 keeps the small weights that int8 would round away.
 */
export function serializeLinearModel(model: LinearModel): Buffer {
  let max = 0;
  for (const w of model.weights) if (Math.abs(w) > max) max = Math.abs(w);
  const scale = max > 0 ? max / 32767 : 1;
  const quantized = new Int16Array(model.weights.length);
  for (let i = 0; i < model.weights.length; i++) quantized[i] = Math.round(model.weights[i]! / scale);
  const header = Buffer.from(
    JSON.stringify({ magic: MAGIC, labels: model.labels, dims: model.dims, scale, bias: Array.from(model.bias) }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return gzipSync(Buffer.concat([length, header, Buffer.from(quantized.buffer)]), { level: 9 });
}

export function deserializeLinearModel(file: Buffer): LinearModel {
  const raw = gunzipSync(file);
  const headerLength = raw.readUInt32LE(0);
  const header = JSON.parse(raw.subarray(4, 4 + headerLength).toString('utf8')) as {
    magic: string;
    labels: string[];
    dims: number;
    scale: number;
    bias: number[];
  };
  if (header.magic !== MAGIC) throw new Error('not an Earshot linear model file');
  const body = raw.subarray(4 + headerLength);
  const aligned = new Int16Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  const weights = new Float32Array(aligned.length);
  for (let i = 0; i < aligned.length; i++) weights[i] = aligned[i]! * header.scale;
  return { labels: header.labels, dims: header.dims, weights, bias: Float32Array.from(header.bias) };
}

/** mulberry32: a tiny seeded generator, so training runs repeat exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
