import type { WebClient } from '@slack/web-api';

/** What identifies a post the worker may already have made. */
export interface PostedLookup {
  /** A channel id, or a DM's (`D…`): reading it needs channels:history, groups:history or im:history. */
  channel: string;
  /** Look among this thread's replies (conversations.replies) rather than the channel's history. */
  threadTs?: string | null;
  /** The `metadata.event_type` the post carries. */
  eventType: string;
  /** Whether a message's `metadata.event_payload` is the post looked for. */
  matches: (payload: Record<string, unknown>) => boolean;
  /** Nothing older can be the post (the outbox row's creation, less a margin for clock skew). */
  since: Date;
  /** Pages of 200 messages read at most. */
  maxPages?: number;
}

interface ListedMessage {
  ts?: string;
  bot_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

const SKEW_MS = 5 * 60_000;

/**
 * Finds a post by its metadata, newest messages first: the ts of the bot message whose metadata
 * matches, or null. Used only for rows whose earlier attempt may have posted (its answer lost, or the
 * process died before the ts was saved), so a normal post costs no extra call.
 */
export async function findPostedMessage(client: WebClient, lookup: PostedLookup): Promise<string | null> {
  const oldest = String(Math.max(0, (lookup.since.getTime() - SKEW_MS) / 1000));
  let cursor: string | undefined;
  for (let page = 0; page < (lookup.maxPages ?? 10); page += 1) {
    const common = {
      channel: lookup.channel,
      oldest,
      limit: 200,
      include_all_metadata: true,
      ...(cursor ? { cursor } : {}),
    };
    const result = lookup.threadTs
      ? await client.conversations.replies({ ...common, ts: lookup.threadTs })
      : await client.conversations.history(common);
    for (const message of (result.messages ?? []) as ListedMessage[]) {
      const metadata = message.metadata;
      if (!message.ts || !message.bot_id || metadata?.event_type !== lookup.eventType) continue;
      if (metadata.event_payload && lookup.matches(metadata.event_payload)) return message.ts;
    }
    cursor = result.response_metadata?.next_cursor || undefined;
    if (!cursor || !result.has_more) return null;
  }
  return null;
}
