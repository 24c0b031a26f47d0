import type { InboundItem } from '../store-item.js';

/** The fields Earshot asks X for on every read: the post, its author, and where it sits in a conversation. */
export const X_POST_FIELDS = {
  expansions: ['author_id', 'referenced_tweets.id'],
  'tweet.fields': ['created_at', 'conversation_id', 'lang', 'referenced_tweets', 'in_reply_to_user_id', 'author_id'],
  'user.fields': ['username', 'name', 'verified', 'public_metrics'],
} as const;

/** A post as X's v2 API returns it (the fields requested above). */
export interface XPost {
  id: string;
  text: string;
  author_id?: string;
  created_at?: string;
  conversation_id?: string;
  lang?: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: { type: string; id: string }[];
}

export interface XUser {
  id: string;
  username?: string;
  name?: string;
  verified?: boolean;
  public_metrics?: { followers_count?: number };
}

export interface XIncludes {
  users?: XUser[];
}

/** Turns an X post and the users X expanded alongside it into Earshot's inbound item. */
export function toInboundItem(sourceId: number, post: XPost, includes: XIncludes | undefined, now: Date): InboundItem {
  const authorId = post.author_id ?? 'unknown';
  const user = includes?.users?.find((u) => u.id === authorId);
  const parent = post.referenced_tweets?.find((ref) => ref.type === 'replied_to');
  const language = post.lang && post.lang !== 'und' && post.lang !== 'zxx' ? post.lang : null;
  return {
    sourceId,
    externalId: post.id,
    author: {
      externalId: authorId,
      handle: user?.username ?? null,
      displayName: user?.name ?? null,
      followerCount: user?.public_metrics?.followers_count ?? null,
      verified: user?.verified ?? null,
    },
    text: post.text,
    url: user?.username ? `https://x.com/${user.username}/status/${post.id}` : `https://x.com/i/web/status/${post.id}`,
    createdAt: post.created_at ? new Date(post.created_at) : now,
    conversationId: post.conversation_id ?? post.id,
    parentExternalId: parent?.id ?? null,
    language,
    raw: { data: post, includes: user ? { users: [user] } : undefined },
  };
}

/** Compares X post ids, which exceed 2^53: as BigInt. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function maxId(ids: Iterable<string>, start: string | null = null): string | null {
  let best = start;
  for (const id of ids) if (best === null || compareIds(id, best) > 0) best = id;
  return best;
}
