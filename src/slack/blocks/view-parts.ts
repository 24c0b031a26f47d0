import type { KnownBlock, PlainTextElement } from '@slack/types';
import { escapeMrkdwn, truncate } from '../mrkdwn.js';

/** Limits of modals and App Home (views), on top of the message limits in `limits.ts`. */
export const VIEW_LIMITS = {
  title: 24,
  button: 24,
  blocks: 100,
  sectionText: 3000,
  label: 2000,
  optionText: 75,
  selectOptions: 100,
  privateMetadata: 3000,
  textInput: 3000,
} as const;

/** plain_text cut to `max` characters (plain text needs no escaping). */
export function plain(text: string, max: number = VIEW_LIMITS.sectionText): PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max) || ' ', emoji: true };
}

/**
 * Splits untrusted text into pieces that are each at most `max` characters once escaped, breaking
 * at a line or word boundary when one is near, so a long message becomes several sections, not a cut one.
 */
export function chunkEscaped(text: string, max: number = VIEW_LIMITS.sectionText): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    // Take as many code points as fit once escaped.
    let size = 0;
    let taken = 0;
    for (const point of rest) {
      const grow = escapeMrkdwn(point).length;
      if (size + grow > max) break;
      size += grow;
      taken += point.length;
    }
    if (taken >= rest.length) {
      chunks.push(escapeMrkdwn(rest));
      break;
    }
    const head = rest.slice(0, taken);
    const newline = head.lastIndexOf('\n');
    const space = head.search(/\s\S*$/);
    const boundary = newline > taken * 0.5 ? newline + 1 : space > taken * 0.5 ? space + 1 : taken;
    chunks.push(escapeMrkdwn(rest.slice(0, boundary)));
    rest = rest.slice(boundary);
  }
  return chunks;
}

/** Keeps at most `max` blocks; when some are dropped the last kept block says how many. */
export function capBlocks(blocks: KnownBlock[], max: number, what = 'more'): KnownBlock[] {
  if (blocks.length <= max) return blocks;
  const kept = blocks.slice(0, max - 1);
  kept.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `_…and ${blocks.length - kept.length} ${what} not shown._` }],
  });
  return kept;
}

/** `private_metadata` carries what a submission needs to find its ticket; it must stay under 3,000 characters. */
export function encodeMetadata(data: Record<string, unknown>): string {
  const text = JSON.stringify(data);
  if (text.length > VIEW_LIMITS.privateMetadata) throw new RangeError('private_metadata exceeds 3,000 characters');
  return text;
}

/** Reads what `encodeMetadata` wrote; anything unreadable is an empty object. */
export function decodeMetadata(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
