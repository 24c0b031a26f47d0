import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CATEGORIES } from '../../tickets/types.js';
import { URGENCY_SIGNALS } from '../types.js';

/** The repository root, found from this file. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** TweetEval and friends live in the shared folder beside the repository (see shared/data/README.md). */
export const DEFAULT_DATA_DIR = join(REPO_ROOT, '..', 'shared', 'data');

/** The customer-support examples written for Earshot (see data/README.md beside it). */
export const SUPPORT_SET_PATH = fileURLToPath(new URL('./data/support.jsonl', import.meta.url));

/** Sentiment labels annotated for Earshot on the texts of TweetEval offensive train (see data/README.md). */
export const ANNOTATED_POOL_PATH = fileURLToPath(new URL('./data/offensive-train-sentiment.tsv', import.meta.url));

export interface LabelledText {
  text: string;
  label: number;
}

export type TweetEvalTask = 'sentiment' | 'emotion' | 'offensive';

/** Reads one TweetEval split: `<split>_text.txt` and `<split>_labels.txt`, one tweet per line. */
export function loadTweetEval(dataDir: string, task: TweetEvalTask, split: 'train' | 'val' | 'test'): LabelledText[] {
  const dir = join(dataDir, 'tweeteval', task);
  const textPath = join(dir, `${split}_text.txt`);
  if (!existsSync(textPath)) return [];
  const texts = readFileSync(textPath, 'utf8').split('\n');
  const labels = readFileSync(join(dir, `${split}_labels.txt`), 'utf8').split('\n');
  const rows: LabelledText[] = [];
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!.trim();
    if (label === '') continue;
    rows.push({ text: (texts[i] ?? '').trim(), label: Number(label) });
  }
  return rows;
}

const supportExampleSchema = z.object({
  text: z.string().min(1),
  category: z.enum(CATEGORIES),
  sentiment: z.enum(['negative', 'neutral', 'positive']),
  language: z.string().default('en'),
  spam: z.boolean().default(false),
  urgency: z.array(z.enum(URGENCY_SIGNALS)).default([]),
});
export type SupportExample = z.infer<typeof supportExampleSchema>;

/** Reads the labelled customer-support set, failing on the line that does not fit the schema. */
export function loadSupportSet(path = SUPPORT_SET_PATH): SupportExample[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, index) => ({ line: line.trim(), index }))
    .filter(({ line }) => line !== '' && !line.startsWith('//'))
    .map(({ line, index }) => {
      const parsed = supportExampleSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path}:${index + 1}: ${parsed.error.message}`);
      return parsed.data;
    });
}

/**
 * Joins the annotated sentiment labels (`<line index>\t<label>`, one per line) with the texts they
 * label, by line: the texts stay in the shared folder, only the labels live in the repository.
 */
export function loadAnnotatedPool(texts: readonly LabelledText[], path = ANNOTATED_POOL_PATH): LabelledText[] {
  // A data folder without the texts trains without them, as a missing TweetEval split does.
  if (texts.length === 0 || !existsSync(path)) return [];
  const rows: LabelledText[] = [];
  for (const [n, line] of readFileSync(path, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    const match = /^(\d+)\t([012])$/.exec(line.trim());
    const row = match ? texts[Number(match[1])] : undefined;
    if (!match || !row)
      throw new Error(`${path}:${n + 1}: expected "<line index>\t<0|1|2>" for one of ${texts.length} texts`);
    rows.push({ text: row.text, label: Number(match[2]) });
  }
  return rows;
}

/** What the embedded heads train on: the gold tweets, the support set, and the sentiment head's extra data. */
export interface TrainingData {
  sentiment: LabelledText[];
  emotion: LabelledText[];
  /** Trains the offensive head. */
  offensive: LabelledText[];
  /** The offensive train texts with the sentiment labels annotated for Earshot. */
  annotated: LabelledText[];
  support: SupportExample[];
}

/** The training data as `npm run eval`, the trainer and the bench all read it. */
export function loadTrainingData(dataDir: string): TrainingData {
  const offensive = loadTweetEval(dataDir, 'offensive', 'train');
  return {
    sentiment: loadTweetEval(dataDir, 'sentiment', 'val'),
    emotion: loadTweetEval(dataDir, 'emotion', 'train'),
    offensive,
    annotated: loadAnnotatedPool(offensive),
    support: loadSupportSet(),
  };
}
