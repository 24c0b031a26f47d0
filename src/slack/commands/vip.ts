import { AppError } from '../../errors.js';
import { loadPriorityWeights } from '../../triage/priority-settings.js';
import { addVip, listVips, removeVip, type VipEntry } from '../../triage/vip-list.js';
import { mentionActor } from '../blocks/format.js';
import { safeMrkdwn } from '../mrkdwn.js';
import { unescapeCustomerWords } from './customer-words.js';
import type { Subcommand } from './types.js';

const USAGE =
  'Usage: `/earshot vip add @handle [source:<name>] [note]`, `vip remove @handle [source:<name>]`, `vip list`. ' +
  'Without `source:` the handle is a VIP on every source.';
/** A Slack message's text stays well under its 40,000 characters at this many lines. */
const LISTED = 100;

export interface VipArgs {
  handle: string;
  source: string | null;
  note: string | null;
}

/** Splits `<handle> [source:<name>] [note…]`; the note is everything after the handle and source. */
export function parseVipArgs(text: string): VipArgs {
  const words = unescapeCustomerWords(text).split(/\s+/).filter(Boolean);
  const [handle, ...rest] = words;
  if (!handle || handle.toLowerCase().startsWith('source:')) throw new AppError('invalid_input', USAGE);
  let source: string | null = null;
  if (rest[0]?.toLowerCase().startsWith('source:')) {
    source = rest.shift()!.slice('source:'.length);
    if (!source) throw new AppError('invalid_input', `Name the source after \`source:\`. ${USAGE}`);
  }
  return { handle, source, note: rest.join(' ') || null };
}

function entryLabel(entry: Pick<VipEntry, 'handle' | 'source'>): string {
  const where = entry.source ? `on *${safeMrkdwn(entry.source, 40)}*` : 'on every source';
  return `*@${safeMrkdwn(entry.handle, 100)}* ${where}`;
}

/** `1 known author is`, `2 known authors are`. */
function knownAuthorsAre(count: number): string {
  return count === 1 ? '1 known author is' : `${count} known authors are`;
}

function listLine(entry: VipEntry): string {
  const at = Math.floor(entry.createdAt.getTime() / 1000);
  const known = entry.knownAuthors === 0 ? 'not seen yet' : `${entry.knownAuthors} known`;
  return [
    `• ${entryLabel(entry)}`,
    entry.note ? ` — ${safeMrkdwn(entry.note, 200)}` : '',
    ` · ${known} · added by ${mentionActor(entry.createdBy)} <!date^${at}^{date_short}|${entry.createdAt.toISOString()}>`,
  ].join('');
}

/**
 * `/earshot vip add|remove|list`: the VIP list, one of the inputs of priority. Anyone who sees
 * tickets may read it; adding and removing need a lead. A listed handle flags its author when they
 * are first stored, and at once for authors Earshot already knows; tickets already open keep
 * their priority (Correct triage changes one).
 */
export const vipCommand: Subcommand = {
  name: 'vip',
  usage: 'vip add @handle [source:<name>] [note] | remove @handle [source:<name>] | list',
  summary: 'customers whose posts score higher priority, by handle (changing the list needs a lead)',
  permission: 'ticket.view',
  run: async ({ db, actor, args }) => {
    const match = /^(\S+)\s*([\s\S]*)$/.exec(args.trim());
    const verb = match?.[1]?.toLowerCase() ?? 'list';
    const rest = (match?.[2] ?? '').trim();
    if (verb === 'list') {
      if (rest) throw new AppError('invalid_input', USAGE);
      const entries = await listVips(db);
      if (entries.length === 0) return { text: `The VIP list is empty. ${USAGE}` };
      const lines = entries.slice(0, LISTED).map(listLine);
      if (entries.length > LISTED) lines.push(`…and ${entries.length - LISTED} more.`);
      return { text: `:star: ${entries.length} on the VIP list\n${lines.join('\n')}` };
    }
    if (verb === 'add') {
      const { entry, created, changed } = await addVip(db, actor, parseVipArgs(rest));
      if (!changed) return { text: `${entryLabel(entry)} was on the VIP list already.` };
      if (!created) return { text: `${entryLabel(entry)}: the note now reads “${safeMrkdwn(entry.note ?? '', 200)}”.` };
      const points = (await loadPriorityWeights(db)).vip;
      const known =
        entry.knownAuthors === 0
          ? 'No author of that handle has posted yet; their first post will be flagged.'
          : `${knownAuthorsAre(entry.knownAuthors)} flagged.`;
      return {
        text:
          `:star: ${entryLabel(entry)} is a VIP${entry.note ? ` (${safeMrkdwn(entry.note, 200)})` : ''}. ${known} ` +
          `Their new posts score ${points} more priority points; tickets already open keep their priority ` +
          '(⋯ › Correct triage changes one).',
      };
    }
    if (verb === 'remove') {
      const parsed = parseVipArgs(rest);
      if (parsed.note) throw new AppError('invalid_input', USAGE);
      const { entry, authors } = await removeVip(db, actor, parsed);
      const cleared = authors === 0 ? '' : ` ${knownAuthorsAre(authors)} no longer flagged.`;
      return { text: `${entryLabel(entry)} is off the VIP list.${cleared}` };
    }
    throw new AppError('invalid_input', USAGE);
  },
};
