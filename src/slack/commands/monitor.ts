import { AppError } from '../../errors.js';
import { createXAppClient } from '../../ingest/x/client.js';
import { addStreamRule, listStreamRules, type RuleMode, removeStreamRule } from '../../ingest/x/rules.js';
import { ensureSource } from '../../sources/sources.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { CommandContext, Subcommand } from './types.js';

const USAGE = 'Usage: `/earshot monitor add <rule> [tag:<tag>]`, `monitor list`, `monitor remove <id>`.';

function requireXClient(ctx: CommandContext) {
  const client = createXAppClient(ctx.config);
  if (!client) {
    throw new AppError('invalid_input', 'X is not configured: set X_BEARER_TOKEN to manage monitoring rules.');
  }
  return client;
}

/** Polling mode never calls X's stream-rule endpoints: tiers without the stream refuse them. */
function ruleMode(ctx: CommandContext): RuleMode {
  return ctx.config.X_INGEST_MODE === 'poll' ? 'poll' : 'stream';
}

/** Splits `<rule> [tag:<tag>]`: a trailing `tag:` word names the rule (X's rule syntax has no `tag:` operator). */
export function parseRuleArgs(text: string): { value: string; tag: string | null } {
  const match = /^([\s\S]*?)\s+tag:(\S+)$/.exec(text.trim());
  if (match) return { value: (match[1] ?? '').trim(), tag: match[2] ?? null };
  return { value: text.trim(), tag: null };
}

/**
 * `monitor add|list|remove`: the X monitoring rules (leads and admins). X validates a new rule
 * before Earshot keeps it (the stream's rule endpoint, or a search dry run in polling mode), so a
 * typo comes back with X's own explanation. Adding a query that exists changes its tag.
 */
export const monitorCommand: Subcommand = {
  name: 'monitor',
  usage: 'monitor add <rule> [tag:<tag>] | list | remove <id>',
  summary: 'X monitoring rules: keywords, @mentions, hashtags, -is:retweet, lang:… (leads)',
  permission: 'rules.manage',
  run: async (ctx) => {
    const match = /^(\S+)\s*([\s\S]*)$/.exec(ctx.args.trim());
    const verb = match?.[1]?.toLowerCase();
    const rest = (match?.[2] ?? '').trim();
    const source = await ensureSource(ctx.db, { name: ctx.config.X_SOURCE_NAME, kind: 'x' }, null);
    if (verb === undefined || verb === 'list') {
      const rules = await listStreamRules(ctx.db, source.id);
      if (rules.length === 0) return { text: `No monitoring rules yet. ${USAGE}` };
      const lines = rules.map(
        (r) =>
          `• #${r.id} \`${safeMrkdwn(r.value, 300)}\`${r.tag ? ` (${safeMrkdwn(r.tag, 60)})` : ''}${r.externalId || ruleMode(ctx) === 'poll' ? '' : ' — not yet on X'}`,
      );
      return { text: `${rules.length} monitoring rules\n${lines.join('\n')}` };
    }
    if (verb === 'add') {
      const { value, tag } = parseRuleArgs(rest);
      if (!value) throw new AppError('invalid_input', USAGE);
      const { rule, outcome } = await addStreamRule(ctx.db, requireXClient(ctx), ctx.actor, {
        sourceId: source.id,
        value,
        tag,
        mode: ruleMode(ctx),
      });
      const what = `#${rule.id}: \`${safeMrkdwn(rule.value, 300)}\``;
      if (outcome === 'unchanged') return { text: `Monitoring rule ${what} was already there.` };
      if (outcome === 'retagged') {
        return { text: `Monitoring rule ${what} now tags with ${rule.tag ? safeMrkdwn(rule.tag, 60) : 'no tag'}.` };
      }
      return { text: `Monitoring rule ${what} added.` };
    }
    if (verb === 'remove') {
      const id = Number(rest.replace(/^#/, ''));
      if (!Number.isInteger(id) || id <= 0) throw new AppError('invalid_input', USAGE);
      const rule = await removeStreamRule(ctx.db, requireXClient(ctx), ctx.actor, {
        sourceId: source.id,
        id,
        mode: ruleMode(ctx),
      });
      return { text: `Monitoring rule #${rule.id} removed: \`${safeMrkdwn(rule.value, 300)}\`.` };
    }
    throw new AppError('invalid_input', USAGE);
  },
};
