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

/** What the embedded heads train on: the gold tweets, the support set, and the sentiment head's distant data. */
export interface TrainingData {
  sentiment: LabelledText[];
  emotion: LabelledText[];
  /** Trains the offensive head; its texts are also the sentiment head's unlabelled pool for self-training. */
  offensive: LabelledText[];
  support: SupportExample[];
}

/** The training data as `npm run eval`, the trainer and the bench all read it. */
export function loadTrainingData(dataDir: string): TrainingData {
  return {
    sentiment: loadTweetEval(dataDir, 'sentiment', 'val'),
    emotion: loadTweetEval(dataDir, 'emotion', 'train'),
    offensive: loadTweetEval(dataDir, 'offensive', 'train'),
    support: loadSupportSet(),
  };
}
