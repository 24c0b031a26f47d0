import type { KnownBlock } from '@slack/types';
import { AppError } from '../../errors.js';
import { getSourceByName } from '../../sources/sources.js';
import { actorId } from '../../tickets/types.js';
import { triageService } from '../../triage/module.js';
import { parseRouteSpec, parseRouteTest, ROUTE_SYNTAX } from '../../triage/route-syntax.js';
import { describeConditions, type RoutingRule } from '../../triage/routing.js';
import { addRoutingRule, listRoutingRules, removeRoutingRule } from '../../triage/routing-rules.js';
import type { TriageService } from '../../triage/triage-service.js';
import { type HandleFacts, handleFacts } from '../../triage/vip-list.js';
import { formatCount, plural } from '../blocks/format.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { CommandContext, Subcommand } from './types.js';

const USAGE = `Usage: ${ROUTE_SYNTAX}, \`route list\`, \`route remove <rule id>\`, \`route test [source=x] [tags=billing] [author=@handle] <text>\`.`;

/** `route add|list|remove|test`: routing rules, evaluated in order, first match wins, default channel last. */
export const routeCommand: Subcommand = {
  name: 'route',
  usage: 'route add #channel <conditions> | list | remove <rule id> | test [source=…] [tags=…] [author=@…] <text>',
  summary: 'routing rules: which channel each kind of item goes to',
  permission: 'rules.manage',
  run: async (ctx) => {
    const { db, config, actor, args } = ctx;
    const match = /^(\S+)\s*([\s\S]*)$/.exec(args.trim());
    const verb = match?.[1]?.toLowerCase();
    const rest = (match?.[2] ?? '').trim();
    if (verb === 'list' || verb === undefined) {
      const rules = await listRoutingRules(db);
      return {
        text: `${plural(rules.length, 'routing rule')}`,
        blocks: buildRuleList(rules, config.EARSHOT_FEEDBACK_CHANNEL),
      };
    }
    if (verb === 'add') {
      const spec = parseRouteSpec(rest);
      const rule = await addRoutingRule(db, {
        name: spec.name ?? `to ${spec.channel}`,
        conditions: spec.conditions,
        channel: spec.channel,
        addTags: spec.addTags,
        notify: spec.notify,
        createdBy: actorId(actor),
        position: spec.position ?? undefined,
      });
      triageService(ctx.services)?.invalidateRules();
      return { text: `Rule ${rule.id} added, checked ${ordinal(rule.position)}: ${ruleLine(rule)}` };
    }
    if (verb === 'remove') {
      const id = Number(rest.replace(/^(?:id\s*|#)/i, ''));
      if (!Number.isInteger(id) || id <= 0) throw new AppError('invalid_input', USAGE);
      const removed = await removeRoutingRule(db, { id });
      triageService(ctx.services)?.invalidateRules();
      return { text: `Rule ${removed.id} (${safeMrkdwn(removed.name, 80)}) removed: ${ruleLine(removed)}` };
    }
    if (verb === 'test') return testRoute(ctx, rest);
    throw new AppError('invalid_input', USAGE);
  },
};

/**
 * Triage and route a sample the way ingestion would, with the source and tags given: one pass
 * through the app's triage service, so what it shows is what an item would get.
 */
async function testRoute(ctx: CommandContext, input: string) {
  const spec = parseRouteTest(input);
  const triage: TriageService | null = triageService(ctx.services);
  if (!triage) {
    throw new AppError('upstream_failed', 'Triage is not running in this app, so there is nothing to test against.');
  }
  let source: { name: string; kind: string } | null = null;
  let sourceId: number | null = null;
  if (spec.source) {
    const stored = await getSourceByName(ctx.db, spec.source);
    if (stored) {
      source = { name: stored.name, kind: stored.kind };
      sourceId = stored.id;
    } else if (spec.source === 'x' || spec.source === 'webhook') source = { name: spec.source, kind: spec.source };
    else
      throw new AppError(
        'not_found',
        `No source is named "${spec.source.slice(0, 60)}" (see \`/earshot source list\`).`,
      );
  }
  // Rules as stored now, not as cached: a rule added a moment ago on another replica counts.
  triage.invalidateRules();
  const author = spec.author ? await handleFacts(ctx.db, spec.author, sourceId) : null;
  const assessment = await triage.assess(spec.text, { source, tags: spec.tags, author });
  const t = assessment.triage;
  const lines = [
    `*Triage* (${t.provider}${t.lowConfidence ? ', low confidence' : ''}): ${t.category.replace('_', ' ')}, ${t.sentiment} (${t.sentimentScore.toFixed(2)})${t.emotion ? `, ${t.emotion}` : ''}, language ${t.language}`,
    `*Priority* ${assessment.priority}: ${safeMrkdwn(assessment.priorityReasons.join(', ') || 'no special signals', 500)}`,
    t.urgency.length ? `*Urgency* ${t.urgency.join(', ')}` : null,
    t.topics.length ? `*Topics* ${safeMrkdwn(t.topics.join(', '), 300)}` : null,
    `*Route* ${assessment.rule ? `rule ${assessment.rule.id} (${safeMrkdwn(assessment.rule.name, 80)})` : 'no rule matched: default channel'} → ${channelRef(assessment.channel)}${assessment.tags.length ? `, tags ${safeMrkdwn(assessment.tags.join(', '), 300)}` : ''}${assessment.notify ? `, notifies ${mentionRef(assessment.notify)}` : ''}`,
  ].filter(Boolean);
  // A context line, not italics: a handle, source or tag with an underscore (@small_biz_sara) would
  // end an italic span halfway through it.
  const asIf =
    source || spec.tags.length || author
      ? `As if from ${source ? safeMrkdwn(source.name, 60) : 'any source'}${spec.tags.length ? ` with tags ${safeMrkdwn(spec.tags.join(', '), 200)}` : ''}${author ? `, by ${describeAuthor(author)}` : ''}.`
      : null;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `> ${safeMrkdwn(spec.text, 500)}` } },
    { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
  ];
  if (asIf) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: asIf }] });
  return { text: `Route test: ${assessment.priority} → ${assessment.channel}`, blocks };
}

/** `@dana (known: VIP, verified, 1,200 followers)`, or `@new (not seen yet)`. */
function describeAuthor(author: HandleFacts): string {
  const facts = [
    author.vip ? 'VIP' : null,
    author.verified ? 'verified' : null,
    author.known ? `${formatCount(author.followerCount)} followers` : null,
  ].filter(Boolean);
  const seen = author.known ? 'known' : 'not seen yet';
  return `@${safeMrkdwn(author.handle, 100)} (${[seen, ...facts].join(', ')})`;
}

function channelRef(channel: string): string {
  return /^[CG][A-Z0-9]+$/.test(channel) ? `<#${channel}>` : `#${safeMrkdwn(channel, 80)}`;
}

/** How a rule's notify target is shown without pinging it: the id in code, with its kind. */
function mentionRef(notify: string): string {
  const kind = notify.startsWith('S') ? 'group' : notify.startsWith('U') ? 'person' : 'channel';
  return kind === 'channel' ? channelRef(notify) : `${kind} \`${safeMrkdwn(notify, 40)}\``;
}

function ruleLine(rule: RoutingRule): string {
  const extras = [
    rule.addTags.length ? `add tags ${safeMrkdwn(rule.addTags.join(', '), 200)}` : null,
    rule.notify ? `notify ${mentionRef(rule.notify)}` : null,
    rule.enabled ? null : 'disabled',
  ].filter(Boolean);
  return `${safeMrkdwn(describeConditions(rule.conditions), 500)} → ${channelRef(rule.channel)}${extras.length ? ` (${extras.join('; ')})` : ''}`;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/**
 * The rules in the order they are checked, each with the id `route remove` takes, then the
 * default channel that takes everything else.
 */
export function buildRuleList(rules: readonly RoutingRule[], defaultChannel: string): KnownBlock[] {
  const shown = rules.slice(0, 45);
  const blocks: KnownBlock[] = shown.map((rule, index) => ({
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: `${index + 1}. *${safeMrkdwn(rule.name, 80)}* · rule id \`${rule.id}\`\n${ruleLine(rule)}`,
    },
  }));
  if (rules.length > shown.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${rules.length - shown.length} more rules.` }],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text:
          rules.length === 0
            ? `No rules yet: everything goes to ${channelRef(defaultChannel)}. ${USAGE}`
            : `Checked top to bottom; the first match wins. Anything no rule matches goes to ${channelRef(defaultChannel)}. Remove one with \`/earshot route remove <rule id>\`.`,
      },
    ],
  });
  return blocks;
}
