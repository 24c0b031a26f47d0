import { ETwitterStreamEvent, type TweetStream, type TwitterApi } from 'twitter-api-v2';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import { advanceCursor, getSource } from '../../sources/sources.js';
import type { IngestPipeline } from '../pipeline.js';
import { type BackoffPolicy, backoffDelay, classifyFailure, type FailureKind, X_BACKOFF } from './backoff.js';
import { createLeaseKeeper } from './lease.js';
import { compareIds, maxId, toInboundItem, X_POST_FIELDS, type XIncludes, type XPost } from './posts.js';
import { listStreamRules, syncStreamRules } from './rules.js';

/** Every wait in X ingestion, injectable so tests run in milliseconds. */
export interface XTimings {
  backoff: BackoffPolicy;
  /** Silence after which the stream counts as dead; X sends a keep-alive every 20 s. */
  keepAliveTimeoutMs: number;
  leaseTtlMs: number;
  leaseRenewMs: number;
  pollIntervalMs: number;
}

export const X_TIMINGS: XTimings = {
  backoff: X_BACKOFF,
  keepAliveTimeoutMs: 30_000,
  leaseTtlMs: 30_000,
  leaseRenewMs: 10_000,
  pollIntervalMs: 60_000,
};

export interface XIngestOptions {
  db: Database;
  logger: Logger;
  /** The app-only (bearer) client. */
  client: TwitterApi;
  pipeline: IngestPipeline;
  sourceId: number;
  mode: 'stream' | 'poll';
  /** This replica's name in the lease table. */
  holder: string;
  /** Our own X account: its posts are never ingested, and polling reads its mentions. */
  accountId?: string | null;
  timings?: Partial<XTimings>;
  /** Longest recent-search query; X allows 512 characters on Basic and Pro, 4,096 on Enterprise. */
  maxQueryLength?: number;
  /** Pages read per query in one backfill or poll (100 posts each). */
  maxPages?: number;
}

export interface XIngestStatus {
  leader: boolean;
  connected: boolean;
  connects: number;
  /** Keep-alive heartbeats received from X. */
  keepAlives: number;
  backfills: number;
  polls: number;
}

export interface XIngest {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): XIngestStatus;
  /** Runs one poll now (polling mode); also what the schedule calls. */
  pollOnce(): Promise<number>;
}

/**
 * Packs monitoring rules into as few recent-search queries as fit: `(rule a) OR (rule b)`.
 * A rule longer than the limit on its own is left out (it cannot be searched).
 */
export function packQueries(values: readonly string[], maxLength: number): string[] {
  const queries: string[] = [];
  let current = '';
  for (const value of values) {
    const part = `(${value})`;
    if (part.length > maxLength) continue;
    const joined = current ? `${current} OR ${part}` : part;
    if (joined.length <= maxLength) current = joined;
    else {
      queries.push(current);
      current = part;
    }
  }
  if (current) queries.push(current);
  return queries;
}

interface Page {
  data?: XPost[];
  includes?: XIncludes;
  meta?: { next_token?: string; newest_id?: string };
}

/**
 * X ingestion for one source, on the one replica that holds its lease: the filtered stream with
 * X's reconnect backoff, a keep-alive watchdog and a recent-search backfill after every
 * (re)connect, or polling of mentions and recent search on a schedule. Both move the same cursor
 * (`sources.cursor`), and the items' unique key makes any overlap harmless.
 */
export function createXIngest(options: XIngestOptions): XIngest {
  const { db, client, pipeline, sourceId } = options;
  const timings = { ...X_TIMINGS, ...options.timings };
  const log = options.logger.child({ component: 'x-ingest', mode: options.mode, sourceId });
  const maxQueryLength = options.maxQueryLength ?? 512;
  const maxPages = options.maxPages ?? 10;
  const status: XIngestStatus = { leader: false, connected: false, connects: 0, keepAlives: 0, backfills: 0, polls: 0 };

  // Leadership run: everything started under the lease stops when it is lost.
  let run: { stopped: boolean; wake: () => void; done: Promise<void> } | null = null;

  // Cursor discipline: while a gap (a disconnect, a restart) has not been backfilled, stream posts
  // must not move the cursor past it; the highest one seen waits in `pendingMax`.
  let gapOpen = true;
  let gapGeneration = 0;
  let pendingMax: string | null = null;
  let backfilling: Promise<void> | null = null;
  let backfillAgain = false;
  let postChain: Promise<void> = Promise.resolve();

  const isOwn = (post: XPost) => Boolean(options.accountId && post.author_id === options.accountId);

  async function receivePost(post: XPost, includes: XIncludes | undefined): Promise<boolean> {
    if (isOwn(post)) return false;
    const stored = await pipeline.receive(toInboundItem(sourceId, post, includes, new Date()));
    return !stored.duplicate;
  }

  async function fetchAll(
    path: string,
    params: Record<string, string | number | readonly string[]>,
    pages: number,
  ): Promise<{ posts: XPost[]; includes: XIncludes }> {
    const posts: XPost[] = [];
    const users: NonNullable<XIncludes['users']> = [];
    let nextToken: string | undefined;
    for (let page = 0; page < pages; page += 1) {
      const query: Record<string, string | number> = {};
      for (const [key, value] of Object.entries({ ...X_POST_FIELDS, ...params })) {
        query[key] = Array.isArray(value) ? value.join(',') : (value as unknown as string | number);
      }
      if (nextToken) query[path.includes('mentions') ? 'pagination_token' : 'next_token'] = nextToken;
      const result = (await client.v2.get(path, query)) as Page;
      posts.push(...(result.data ?? []));
      users.push(...(result.includes?.users ?? []));
      nextToken = result.meta?.next_token;
      if (!nextToken) break;
    }
    return { posts, includes: { users } };
  }

  /** Reads everything newer than `since` that the rules (and, when polling, the mentions) match, oldest first. */
  async function readSince(since: string | null, withMentions: boolean) {
    const rules = await listStreamRules(db, sourceId);
    const queries = packQueries(
      rules.map((r) => r.value),
      maxQueryLength,
    );
    const found = new Map<string, { post: XPost; includes: XIncludes }>();
    const sinceParams: Record<string, string> = since ? { since_id: since } : {};
    // Without a cursor (the very first run) only the latest page is read, not X's whole week.
    const pages = since ? maxPages : 1;
    for (const query of queries) {
      const { posts, includes } = await fetchAll(
        'tweets/search/recent',
        {
          query,
          max_results: 100,
          sort_order: 'recency',
          ...sinceParams,
        },
        pages,
      );
      for (const post of posts) found.set(post.id, { post, includes });
    }
    if (withMentions && options.accountId) {
      const { posts, includes } = await fetchAll(
        `users/${options.accountId}/mentions`,
        {
          max_results: 100,
          ...sinceParams,
        },
        pages,
      );
      for (const post of posts) found.set(post.id, { post, includes });
    }
    return [...found.values()].sort((a, b) => compareIds(a.post.id, b.post.id));
  }

  async function backfillOnce(): Promise<void> {
    const generation = gapGeneration;
    const source = await getSource(db, sourceId);
    const since = source?.cursor ?? null;
    let newest: string | null = null;
    let stored = 0;
    if (since) {
      for (const { post, includes } of await readSince(since, false)) {
        if (await receivePost(post, includes)) stored += 1;
        newest = maxId([post.id], newest);
      }
    }
    status.backfills += 1;
    if (generation !== gapGeneration) {
      // Another gap opened while we read; the next backfill starts from the same cursor.
      pendingMax = maxId(newest ? [newest] : [], pendingMax);
      backfillAgain = true;
      return;
    }
    const target = maxId(newest ? [newest] : [], pendingMax);
    if (target) await advanceCursor(db, sourceId, target);
    gapOpen = false;
    pendingMax = null;
    log.info({ since, stored, cursor: target ?? since }, 'backfill done');
  }

  function requestBackfill(current: NonNullable<typeof run>): void {
    if (backfilling) {
      backfillAgain = true;
      return;
    }
    backfilling = (async () => {
      let attempt = 0;
      do {
        backfillAgain = false;
        try {
          await backfillOnce();
          attempt = 0;
        } catch (err) {
          const kind = classifyFailure(err);
          attempt += 1;
          log.warn({ err, kind, attempt }, 'backfill failed; retrying');
          backfillAgain = true;
          await sleep(current, backoffDelay(timings.backoff, kind, attempt));
        }
      } while (backfillAgain && !current.stopped);
    })().finally(() => {
      backfilling = null;
    });
  }

  async function handleStreamPayload(payload: { data?: XPost; includes?: XIncludes }): Promise<void> {
    const post = payload.data;
    if (!post?.id) return;
    await receivePost(post, payload.includes);
    if (gapOpen) pendingMax = maxId([post.id], pendingMax);
    else await advanceCursor(db, sourceId, post.id);
  }

  async function streamLoop(current: NonNullable<typeof run>): Promise<void> {
    try {
      const synced = await syncStreamRules(db, client, sourceId);
      if (synced.added || synced.deleted || synced.refused.length) log.info(synced, 'stream rules synced with X');
    } catch (err) {
      log.warn({ err }, 'could not sync stream rules with X; the stream uses the rules X has');
    }
    const attempts: Record<FailureKind, number> = { network: 0, http: 0, rate_limit: 0 };
    while (!current.stopped) {
      let kind: FailureKind = 'network';
      let stream: TweetStream | undefined;
      try {
        stream = client.v2.searchStream({
          expansions: [...X_POST_FIELDS.expansions],
          'tweet.fields': [...X_POST_FIELDS['tweet.fields']],
          'user.fields': [...X_POST_FIELDS['user.fields']],
          autoConnect: false,
        }) as TweetStream;
        const closed = new Promise<void>((resolve) => {
          stream!.on(ETwitterStreamEvent.ConnectionClosed, () => resolve());
          current.wake = () => {
            stream!.close();
            resolve();
          };
        });
        stream.on(ETwitterStreamEvent.Data, (payload: { data?: XPost; includes?: XIncludes }) => {
          postChain = postChain
            .then(() => handleStreamPayload(payload))
            .catch((err: unknown) => log.error({ err, postId: payload.data?.id }, 'storing a streamed post failed'));
        });
        stream.on(ETwitterStreamEvent.DataKeepAlive, () => {
          status.keepAlives += 1;
        });
        stream.on(ETwitterStreamEvent.ConnectionLost, () =>
          log.warn({ silenceMs: timings.keepAliveTimeoutMs }, 'no keep-alive from X; reconnecting'),
        );
        await stream.connect({ autoReconnect: false, keepAliveTimeout: timings.keepAliveTimeoutMs });
        if (current.stopped) {
          stream.close();
          break;
        }
        attempts.network = 0;
        attempts.http = 0;
        attempts.rate_limit = 0;
        status.connected = true;
        status.connects += 1;
        log.info({ connects: status.connects }, 'stream connected');
        requestBackfill(current);
        await closed;
        status.connected = false;
        gapOpen = true;
        gapGeneration += 1;
        if (current.stopped) break;
        log.warn('stream disconnected');
      } catch (err) {
        status.connected = false;
        kind = classifyFailure(err);
        const rateLimit = (err as { rateLimit?: { reset?: number } }).rateLimit;
        log.warn({ err, kind, resetAt: rateLimit?.reset }, 'stream connect failed');
      }
      attempts[kind] += 1;
      const delay = backoffDelay(timings.backoff, kind, attempts[kind]);
      await sleep(current, delay);
    }
  }

  async function pollOnce(): Promise<number> {
    const source = await getSource(db, sourceId);
    const since = source?.cursor ?? null;
    const posts = await readSince(since, true);
    let stored = 0;
    for (const { post, includes } of posts) if (await receivePost(post, includes)) stored += 1;
    const newest = maxId(posts.map((p) => p.post.id));
    if (newest) await advanceCursor(db, sourceId, newest);
    status.polls += 1;
    if (stored > 0) log.info({ stored, cursor: newest }, 'poll stored new posts');
    return stored;
  }

  async function pollLoop(current: NonNullable<typeof run>): Promise<void> {
    let attempt = 0;
    while (!current.stopped) {
      let delay = timings.pollIntervalMs;
      try {
        await pollOnce();
        attempt = 0;
      } catch (err) {
        attempt += 1;
        const kind = classifyFailure(err);
        delay = Math.max(delay, backoffDelay(timings.backoff, kind, attempt));
        log.warn({ err, kind, attempt }, 'poll failed');
      }
      await sleep(current, delay);
    }
  }

  const lease = createLeaseKeeper({
    db,
    name: `x-ingest:${sourceId}`,
    holder: options.holder,
    ttlMs: timings.leaseTtlMs,
    renewEveryMs: timings.leaseRenewMs,
    onAcquired: () => {
      status.leader = true;
      gapOpen = true;
      gapGeneration += 1;
      log.info('this replica now runs X ingestion');
      const current = { stopped: false, wake: () => {}, done: Promise.resolve() };
      current.done = (options.mode === 'stream' ? streamLoop(current) : pollLoop(current)).catch((err: unknown) =>
        log.error({ err }, 'X ingestion loop failed'),
      );
      run = current;
    },
    onLost: async () => {
      status.leader = false;
      const current = run;
      run = null;
      if (!current) return;
      current.stopped = true;
      current.wake();
      await current.done;
      await backfilling?.catch(() => {});
      await postChain;
      log.info('this replica no longer runs X ingestion');
    },
    onError: (err) => log.error({ err }, 'X ingestion lease check failed'),
  });

  return {
    start: async () => {
      await lease.start();
    },
    stop: () => lease.stop(),
    status: () => ({ ...status }),
    pollOnce,
  };
}

/** Waits, unless the run stops first. */
function sleep(current: { stopped: boolean; wake: () => void }, ms: number): Promise<void> {
  if (current.stopped) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const previous = current.wake;
    function done() {
      clearTimeout(timer);
      current.wake = previous;
      resolve();
    }
    current.wake = () => {
      previous();
      done();
    };
  });
}
