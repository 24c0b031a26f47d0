import { sql } from 'drizzle-orm';
import { ETwitterStreamEvent, type TweetStream, type TwitterApi } from 'twitter-api-v2';
import { type Database, rowsOf } from '../../db/database.js';
import { outbox } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { escapeMrkdwn, truncate } from '../../slack/mrkdwn.js';
import { advanceCursor, getSource } from '../../sources/sources.js';
import { createCoalescer } from '../coalesce.js';
import type { IngestPipeline } from '../pipeline.js';
import { type BackoffPolicy, backoffDelay, classifyFailure, type FailureKind, X_BACKOFF } from './backoff.js';
import { createLeaseKeeper } from './lease.js';
import { compareIds, maxId, toInboundItem, X_POST_FIELDS, type XIncludes, type XPost } from './posts.js';
import { classifySearchRefusal, idAt, idTime, isNotEnrolled } from './refusals.js';
import { listStreamRules, ownedRuleIds, type StreamRule, syncStreamRules } from './rules.js';
import { SEARCH_WINDOW_MS } from './search-window.js';

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

/** How far inside X's 7-day window a time-based fallback starts, so the request is not refused on arrival. */
const WINDOW_MARGIN_MS = 10 * 60_000;
/** Stream posts whose store failed, kept in memory for a retry; beyond this the backfill alone recovers them. */
const MAX_HELD_POSTS = 1_000;
/** How far before its first connection a fresh source's cursor is anchored (clock skew with X). */
const ANCHOR_MARGIN_MS = 1_000;
/** How long the rules read for tagging streamed posts are trusted before they are read again. */
const RULE_CACHE_MS = 60_000;
/** A failed look-up of our account (users/me) is tried again after this long, not on every post. */
const ACCOUNT_RETRY_MS = 60_000;

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
  /** Our own X account when configuration names it: its posts are never ingested, and polling reads its mentions. */
  accountId?: string | null;
  /** Finds our account when configuration does not name it (`users/me` on the user-context client). */
  resolveAccountId?: () => Promise<string | null>;
  /** Slack channel told when ingestion cannot be complete (a gap beyond X's window, a refused rule). */
  alertChannel?: string | null;
  timings?: Partial<XTimings>;
  /** Longest recent-search query; X allows 512 characters on Basic and Pro, 4,096 on Enterprise. */
  maxQueryLength?: number;
  /** Pages read per query in one round of a backfill or one poll; a bigger gap is read over several. */
  maxPages?: number;
  /** Posts per page (`max_results`, 10–100). */
  pageSize?: number;
  /** Stream reconnects by reason and X's 429s; null records nothing. */
  metrics?: Metrics | null;
}

export interface XIngestStatus {
  leader: boolean;
  connected: boolean;
  connects: number;
  /** Keep-alive heartbeats received from X. */
  keepAlives: number;
  backfills: number;
  polls: number;
  /** Streamed posts whose store failed and that wait for a retry. */
  held: number;
  /** Searches that fell back to X's 7-day window because the cursor was older. */
  windowFallbacks: number;
  /** Rules whose search X refused, skipped so the rest go on. */
  skippedRules: number;
}

export interface XIngest {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): XIngestStatus;
  /** Runs one poll now (polling mode); also what the schedule calls. */
  pollOnce(): Promise<number>;
}

interface Page {
  data?: XPost[];
  includes?: XIncludes;
  meta?: { next_token?: string; newest_id?: string };
}

interface StreamPayload {
  data?: XPost;
  includes?: XIncludes;
  matching_rules?: { id: string; tag?: string }[];
}

/** One search Earshot runs: a monitoring rule (its tag goes on what it finds) or our mentions. */
interface QueryPlan {
  key: string;
  path: string;
  params: Record<string, string | number>;
  tags: string[];
  rule?: StreamRule;
}

/** Where one query of a sweep has got to. X returns newest first, so each round reads further back. */
interface QueryState {
  /** Read only posts older than this one (the oldest a previous round stored). */
  untilId: string | null;
  /** Set once X refused the cursor as outside its window: the query reads by time from here. */
  startTime: string | null;
  endTime: string | null;
}

/**
 * Reading everything after one cursor value, over as many rounds as it takes. The cursor only
 * moves once the sweep is complete, so a crash or a rate limit mid-sweep loses nothing.
 */
interface Sweep {
  since: string | null;
  newest: string | null;
  done: Set<string>;
  states: Map<string, QueryState>;
}

interface Found {
  post: XPost;
  includes: XIncludes | undefined;
  tags: Set<string>;
}

/**
 * X ingestion for one source, on the one replica that holds its lease: the filtered stream with
 * X's reconnect backoff, a keep-alive watchdog and a recent-search backfill after every
 * (re)connect, or polling of mentions and recent search on a schedule. Both move the same cursor
 * (`sources.cursor`), which never passes a post that was not stored: a gap, a failed store or a
 * sweep cut short by X's limits holds it where it is until the posts after it are safe.
 */
export function createXIngest(options: XIngestOptions): XIngest {
  const { db, client, pipeline, sourceId } = options;
  const timings = { ...X_TIMINGS, ...options.timings };
  const log = options.logger.child({ component: 'x-ingest', mode: options.mode, sourceId });
  const maxQueryLength = options.maxQueryLength ?? 512;
  const maxPages = options.maxPages ?? 10;
  const pageSize = Math.min(100, Math.max(10, options.pageSize ?? 100));
  const status: XIngestStatus = {
    leader: false,
    connected: false,
    connects: 0,
    keepAlives: 0,
    backfills: 0,
    polls: 0,
    held: 0,
    windowFallbacks: 0,
    skippedRules: 0,
  };

  // Leadership run: everything started under the lease stops when it is lost.
  let run: { stopped: boolean; wake: () => void; done: Promise<void> } | null = null;

  // Cursor discipline: while a gap (a disconnect, a restart) has not been backfilled, or a streamed
  // post failed to store, stream posts must not move the cursor; the highest stored one waits in
  // `pendingMax`, and failed posts wait in `held` for a retry.
  let gapOpen = true;
  let gapGeneration = 0;
  let pendingMax: string | null = null;
  const held = new Map<string, StreamPayload>();
  let backfilling: Promise<void> | null = null;
  let backfillAgain = false;
  let backfillSweep: Sweep | null = null;
  let pollSweep: Sweep | null = null;
  let postChain: Promise<void> = Promise.resolve();
  /**
   * The newest streamed id stored, written to the cursor beside the post chain rather than in it: one
   * write at a time (the ids asked for meanwhile share the next, which writes the newest), so a
   * stream's posts are not each held up by a second round trip. A write that has not landed when the
   * process dies leaves the cursor behind, and the next backfill reads again what is stored already
   * (answered as repeats).
   */
  const writeCursor = createCoalescer(
    async (ids: string[]) => {
      const target = maxId(ids)!;
      await advanceCursor(db, sourceId, target).catch((err: unknown) =>
        log.warn({ err, cursor: target }, 'could not move the X cursor; the next backfill reads from the last one'),
      );
      return ids.map(() => undefined);
    },
    { maxInFlight: 1, maxGroup: Number.POSITIVE_INFINITY },
  );
  /** The newest cursor write asked for: it settles after every earlier one (one group at a time). */
  let cursorWrite: Promise<void> | null = null;
  let ruleCache: { rules: StreamRule[]; owned: Set<string>; at: number } | null = null;
  let accountId: string | null = options.accountId ?? null;
  let accountLookupAfter = 0;
  const alerted = new Set<string>();

  async function ownAccount(): Promise<string | null> {
    if (accountId || !options.resolveAccountId || Date.now() < accountLookupAfter) return accountId;
    try {
      accountId = await options.resolveAccountId();
      if (accountId) log.info({ accountId }, 'our X account found; its posts are not ingested');
    } catch (err) {
      accountLookupAfter = Date.now() + ACCOUNT_RETRY_MS;
      log.warn(
        { err },
        'could not look up our X account (users/me); our replies are told apart by their ids meanwhile',
      );
    }
    return accountId;
  }

  /** Our own replies must never come back as customer posts: by author, and by the ids we posted. */
  async function isOwn(post: XPost): Promise<boolean> {
    const own = await ownAccount();
    if (own && post.author_id === own) return true;
    if (!post.referenced_tweets?.some((ref) => ref.type === 'replied_to')) return false;
    const found = await db.execute(
      sql`select 1 from replies where external_ids @> ${JSON.stringify([post.id])}::jsonb limit 1`,
    );
    if (rowsOf(found).length === 0) return false;
    // One of our replies names our account: from now on its posts are told apart by author, which
    // also covers a reply streamed back before its id was saved.
    if (!accountId && post.author_id) {
      accountId = post.author_id;
      log.info({ accountId }, 'our X account learnt from one of our replies; its posts are not ingested');
    }
    return true;
  }

  async function receivePost(post: XPost, includes: XIncludes | undefined, tags: Iterable<string>): Promise<boolean> {
    if (await isOwn(post)) return false;
    const inbound = { ...toInboundItem(sourceId, post, includes, new Date()), tags: [...tags] };
    const stored = await pipeline.receive(inbound);
    return !stored.duplicate;
  }

  /** Logs an error and tells the leads' channel, once per cause (the log keeps a quieter line after). */
  async function alert(key: string, text: string, context: Record<string, unknown>): Promise<void> {
    if (alerted.has(key)) {
      log.debug(context, text);
      return;
    }
    alerted.add(key);
    log.error(context, text);
    if (!options.alertChannel) return;
    await db
      .insert(outbox)
      .values({
        kind: 'message',
        channel: options.alertChannel,
        dedupeKey: `x-ingest:${sourceId}:${key}`,
        payload: { text: `:warning: ${text}` },
      })
      .onConflictDoNothing()
      .catch((err: unknown) => log.warn({ err }, 'could not queue the X ingestion alert'));
  }

  async function plans(withMentions: boolean): Promise<QueryPlan[]> {
    const rules = await listStreamRules(db, sourceId);
    const result: QueryPlan[] = [];
    for (const rule of rules) {
      if (rule.value.length > maxQueryLength) {
        if (!alerted.has(`long:${rule.id}`)) {
          alerted.add(`long:${rule.id}`);
          log.warn(
            { ruleId: rule.id, limit: maxQueryLength },
            'rule too long for recent search; the backfill skips it',
          );
        }
        continue;
      }
      result.push({
        key: `rule:${rule.id}`,
        path: 'tweets/search/recent',
        params: { query: rule.value, sort_order: 'recency' },
        tags: rule.tag ? [rule.tag] : [],
        rule,
      });
    }
    const own = withMentions ? await ownAccount() : null;
    if (own) result.push({ key: 'mentions', path: `users/${own}/mentions`, params: {}, tags: [] });
    return result;
  }

  function newSweep(since: string | null): Sweep {
    return { since, newest: null, done: new Set(), states: new Map() };
  }

  /** Reads up to `pages` pages of one query within the sweep; X refusals are sorted by the caller. */
  async function readQuery(plan: QueryPlan, sweep: Sweep, state: QueryState, pages: number) {
    const base: Record<string, string | number> = { ...plan.params, max_results: pageSize };
    if (state.startTime) {
      base.start_time = state.startTime;
      if (state.endTime) base.end_time = state.endTime;
    } else if (sweep.since) {
      base.since_id = sweep.since;
      if (state.untilId) base.until_id = state.untilId;
    }
    const posts: { post: XPost; includes: XIncludes }[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < pages; page += 1) {
      const query: Record<string, string | number> = { ...base };
      for (const [key, value] of Object.entries(X_POST_FIELDS)) query[key] = value.join(',');
      if (nextToken) query[plan.key === 'mentions' ? 'pagination_token' : 'next_token'] = nextToken;
      const result = (await client.v2.get(plan.path, query)) as Page;
      const includes = { users: result.includes?.users ?? [] };
      for (const post of result.data ?? []) posts.push({ post, includes });
      nextToken = result.meta?.next_token;
      if (!nextToken) break;
    }
    return { posts, complete: !nextToken };
  }

  /**
   * One round of a sweep: each query not yet finished reads up to `pages` more pages (further back
   * each round); everything read is stored oldest first; then each query's resume point moves.
   * `complete` once every query has reached the cursor; `stored` counts posts new to Earshot.
   */
  async function sweepRound(
    sweep: Sweep,
    withMentions: boolean,
    pages: number,
  ): Promise<{ complete: boolean; stored: number }> {
    const found = new Map<string, Found>();
    const progress: { plan: QueryPlan; state: QueryState; complete: boolean; oldest: XPost | null }[] = [];
    const current = await plans(withMentions);
    for (const plan of current) {
      if (sweep.done.has(plan.key)) continue;
      const state = sweep.states.get(plan.key) ?? { untilId: null, startTime: null, endTime: null };
      let read: Awaited<ReturnType<typeof readQuery>> | null = null;
      for (let attempt = 0; attempt < 2 && !read; attempt += 1) {
        try {
          read = await readQuery(plan, sweep, state, sweep.since ? pages : 1);
        } catch (err) {
          const refusal = classifySearchRefusal(err);
          if (!refusal) throw err;
          if (refusal.kind === 'outside_window' && !state.startTime && sweep.since) {
            await fallBackToWindow(sweep, state, refusal.message);
            continue;
          }
          await skipQuery(plan, refusal.message);
          break;
        }
      }
      if (!read) {
        sweep.done.add(plan.key);
        continue;
      }
      let oldest: XPost | null = null;
      for (const { post, includes } of read.posts) {
        const entry = found.get(post.id) ?? { post, includes, tags: new Set<string>() };
        for (const tag of plan.tags) entry.tags.add(tag);
        found.set(post.id, entry);
        if (!oldest || compareIds(post.id, oldest.id) < 0) oldest = post;
      }
      progress.push({ plan, state, complete: read.complete || !sweep.since, oldest });
    }
    const ordered = [...found.values()].sort((a, b) => compareIds(a.post.id, b.post.id));
    let stored = 0;
    for (const { post, includes, tags } of ordered) if (await receivePost(post, includes, tags)) stored += 1;
    sweep.newest = maxId(
      ordered.map((f) => f.post.id),
      sweep.newest,
    );
    for (const { plan, state, complete, oldest } of progress) {
      if (complete || !oldest) {
        sweep.done.add(plan.key);
        sweep.states.delete(plan.key);
        continue;
      }
      if (state.startTime) {
        // By time, X takes whole seconds: read up to the end of the oldest post's second again.
        const end = new Date(Math.floor(Date.parse(oldest.created_at ?? '') / 1000) * 1000 + 1000).toISOString();
        if (end === state.endTime) {
          log.warn({ query: plan.key, endTime: end }, 'more posts in one second than a round reads; moving on');
          sweep.done.add(plan.key);
          continue;
        }
        state.endTime = end;
      } else state.untilId = oldest.id;
      sweep.states.set(plan.key, state);
    }
    const open = current.filter((plan) => !sweep.done.has(plan.key));
    if (open.length > 0) {
      log.warn(
        { since: sweep.since, queries: open.map((p) => p.key), pagesPerRound: pages },
        'gap larger than one round reads; continuing from the oldest post read, the cursor waits',
      );
    }
    return { complete: open.length === 0, stored };
  }

  /**
   * Where a finished sweep leaves the cursor: at the newest post it read, or, when it read nothing
   * after a cursor X no longer accepts, where X's window starts (an id of the kind X itself suggests).
   */
  function cursorAfter(sweep: Sweep): string | null {
    if (sweep.newest) return sweep.newest;
    if (sweep.since && idTime(sweep.since).getTime() < Date.now() - SEARCH_WINDOW_MS) {
      return idAt(new Date(Date.now() - SEARCH_WINDOW_MS + WINDOW_MARGIN_MS));
    }
    return null;
  }

  async function fallBackToWindow(sweep: Sweep, state: QueryState, message: string): Promise<void> {
    const windowStart = new Date(Date.now() - SEARCH_WINDOW_MS + WINDOW_MARGIN_MS);
    state.startTime = windowStart.toISOString().replace(/\.\d{3}Z$/, 'Z');
    state.endTime = state.untilId ? new Date(idTime(state.untilId).getTime() + 1000).toISOString() : null;
    if (state.endTime && Date.parse(state.endTime) <= windowStart.getTime()) state.endTime = null;
    status.windowFallbacks += 1;
    const since = sweep.since ?? '';
    await alert(
      `window:${since}`,
      `X ingestion: the last post Earshot stored (${since}, ${idTime(since).toISOString()}) is older than X's 7-day search window, so posts written before ${state.startTime} cannot be fetched; reading from there on.`,
      { since, startTime: state.startTime, xMessage: message },
    );
  }

  async function skipQuery(plan: QueryPlan, message: string): Promise<void> {
    status.skippedRules += 1;
    const what = plan.rule ? `rule #${plan.rule.id} \`${truncate(plan.rule.value, 200)}\`` : plan.key;
    await alert(
      `refused:${plan.key}:${plan.rule?.value ?? ''}`,
      `X ingestion: X refused to search ${escapeMrkdwn(what)}: ${escapeMrkdwn(truncate(message, 500))}. The other rules go on; fix or remove this one with \`/earshot monitor\`.`,
      { query: plan.key, xMessage: message },
    );
  }

  /** Retries the streamed posts whose store failed, oldest first; a failure stops at that post. */
  async function retryHeld(): Promise<void> {
    for (const id of [...held.keys()].sort(compareIds)) {
      const payload = held.get(id)!;
      await receivePost(payload.data!, payload.includes, await tagsOf(payload));
      held.delete(id);
      pendingMax = maxId([id], pendingMax);
    }
    status.held = held.size;
  }

  async function backfillOnce(current: NonNullable<typeof run>): Promise<void> {
    const generation = gapGeneration;
    const startedAt = Date.now();
    await retryHeld();
    // A streamed post may still be storing, and its cursor write be on its way: read the cursor
    // before they land and a fresh source reads no cursor at all, so the backfill would skip the gap
    // it is here to fill. The chain as it stands now; posts arriving later wait for this backfill.
    await postChain;
    await cursorWrite;
    const source = await getSource(db, sourceId);
    const since = source?.cursor ?? null;
    let newest: string | null = null;
    if (since) {
      if (backfillSweep?.since !== since) backfillSweep = newSweep(since);
      const sweep = backfillSweep;
      while (!(await sweepRound(sweep, false, maxPages)).complete) {
        if (current.stopped) return;
      }
      newest = cursorAfter(sweep);
      backfillSweep = null;
    } else {
      // A fresh source has no gap behind it, but the stream can drop before any post moves the
      // cursor (or while the first post is still storing): anchor it at this moment, so the backfill
      // after that drop reads from here rather than taking the source for fresh again.
      newest = idAt(new Date(startedAt - ANCHOR_MARGIN_MS));
    }
    if (generation !== gapGeneration || held.size > 0) {
      // Another gap opened, or a post failed to store, while we read: the cursor waits for the next round.
      pendingMax = maxId(newest ? [newest] : [], pendingMax);
      backfillAgain = true;
      status.backfills += 1;
      return;
    }
    const target = maxId(newest ? [newest] : [], pendingMax);
    if (target) await advanceCursor(db, sourceId, target);
    gapOpen = false;
    pendingMax = null;
    status.backfills += 1;
    log.info({ since, cursor: target ?? since }, 'backfill done');
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
          await backfillOnce(current);
          attempt = 0;
        } catch (err) {
          const kind = classifyFailure(err);
          if (kind === 'rate_limit') options.metrics?.rateLimited.inc({ service: 'x' });
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

  /**
   * X sends a post to every connection of the app, whoever's rule matched it. Only posts matching
   * one of this source's rules are ours (another deployment may share the app); their tags are
   * taken from Earshot's rules, so a retag applies at once.
   */
  async function matchedTags(payload: StreamPayload): Promise<string[] | null> {
    const matching = payload.matching_rules;
    if (!matching?.length) return [];
    const load = async () => {
      ruleCache = {
        rules: await listStreamRules(db, sourceId),
        owned: (await ownedRuleIds(db, sourceId)) ?? new Set(),
        at: Date.now(),
      };
      return ruleCache;
    };
    // A rule just added may be on X (its id listed as ours) a moment before its row is written.
    const find = (cache: NonNullable<typeof ruleCache>) =>
      matching.flatMap((m) => {
        const rule = cache.rules.find((r) => r.externalId === m.id);
        if (rule) return [rule.tag ?? ''];
        return cache.owned.has(m.id) ? [m.tag ?? ''] : [];
      });
    let cache = ruleCache && Date.now() - ruleCache.at < RULE_CACHE_MS ? ruleCache : await load();
    let tags = find(cache);
    if (tags.length < matching.length && cache.at < Date.now()) {
      cache = await load();
      tags = find(cache);
    }
    return tags.length > 0 ? tags.filter(Boolean) : null;
  }

  async function tagsOf(payload: StreamPayload): Promise<string[]> {
    return (await matchedTags(payload)) ?? [];
  }

  /**
   * `contiguous`: the gap was closed when the post arrived, so every earlier post is stored or on the
   * chain before it. Judged on arrival, not once the store is done: a disconnect in between opens a
   * gap that starts after this post, and this post must still move the cursor for the backfill of
   * that gap to start from it.
   */
  async function handleStreamPayload(
    payload: StreamPayload,
    current: NonNullable<typeof run>,
    contiguous: boolean,
  ): Promise<void> {
    const post = payload.data;
    if (!post?.id) return;
    try {
      const tags = await matchedTags(payload);
      if (!tags) {
        log.debug({ postId: post.id }, 'post matched only rules this source did not make; ignored');
        return;
      }
      await receivePost(post, payload.includes, tags);
      if (!contiguous || held.size > 0) pendingMax = maxId([post.id], pendingMax);
      else cursorWrite = writeCursor(post.id);
    } catch (err) {
      // The cursor stays below this post (nothing moves it while a post is held) and a backfill
      // retries it; if this process dies first, the next one backfills from the same cursor.
      if (held.size < MAX_HELD_POSTS) held.set(post.id, payload);
      status.held = held.size;
      gapOpen = true;
      log.error({ err, postId: post.id, held: held.size }, 'storing a streamed post failed; holding the cursor');
      requestBackfill(current);
    }
  }

  async function streamLoop(current: NonNullable<typeof run>): Promise<void> {
    try {
      const synced = await syncStreamRules(db, client, sourceId);
      if (synced.added || synced.deleted || synced.retagged || synced.refused.length) {
        log.info(synced, 'stream rules synced with X');
      }
    } catch (err) {
      log.warn({ err }, 'could not sync stream rules with X; the stream uses the rules X has');
    }
    const attempts: Record<FailureKind, number> = { network: 0, http: 0, rate_limit: 0 };
    while (!current.stopped) {
      let kind: FailureKind = 'network';
      let stream: TweetStream | undefined;
      let keepAliveLost = false;
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
        stream.on(ETwitterStreamEvent.Data, (payload: StreamPayload) => {
          const contiguous = !gapOpen;
          postChain = postChain.then(() => handleStreamPayload(payload, current, contiguous));
        });
        stream.on(ETwitterStreamEvent.DataKeepAlive, () => {
          status.keepAlives += 1;
        });
        stream.on(ETwitterStreamEvent.ConnectionLost, () => {
          keepAliveLost = true;
          log.warn({ silenceMs: timings.keepAliveTimeoutMs }, 'no keep-alive from X; reconnecting');
        });
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
        options.metrics?.streamReconnects.inc({ reason: keepAliveLost ? 'keepalive_timeout' : 'disconnected' });
        log.warn('stream disconnected');
      } catch (err) {
        status.connected = false;
        kind = classifyFailure(err);
        if (kind === 'rate_limit') options.metrics?.rateLimited.inc({ service: 'x' });
        if (!current.stopped) options.metrics?.streamReconnects.inc({ reason: kind });
        const rateLimit = (err as { rateLimit?: { reset?: number } }).rateLimit;
        if (isNotEnrolled(err)) {
          await alert(
            'not-enrolled',
            'X ingestion: X refused the filtered stream for this app (client-not-enrolled): its access level has no stream. Set X_INGEST_MODE=poll.',
            { err },
          );
        } else log.warn({ err, kind, resetAt: rateLimit?.reset }, 'stream connect failed');
      }
      attempts[kind] += 1;
      const delay = backoffDelay(timings.backoff, kind, attempts[kind]);
      await sleep(current, delay);
    }
  }

  async function pollOnce(): Promise<number> {
    const source = await getSource(db, sourceId);
    const since = source?.cursor ?? null;
    if (pollSweep?.since !== since) pollSweep = newSweep(since);
    const sweep = pollSweep;
    const { complete, stored } = await sweepRound(sweep, true, maxPages);
    status.polls += 1;
    if (complete) {
      pollSweep = null;
      const target = cursorAfter(sweep);
      if (target) await advanceCursor(db, sourceId, target);
    }
    if (stored > 0) log.info({ stored, complete }, 'poll stored new posts');
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
        if (kind === 'rate_limit') options.metrics?.rateLimited.inc({ service: 'x' });
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
      await cursorWrite;
      // What was held is lost with this run; the cursor never passed it, so the next run's backfill reads it.
      held.clear();
      status.held = 0;
      backfillSweep = null;
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
