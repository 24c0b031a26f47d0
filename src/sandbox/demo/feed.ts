import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import type { WebhookItem } from '../../ingest/webhook.js';
import type { Logger } from '../../logger.js';

/** The webhook source the demo feed posts to (`POST /ingest/demo`). */
export const DEMO_SOURCE = 'demo';

const demoPostSchema = z.object({
  id: z.string().regex(/^p\d{3}$/),
  /** What the post was written as (question, complaint, bug, praise, suggestion, other-language, spam, burst); never sent. */
  kind: z.enum(['question', 'complaint', 'bug', 'praise', 'suggestion', 'other-language', 'spam', 'burst']),
  author: z.object({
    id: z.string(),
    handle: z.string(),
    name: z.string(),
    followers: z.number().int().nonnegative(),
    verified: z.boolean().optional(),
  }),
  text: z.string().min(1),
  /** Seconds to wait before this post at speed 1. */
  gap: z.number().positive(),
  /** Part of the wave that should trip the crisis detector. */
  burst: z.boolean().optional(),
  /** The post the crisis detector's influencer rule fires on. */
  influencer: z.boolean().optional(),
  /** The conversation (the id of its first post) and the post this one answers. */
  thread: z.string().optional(),
  parent: z.string().optional(),
});

export type DemoPost = z.infer<typeof demoPostSchema>;

/** The bundled posts, written for Earshot (see README.md beside them), validated. */
export function loadDemoPosts(): DemoPost[] {
  const file = new URL('./posts.json', import.meta.url);
  const parsed = z.object({ posts: z.array(demoPostSchema) }).parse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.posts;
}

/**
 * The webhook body for one demo post in one run. Every id carries the run id, so a second run (or a
 * run against a database kept from an earlier one) makes new tickets instead of silent duplicates.
 */
export function demoWebhookBody(post: DemoPost, run: { runId: string; now: Date }): WebhookItem {
  const scoped = (id: string) => `demo-${run.runId}-${id}`;
  return {
    id: scoped(post.id),
    author: {
      id: scoped(post.author.id),
      handle: post.author.handle,
      name: post.author.name,
      followers: post.author.followers,
      ...(post.author.verified !== undefined ? { verified: post.author.verified } : {}),
    },
    text: post.text,
    created_at: run.now.toISOString(),
    ...(post.thread ? { thread_id: scoped(post.thread) } : {}),
    ...(post.parent ? { parent_id: scoped(post.parent) } : {}),
  };
}

/** Milliseconds to wait before a post at `speed` (10 = ten times faster). */
export function demoDelayMs(post: Pick<DemoPost, 'gap'>, speed: number): number {
  return Math.round((post.gap * 1000) / speed);
}

export interface DemoFeedOptions {
  posts: readonly DemoPost[];
  speed: number;
  runId: string;
  /** `…/ingest/demo` on the app's own server. */
  ingestUrl: () => string;
  /** The demo source's Standard Webhooks secret (known once the source exists, at start). */
  secret: () => string;
  logger: Logger;
  /** Runs after the burst's last post was accepted: the crisis check, without waiting for the cron minute. */
  afterBurst: () => Promise<void>;
}

export interface DemoFeed {
  start: () => void;
  /** Stops between posts and waits for the one in flight. */
  stop: () => Promise<void>;
  /** Resolves when every post was sent (or the feed was stopped). */
  finished: () => Promise<void>;
}

/**
 * Replays the demo posts through the real signed webhook (`POST /ingest/demo`), one at a time at a
 * pace the page can follow. A post the app refuses is logged and skipped; the feed goes on.
 */
export function createDemoFeed(options: DemoFeedOptions): DemoFeed {
  const log = options.logger.child({ component: 'demo-feed' });
  const abort = new AbortController();
  let running: Promise<void> | undefined;

  async function send(post: DemoPost): Promise<boolean> {
    const now = new Date();
    const body = JSON.stringify(demoWebhookBody(post, { runId: options.runId, now }));
    const messageId = `msg_demo_${options.runId}_${post.id}`;
    try {
      const response = await fetch(options.ingestUrl(), {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'webhook-id': messageId,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(options.secret()).sign(messageId, now, body),
        },
        signal: abort.signal,
      });
      if (response.ok) return true;
      log.warn({ post: post.id, status: response.status, body: await response.text() }, 'demo post refused');
    } catch (err) {
      if (abort.signal.aborted) return false;
      log.warn({ err, post: post.id }, 'demo post could not be sent');
    }
    return false;
  }

  async function run(): Promise<void> {
    let sent = 0;
    for (const [index, post] of options.posts.entries()) {
      await sleep(demoDelayMs(post, options.speed), undefined, { signal: abort.signal });
      if (await send(post)) sent += 1;
      const next = options.posts[index + 1];
      if (post.burst && !next?.burst) {
        log.info('demo burst sent; checking for a crisis now');
        await options.afterBurst().catch((err: unknown) => log.warn({ err }, 'crisis check after the burst failed'));
      }
    }
    log.info({ sent, posts: options.posts.length }, 'demo feed finished');
  }

  return {
    start() {
      running ??= run().catch((err: unknown) => {
        if (!abort.signal.aborted) log.error({ err }, 'demo feed stopped');
      });
      log.info({ posts: options.posts.length, speed: options.speed }, 'demo feed started');
    },
    async stop() {
      abort.abort();
      await running;
    },
    finished: () => running ?? Promise.resolve(),
  };
}
