import { BLOCK_KIT_LIMITS, blocksTextLength, checkBlocks } from '../block-limits.js';
import { SlackApiError } from '../errors.js';
import type { Json } from '../types.js';
import type { MessageContent, SlackWorkspace } from '../workspace.js';

/** What a Web API method gets: the workspace and the call's arguments (JSON strings already decoded). */
export interface MethodContext {
  ws: SlackWorkspace;
  args: Json;
}

/** A method returns the fields of its `{ ok: true, … }` answer, or throws SlackApiError. */
export type MethodHandler = (ctx: MethodContext) => Json | Promise<Json>;

/** Thrown by a method to answer HTTP 429 `ratelimited` with Retry-After. */
export class RateLimitedError extends SlackApiError {
  constructor(readonly retryAfter: number) {
    super('ratelimited');
  }
}

export function requireString(args: Json, name: string, error = 'invalid_arguments'): string {
  const value = args[name];
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value === '')
    throw new SlackApiError(error, [`[ERROR] missing required field: ${name}`]);
  return value;
}

export function optionalString(args: Json, name: string): string | undefined {
  const value = args[name];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function flag(args: Json, name: string): boolean {
  const value = args[name];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** A paging cursor: Slack's are opaque base64; the sandbox's encode an offset. */
export function page<T>(items: readonly T[], args: Json, defaultLimit: number): { items: T[]; next_cursor: string } {
  const limit = Math.max(1, Math.min(1000, Number(args.limit) || defaultLimit));
  const cursor = optionalString(args, 'cursor');
  const offset = cursor
    ? Number(
        Buffer.from(cursor, 'base64')
          .toString('utf8')
          .replace(/^offset:/, ''),
      ) || 0
    : 0;
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '';
  return { items: slice, next_cursor: next };
}

function jsonList(args: Json, name: string, error: string): Json[] | undefined {
  const value = args[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (!Array.isArray(value)) throw new SlackApiError(error);
  return value as Json[];
}

/**
 * Reads a message's text, blocks and attachments and checks them as Slack does: blocks against
 * Block Kit's rules (`invalid_blocks`), text against 40,000 characters (`msg_too_long`), something
 * to show at all (`no_text`).
 */
export function messageContent(args: Json, options: { requireSomething: boolean }): MessageContent {
  const blocks = jsonList(args, 'blocks', 'invalid_blocks_format');
  const attachments = jsonList(args, 'attachments', 'invalid_attachments');
  const text = optionalString(args, 'text');
  if (blocks) {
    const problems = checkBlocks(blocks, 'message');
    if (problems.length > 0) throw new SlackApiError('invalid_blocks', problems);
    if (blocksTextLength(blocks) > BLOCK_KIT_LIMITS.messageBlocksText) throw new SlackApiError('msg_blocks_too_long');
  }
  if (text !== undefined && text.length > BLOCK_KIT_LIMITS.messageText) throw new SlackApiError('msg_too_long');
  if (options.requireSomething && !text && !blocks?.length && !attachments?.length) throw new SlackApiError('no_text');
  const metadata = args.metadata;
  if (metadata !== undefined && metadata !== null && metadata !== '') {
    // Slack wants `{ event_type, event_payload }`; anything else is refused, not stored.
    const m = metadata as Json;
    if (
      typeof metadata !== 'object' ||
      typeof m.event_type !== 'string' ||
      !m.event_payload ||
      typeof m.event_payload !== 'object' ||
      Array.isArray(m.event_payload)
    )
      throw new SlackApiError('invalid_metadata_format');
  }
  return {
    ...(text !== undefined ? { text } : {}),
    ...(blocks ? { blocks } : {}),
    ...(attachments ? { attachments } : {}),
    ...(metadata && typeof metadata === 'object' ? { metadata: metadata as Json } : {}),
    ...(optionalString(args, 'thread_ts') ? { thread_ts: optionalString(args, 'thread_ts')! } : {}),
    ...(flag(args, 'reply_broadcast') ? { reply_broadcast: true } : {}),
    ...(optionalString(args, 'username') ? { username: optionalString(args, 'username')! } : {}),
    ...(optionalString(args, 'icon_emoji') ? { icon_emoji: optionalString(args, 'icon_emoji')! } : {}),
    ...(optionalString(args, 'icon_url') ? { icon_url: optionalString(args, 'icon_url')! } : {}),
  };
}

export function readView(args: Json): Json {
  const view = args.view;
  if (!view || typeof view !== 'object' || Array.isArray(view))
    throw new SlackApiError('invalid_arguments', ['[ERROR] missing required field: view']);
  return view as Json;
}
