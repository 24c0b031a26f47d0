import { AppError } from '../errors.js';
import { unescapeCustomerWords } from '../slack/commands/customer-words.js';
import { normalizeTags } from '../tickets/tags.js';
import type { RoutingConditions } from './routing.js';

/** What `/earshot route add …` says, before it is stored. */
export interface RouteSpec {
  channel: string;
  name: string | null;
  conditions: RoutingConditions;
  addTags: string[];
  notify: string | null;
  position: number | null;
}

export const ROUTE_SYNTAX =
  '`/earshot route add #channel [category=complaint,bug_report] [sentiment=negative] [priority=P1,P2 | min-priority=P2] ' +
  '[language=es,fr] [source=x] [tags=refund] [topics=checkout] [urgency=outage,legal] [author=@handle] [vip] ' +
  '[add-tags=billing] [notify=@group] [position=1] [name="Billing escalations"]`';

const LIST_KEYS = [
  'category',
  'sentiment',
  'priority',
  'language',
  'source',
  'tags',
  'topics',
  'urgency',
  'author',
] as const;

/**
 * Parses the words after `route add`. Slack escapes channel and group mentions in slash commands
 * (`<#C123|billing>`, `<!subteam^S123|@oncall>`); the ids are kept, the display names dropped.
 * Anything unknown is refused with the syntax, so a typo never becomes a catch-all rule.
 */
export function parseRouteSpec(text: string): RouteSpec {
  const words = [...text.matchAll(/(\S+?=)"([^"]*)"|(\S+)/g)].map((m) => (m[1] ? `${m[1]}${m[2]}` : m[3]!));
  const [target, ...rest] = words;
  const channel = parseChannel(target);
  if (!channel)
    throw new AppError('invalid_input', `Name the channel first. ${ROUTE_SYNTAX}`, { details: { field: 'channel' } });
  const spec: RouteSpec = { channel, name: null, conditions: {}, addTags: [], notify: null, position: null };
  const conditions: Record<string, unknown> = {};
  for (const word of rest) {
    if (word === 'vip') {
      conditions.vip = true;
      continue;
    }
    const eq = word.indexOf('=');
    if (eq <= 0) throw new AppError('invalid_input', `I don't understand "${word.slice(0, 60)}". ${ROUTE_SYNTAX}`);
    const key = word.slice(0, eq).toLowerCase();
    const value = word.slice(eq + 1);
    const values = value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    if (values.length === 0) throw new AppError('invalid_input', `"${key}" needs a value. ${ROUTE_SYNTAX}`);
    if ((LIST_KEYS as readonly string[]).includes(key)) {
      conditions[key] =
        key === 'priority'
          ? values.map((v) => v.toUpperCase())
          : key === 'author'
            ? values
            : values.map((v) => v.toLowerCase());
    } else if (key === 'min-priority') conditions.minPriority = value.toUpperCase();
    else if (key === 'add-tags') spec.addTags = normalizeTags(values);
    else if (key === 'notify') spec.notify = parseMention(value);
    else if (key === 'name') spec.name = value.slice(0, 80);
    else if (key === 'position') {
      const position = Number(value);
      if (!Number.isInteger(position) || position < 1)
        throw new AppError('invalid_input', 'position must be 1 or more.');
      spec.position = position;
    } else throw new AppError('invalid_input', `Unknown condition "${key}". ${ROUTE_SYNTAX}`);
  }
  spec.conditions = conditions as RoutingConditions;
  return spec;
}

/** `<#C123|billing>` → `C123`; `#billing` → `billing`. */
function parseChannel(word: string | undefined): string | null {
  if (!word) return null;
  const escaped = /^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word);
  if (escaped) return escaped[1]!;
  const named = /^#([a-z0-9][a-z0-9_-]{0,79})$/.exec(word);
  return named ? named[1]! : null;
}

/**
 * `<!subteam^S123|@oncall>` → `S123`; `<#C1|x>` → `C1`; `<@U1>` → `U1`; a bare id stays. A plain
 * `@oncall` is refused: Slack only pings a group by its id, so a handle would notify nobody.
 */
function parseMention(value: string): string {
  const match = /^<(?:!subteam\^|#|@)([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(value);
  if (match) return match[1]!;
  if (/^[SCGU][A-Z0-9]{2,}$/.test(value)) return value;
  throw new AppError(
    'invalid_input',
    'notify takes a user group, channel or person picked from Slack’s autocomplete (type @ or # and choose), so Earshot has its id.',
    { details: { field: 'notify' } },
  );
}

/** What `/earshot route test` takes before the sample text: the source and tags a real item would carry. */
export interface RouteTestSpec {
  text: string;
  source: string | null;
  tags: string[];
  /** The author's handle, as typed without its `@`: their followers and VIP flag count. */
  author: string | null;
}

/**
 * `source=x tags=vip,billing author=@dana my refund never came` → the options, then the sample
 * text as typed. Slack's escaping of the author (`<@U1|dana>`, `<mailto:…>`) is undone.
 */
export function parseRouteTest(input: string): RouteTestSpec {
  const spec: RouteTestSpec = { text: '', source: null, tags: [], author: null };
  let rest = input.trim();
  for (;;) {
    const option = /^(source|tags|author)=(\S+)\s*/i.exec(rest);
    if (!option) break;
    const value = option[2]!;
    const key = option[1]!.toLowerCase();
    if (key === 'source') spec.source = value.toLowerCase();
    else if (key === 'tags') spec.tags = normalizeTags(value.split(',').filter(Boolean));
    else spec.author = unescapeCustomerWords(value).replace(/^@/, '');
    rest = rest.slice(option[0].length);
  }
  spec.text = rest.trim();
  if (!spec.text) {
    throw new AppError(
      'invalid_input',
      'Give a sample text: `/earshot route test [source=x] [tags=billing] [author=@handle] my refund never arrived`.',
      { details: { field: 'text' } },
    );
  }
  return spec;
}
