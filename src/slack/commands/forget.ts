import { routingFromConfig } from '../../crisis/job.js';
import { AppError } from '../../errors.js';
import { forgetAuthor } from '../../privacy/forget.js';
import { plural } from '../blocks/format.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/earshot forget <source> <author>`, the author as their handle or the source’s id for them.';

/**
 * `forget <source> <author>` (admins): a privacy request. Erases the author's posts, identity and
 * the free text around their tickets everywhere Earshot keeps them; each ticket's timeline records
 * that it happened and who asked, never what was erased. Answered privately; a repeat finds nothing.
 */
export const forgetCommand: Subcommand = {
  name: 'forget',
  usage: 'forget <source> <author>',
  summary: 'erase one customer’s data for a privacy request (admins)',
  permission: 'privacy.forget',
  run: async ({ db, config, actor, args }) => {
    const words = args.trim().split(/\s+/).filter(Boolean);
    if (words.length !== 2) throw new AppError('invalid_input', USAGE);
    const [source, author] = words as [string, string];
    const result = await forgetAuthor(db, actor, { source, author, routing: routingFromConfig(config) });
    const who = `*${safeMrkdwn(author, 80)}*`;
    const where = `*${safeMrkdwn(result.source, 40)}*`;
    if (!result.found) {
      return {
        text: `Nothing to erase: no author ${who} on ${where} (already erased, or never seen).`,
        responseType: 'ephemeral',
      };
    }
    const counts = [
      plural(result.items, 'post'),
      plural(result.tickets, 'ticket'),
      plural(result.replies, 'reply', 'replies'),
      ...(result.alerts > 0 ? [plural(result.alerts, 'crisis alert')] : []),
      ...(result.vipEntries > 0 ? [plural(result.vipEntries, 'VIP list entry', 'VIP list entries')] : []),
    ];
    return {
      text: `:wastebasket: Erased the data of ${who} on ${where}: ${counts.join(', ')}. Each ticket's timeline records the erasure, without the data.`,
      responseType: 'ephemeral',
    };
  },
};
