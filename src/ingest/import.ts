import { createReadStream } from 'node:fs';
import { isAppError } from '../errors.js';
import type { IngestPipeline } from './pipeline.js';
import type { InboundItem } from './store-item.js';
import { webhookItemSchema, toInboundItem as webhookToInbound } from './webhook.js';

/**
 * Reads a CSV file record by record (RFC 4180: quoted fields may hold commas, quotes and newlines),
 * without loading the file into memory. The first record is the header.
 */
export async function* readCsv(path: string): AsyncGenerator<Record<string, string>> {
  let header: string[] | null = null;
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let afterQuote = false;
  const emit = function* () {
    record.push(field);
    field = '';
    const row = record;
    record = [];
    if (row.length === 1 && row[0] === '') return;
    if (!header) {
      header = row.map((name) => name.trim().replace(/^\uFEFF/, ''));
      return;
    }
    yield Object.fromEntries(header.map((name, i) => [name, row[i] ?? '']));
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const text = chunk as string;
    for (let i = 0; i < text.length; i += 1) {
      const char = text[i]!;
      if (quoted) {
        if (char === '"') {
          quoted = false;
          afterQuote = true;
        } else field += char;
        continue;
      }
      if (char === '"') {
        // A doubled quote inside a quoted field is a literal quote.
        if (afterQuote) field += '"';
        quoted = true;
        afterQuote = false;
        continue;
      }
      afterQuote = false;
      if (char === ',') {
        record.push(field);
        field = '';
      } else if (char === '\n') {
        yield* emit();
      } else if (char !== '\r') field += char;
    }
  }
  if (field !== '' || record.length > 0) yield* emit();
}

/** Reads a JSON-lines file: one object per line, blank lines skipped. */
export async function* readJsonLines(path: string): AsyncGenerator<{ line: number; value: unknown }> {
  let buffer = '';
  let line = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    buffer += chunk as string;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const text = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      line += 1;
      if (text) yield { line, value: parseOrError(text) };
      newline = buffer.indexOf('\n');
    }
  }
  line += 1;
  if (buffer.trim()) yield { line, value: parseOrError(buffer.trim()) };
}

function parseOrError(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return new Error(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The columns of the public customer-support-on-Twitter datasets. */
export interface SupportTweetRow {
  tweet_id: string;
  author_id: string;
  inbound: string;
  created_at: string;
  text: string;
  response_tweet_id?: string;
  in_response_to_tweet_id?: string;
}

/** Follows `in_response_to` links up to the first post of the thread (inbound or not) present in the file. */
export function conversationRoot(id: string, parents: ReadonlyMap<string, string>): string {
  let current = id;
  const seen = new Set<string>();
  for (;;) {
    const parent = parents.get(current);
    if (!parent || seen.has(parent)) return current;
    seen.add(current);
    current = parent;
  }
}

/** Ids as the datasets write them: pandas exports turn them into floats (`119237.0`). */
export function normalizeId(value: string | undefined): string {
  return (value ?? '').trim().replace(/\.0+$/, '');
}

/** `True`/`true`/`1`/`yes` count as inbound. */
function isInbound(value: string | undefined): boolean {
  return /^(true|1|yes)$/i.test((value ?? '').trim());
}

/**
 * How an import treats what it loads. `archive` (the default) stores history as history: an item
 * that was already answered, or is older than `afterDays`, lands on a closed ticket with no Slack
 * card and no SLA clock; only recent unanswered ones become live tickets. `live` makes every item a
 * live ticket, as if it had just arrived.
 */
export type ImportMode = { kind: 'archive'; afterDays: number; now: Date } | { kind: 'live' };

/** Unanswered items older than this many days are history by default. */
export const DEFAULT_ARCHIVE_DAYS = 7;

/** Whether an imported item is history: answered already (when the export says), or old. */
export function isHistory(mode: ImportMode, item: { createdAt: Date; answered: boolean }): boolean {
  if (mode.kind === 'live') return false;
  return item.answered || item.createdAt.getTime() < mode.now.getTime() - mode.afterDays * 86_400_000;
}

/** Turns one dataset row into an inbound item; outbound rows (the brand's own replies) give null. */
export function supportTweetToInbound(
  sourceId: number,
  row: SupportTweetRow,
  parents: ReadonlyMap<string, string>,
  mode: ImportMode = { kind: 'live' },
): InboundItem | null {
  if (!isInbound(row.inbound)) return null;
  const created = new Date(row.created_at);
  const id = normalizeId(row.tweet_id);
  const parent = normalizeId(row.in_response_to_tweet_id);
  const createdAt = Number.isNaN(created.getTime()) ? new Date() : created;
  return {
    sourceId,
    externalId: id,
    author: { externalId: row.author_id.trim(), handle: row.author_id.trim() },
    text: row.text,
    createdAt,
    conversationId: conversationRoot(id, parents),
    parentExternalId: parent || null,
    raw: row,
    archived: isHistory(mode, { createdAt, answered: Boolean(normalizeId(row.response_tweet_id)) }),
  };
}

/**
 * Why an import must not run as asked, or null. Importing into the live X source makes tickets
 * whose replies would be posted to real X posts, so that takes `--live` on purpose; and a name
 * that already belongs to a source of another kind is refused rather than mixed.
 */
export function importRefusal(input: {
  sourceName: string;
  kind: 'webhook' | 'x';
  existingKind: 'webhook' | 'x' | null;
  live: boolean;
  liveXSourceName: string;
}): string | null {
  if (input.existingKind && input.existingKind !== input.kind) {
    return `The source "${input.sourceName}" is a ${input.existingKind} source; pass --kind ${input.existingKind} or choose another name.`;
  }
  const kind = input.existingKind ?? input.kind;
  if (kind === 'x' && input.sourceName.toLowerCase() === input.liveXSourceName.toLowerCase() && !input.live) {
    return `"${input.sourceName}" is the live X source (X_SOURCE_NAME): replies to its tickets are posted on X. Import into another source name, or pass --live if these really are posts to answer.`;
  }
  return null;
}

export interface ImportSummary {
  /** Records read from the file. */
  read: number;
  /** Rows skipped by design (outbound replies in a support-tweets CSV). */
  skipped: number;
  stored: number;
  /** Of those stored, how many went in as history (closed, no card, no SLA clock). */
  archived: number;
  duplicates: number;
  invalid: number;
  /** The first few reasons rows were refused, for the summary. */
  errors: string[];
}

export type ImportProgress = (done: number, total: number, summary: ImportSummary) => void;

const MAX_REPORTED_ERRORS = 10;
/** Rows stored before the import waits for triage to catch up, so the queue stays bounded. */
const BACKPRESSURE_EVERY = 200;

/**
 * Imports an export through the ingest pipeline (the same durable receipt and triage queue as live
 * posts): a CSV of support tweets, or JSON lines in the webhook's documented body format. Idempotent:
 * items are keyed by (source, id), so a second run stores nothing new.
 */
export async function importFile(
  pipeline: IngestPipeline,
  input: { path: string; sourceId: number; mode?: ImportMode; onProgress?: ImportProgress },
): Promise<ImportSummary> {
  const mode = input.mode ?? { kind: 'archive', afterDays: DEFAULT_ARCHIVE_DAYS, now: new Date() };
  const summary: ImportSummary = {
    read: 0,
    skipped: 0,
    stored: 0,
    archived: 0,
    duplicates: 0,
    invalid: 0,
    errors: [],
  };
  const fail = (where: string, reason: string) => {
    summary.invalid += 1;
    if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push(`${where}: ${reason}`);
  };
  const receive = async (where: string, inbound: InboundItem) => {
    try {
      const stored = await pipeline.receive(inbound);
      if (stored.duplicate) summary.duplicates += 1;
      else {
        summary.stored += 1;
        if (stored.item.archived) summary.archived += 1;
      }
    } catch (err) {
      if (isAppError(err, 'invalid_input') || isAppError(err, 'payload_too_large')) fail(where, err.message);
      else throw err;
    }
    if ((summary.stored + summary.duplicates) % BACKPRESSURE_EVERY === 0) await pipeline.idle();
  };

  if (/\.csv$/i.test(input.path)) {
    // First pass: the reply links of every row, so threads group under their first post.
    const parents = new Map<string, string>();
    let total = 0;
    for await (const row of readCsv(input.path)) {
      const parent = normalizeId(row.in_response_to_tweet_id);
      if (row.tweet_id && parent) parents.set(normalizeId(row.tweet_id), parent);
      total += 1;
    }
    for await (const row of readCsv(input.path)) {
      summary.read += 1;
      const where = `row ${summary.read + 1}`;
      if (!row.tweet_id?.trim() || !row.author_id?.trim()) fail(where, 'tweet_id and author_id are required');
      else {
        const inbound = supportTweetToInbound(input.sourceId, row as unknown as SupportTweetRow, parents, mode);
        if (inbound) await receive(where, inbound);
        else summary.skipped += 1;
      }
      input.onProgress?.(summary.read, total, summary);
    }
    return summary;
  }

  let total = 0;
  for await (const _ of readJsonLines(input.path)) total += 1;
  for await (const { line, value } of readJsonLines(input.path)) {
    summary.read += 1;
    const where = `line ${line}`;
    if (value instanceof Error) fail(where, value.message);
    else {
      const parsed = webhookItemSchema.safeParse(value);
      if (!parsed.success) {
        fail(where, parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
      } else {
        const inbound = webhookToInbound(input.sourceId, parsed.data, new Date());
        await receive(where, {
          ...inbound,
          archived: isHistory(mode, { createdAt: inbound.createdAt, answered: false }),
        });
      }
    }
    input.onProgress?.(summary.read, total, summary);
  }
  return summary;
}
