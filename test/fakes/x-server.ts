import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local server that speaks X's v2 wire format, for the real twitter-api-v2 client: stream rules,
 * the chunked filtered stream with `\r\n` keep-alives, recent search, mentions, posting, 429s with
 * `x-rate-limit-*` headers and errors in X's problem format. Tests drive it through its methods.
 */

export interface FakeUser {
  id: string;
  username: string;
  name: string;
  verified?: boolean;
  followers?: number;
}

export interface FakePost {
  id: string;
  text: string;
  author_id: string;
  created_at: string;
  conversation_id: string;
  lang?: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: { type: 'replied_to' | 'quoted' | 'retweeted'; id: string }[];
}

interface Rule {
  id: string;
  value: string;
  tag?: string;
}

interface StreamConnection {
  res: ServerResponse;
  heartbeat: NodeJS.Timeout;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string;
  body: unknown;
}

const KNOWN_OPERATORS = new Set([
  'lang',
  'is',
  'from',
  'to',
  'has',
  'url',
  'conversation_id',
  'context',
  'entity',
  'place',
  'retweets_of',
]);

/** X's rule length limit on the Pro tier. */
const MAX_RULE_LENGTH = 1024;

export class FakeXServer {
  readonly users = new Map<string, FakeUser>();
  readonly posts: FakePost[] = [];
  readonly rules = new Map<string, Rule>();
  readonly requests: RecordedRequest[] = [];
  /** Post ids X says are deleted or hidden: replying to them is refused with 403. */
  readonly deleted = new Set<string>();
  /** When set, posting is refused as X does for a suspended account. */
  suspended = false;
  /** Posting fails with these statuses first (one per attempt), e.g. [503] for a transient error. */
  postFailures: number[] = [];
  /** Stream connects answered with 429 before one is let through. */
  rateLimitConnects = 0;
  /** Keep-alives stop while true, with the connection left open: what a stalled stream looks like. */
  silent = false;
  connectAttempts = 0;
  connects = 0;

  private server: Server;
  private sockets = new Set<Socket>();
  private streams = new Set<StreamConnection>();
  private nextId = 1_900_000_000_000_000_000n;
  private nextRuleId = 1_500_000_000_000_000_000n;
  url = '';

  constructor(private readonly options: { heartbeatMs?: number } = {}) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.problem(res, 500, 'Internal Error', String(err));
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.dropStreams();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  addUser(user: FakeUser): FakeUser {
    this.users.set(user.id, user);
    return user;
  }

  /** A post appears on X: it is searchable at once and goes to every open stream whose rules match. */
  publish(input: {
    text: string;
    author: FakeUser;
    replyTo?: string;
    lang?: string;
    /** False keeps it off the open streams, as if X dropped it during a reconnect. */
    stream?: boolean;
  }): FakePost {
    this.users.set(input.author.id, input.author);
    const id = String(this.nextId++);
    const parent = input.replyTo ? this.posts.find((p) => p.id === input.replyTo) : undefined;
    const post: FakePost = {
      id,
      text: input.text,
      author_id: input.author.id,
      created_at: new Date().toISOString(),
      conversation_id: parent?.conversation_id ?? id,
      lang: input.lang ?? 'en',
      ...(input.replyTo
        ? {
            referenced_tweets: [{ type: 'replied_to' as const, id: input.replyTo }],
            ...(parent ? { in_reply_to_user_id: parent.author_id } : {}),
          }
        : {}),
    };
    this.posts.push(post);
    if (input.stream !== false) {
      const matching = [...this.rules.values()].filter((rule) => this.matches(rule.value, post));
      if (matching.length > 0) {
        const line = JSON.stringify({
          data: post,
          includes: { users: [this.userView(post.author_id)] },
          matching_rules: matching.map((r) => ({ id: r.id, tag: r.tag ?? '' })),
        });
        for (const stream of this.streams) stream.res.write(`${line}\r\n`);
      }
    }
    return post;
  }

  /** Cuts every open stream connection, as a network failure would. */
  dropStreams(): void {
    for (const stream of this.streams) {
      clearInterval(stream.heartbeat);
      stream.res.socket?.destroy();
    }
    this.streams.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Posts created through POST /2/tweets, in order. */
  get createdPosts(): FakePost[] {
    return this.posts.filter((p) => this.authoredByApi.has(p.id));
  }

  private authoredByApi = new Set<string>();

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x.local');
    const raw = await readAll(req);
    const body = raw ? safeJson(raw) : undefined;
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: String(req.headers.authorization ?? ''),
      body,
    });
    if (!req.headers.authorization) return this.problem(res, 401, 'Unauthorized', 'Unauthorized');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /2/tweets/search/stream/rules') return this.listRules(res);
    if (route === 'POST /2/tweets/search/stream/rules') return this.updateRules(res, body, url);
    if (route === 'GET /2/tweets/search/stream') return this.openStream(res);
    if (route === 'GET /2/tweets/search/recent') return this.search(res, url);
    const mentions = /^GET \/2\/users\/(\d+)\/mentions$/.exec(route);
    if (mentions) return this.mentions(res, url, mentions[1]!);
    if (route === 'POST /2/tweets') return this.createPost(req, res, body);
    return this.problem(res, 404, 'Not Found Error', `No route for ${route}`);
  }

  private listRules(res: ServerResponse) {
    const data = [...this.rules.values()];
    json(res, 200, {
      ...(data.length ? { data } : {}),
      meta: { sent: new Date().toISOString(), result_count: data.length },
    });
  }

  private updateRules(res: ServerResponse, body: unknown, url: URL) {
    const input = body as { add?: { value: string; tag?: string }[]; delete?: { ids?: string[]; values?: string[] } };
    const dryRun = url.searchParams.get('dry_run') === 'true';
    if (input?.add) {
      const invalid = input.add
        .map((rule) => ({ rule, details: this.validate(rule.value) }))
        .filter((r) => r.details.length > 0);
      if (invalid.length > 0) {
        return json(res, 400, {
          errors: invalid.map(({ rule, details }) => ({
            value: rule.value,
            details,
            title: 'Invalid Rule',
            type: 'https://api.twitter.com/2/problems/invalid-rules',
          })),
          title: 'Invalid Request',
          detail: 'One or more parameters to your request was invalid.',
          type: 'https://api.twitter.com/2/problems/invalid-request',
        });
      }
      const data: Rule[] = [];
      const errors: unknown[] = [];
      for (const rule of input.add) {
        const duplicate = [...this.rules.values()].find((r) => r.value === rule.value);
        if (duplicate) {
          errors.push({
            value: rule.value,
            id: duplicate.id,
            title: 'DuplicateRule',
            type: 'https://api.twitter.com/2/problems/duplicate-rules',
          });
          continue;
        }
        const created: Rule = {
          id: String(this.nextRuleId++),
          value: rule.value,
          ...(rule.tag ? { tag: rule.tag } : {}),
        };
        if (!dryRun) this.rules.set(created.id, created);
        data.push(created);
      }
      return json(res, 201, {
        ...(data.length ? { data } : {}),
        ...(errors.length ? { errors } : {}),
        meta: {
          sent: new Date().toISOString(),
          summary: { created: data.length, not_created: errors.length, valid: data.length, invalid: 0 },
        },
      });
    }
    if (input?.delete) {
      let deleted = 0;
      const errors: unknown[] = [];
      for (const id of input.delete.ids ?? []) {
        if (this.rules.delete(id)) deleted += 1;
        else
          errors.push({
            errors: [{ parameters: { ids: [id] }, message: 'Rule does not exist' }],
            title: 'Invalid Request',
            detail: 'One or more parameters to your request was invalid.',
            type: 'https://api.twitter.com/2/problems/invalid-request',
          });
      }
      return json(res, 200, {
        meta: { sent: new Date().toISOString(), summary: { deleted, not_deleted: errors.length } },
        ...(errors.length ? { errors } : {}),
      });
    }
    return this.problem(res, 400, 'Invalid Request', 'One of add or delete is required.');
  }

  private openStream(res: ServerResponse) {
    this.connectAttempts += 1;
    if (this.rateLimitConnects > 0) {
      this.rateLimitConnects -= 1;
      return this.tooMany(res);
    }
    this.connects += 1;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const heartbeat = setInterval(() => {
      if (!this.silent) res.write('\r\n');
    }, this.options.heartbeatMs ?? 50);
    const connection: StreamConnection = { res, heartbeat };
    this.streams.add(connection);
    res.on('close', () => {
      clearInterval(heartbeat);
      this.streams.delete(connection);
    });
    if (!this.silent) res.write('\r\n');
  }

  private search(res: ServerResponse, url: URL) {
    const query = url.searchParams.get('query') ?? '';
    const problems = query.length > 512 ? ['query is longer than 512 characters'] : [];
    if (problems.length) return this.problem(res, 400, 'Invalid Request', problems.join('; '));
    this.page(res, url, (post) => this.matches(query, post));
  }

  private mentions(res: ServerResponse, url: URL, userId: string) {
    const user = this.users.get(userId);
    if (!user) return this.problem(res, 404, 'Not Found Error', `Could not find user with id: [${userId}].`);
    const handle = `@${user.username.toLowerCase()}`;
    this.page(res, url, (post) => post.author_id !== userId && post.text.toLowerCase().includes(handle));
  }

  /** Newest first, `since_id` exclusive, `max_results` per page, `next_token`/`pagination_token` to go on. */
  private page(res: ServerResponse, url: URL, keep: (post: FakePost) => boolean) {
    const since = url.searchParams.get('since_id');
    const max = Math.min(100, Number(url.searchParams.get('max_results') ?? 10));
    const token = url.searchParams.get('next_token') ?? url.searchParams.get('pagination_token');
    const all = this.posts
      .filter((p) => (since ? BigInt(p.id) > BigInt(since) : true))
      .filter(keep)
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    const start = token ? Number(token) : 0;
    const data = all.slice(start, start + max);
    const next = start + max < all.length ? String(start + max) : undefined;
    const users = [...new Set(data.map((p) => p.author_id))].map((id) => this.userView(id));
    json(res, 200, {
      ...(data.length ? { data, includes: { users } } : {}),
      meta: {
        result_count: data.length,
        ...(data.length ? { newest_id: data[0]!.id, oldest_id: data[data.length - 1]!.id } : {}),
        ...(next ? { next_token: next } : {}),
      },
    });
  }

  private createPost(req: IncomingMessage, res: ServerResponse, body: unknown) {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('OAuth ') && !auth.startsWith('Bearer ')) {
      return this.problem(
        res,
        403,
        'Unsupported Authentication',
        'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.',
      );
    }
    const failure = this.postFailures.shift();
    if (failure === 429) return this.tooMany(res);
    if (failure) return this.problem(res, failure, 'Service Unavailable', 'Service Unavailable');
    if (this.suspended) {
      return this.problem(
        res,
        403,
        'Forbidden',
        'Your account is suspended and is not permitted to access this feature.',
      );
    }
    const input = body as { text?: string; reply?: { in_reply_to_tweet_id?: string } };
    const text = input?.text ?? '';
    if (weightedLength(text) > 280) return this.problem(res, 403, 'Forbidden', 'Your Tweet text is too long.');
    const parentId = input?.reply?.in_reply_to_tweet_id;
    if (parentId && (this.deleted.has(parentId) || !this.posts.some((p) => p.id === parentId))) {
      return this.problem(
        res,
        403,
        'Forbidden',
        'You attempted to reply to a Tweet that is deleted or not visible to you.',
      );
    }
    const brand = this.users.get('42') ?? this.addUser({ id: '42', username: 'acme', name: 'Acme Support' });
    const post = this.publish({ text, author: brand, ...(parentId ? { replyTo: parentId } : {}) });
    this.authoredByApi.add(post.id);
    json(res, 201, { data: { id: post.id, text: post.text, edit_history_tweet_ids: [post.id] } });
  }

  private tooMany(res: ServerResponse) {
    const reset = Math.floor(Date.now() / 1000) + 900;
    res.writeHead(429, {
      'content-type': 'application/problem+json',
      'x-rate-limit-limit': '50',
      'x-rate-limit-remaining': '0',
      'x-rate-limit-reset': String(reset),
    });
    res.end(
      JSON.stringify({ title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }),
    );
  }

  private problem(res: ServerResponse, status: number, title: string, detail: string) {
    res.writeHead(status, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ title, detail, type: 'about:blank', status }));
  }

  private userView(id: string) {
    const user = this.users.get(id);
    return {
      id,
      username: user?.username ?? `user${id}`,
      name: user?.name ?? `User ${id}`,
      verified: user?.verified ?? false,
      public_metrics: { followers_count: user?.followers ?? 0, following_count: 0, tweet_count: 1, listed_count: 0 },
    };
  }

  /** Why X would refuse a rule (empty when it would accept it). */
  private validate(value: string): string[] {
    const details: string[] = [];
    if (value.length > MAX_RULE_LENGTH) details.push(`Rule is longer than ${MAX_RULE_LENGTH} characters.`);
    let depth = 0;
    for (const char of value) {
      if (char === '(') depth += 1;
      if (char === ')') depth -= 1;
      if (depth < 0) break;
    }
    if (depth !== 0) details.push('Unbalanced parentheses.');
    if ((value.match(/"/g) ?? []).length % 2 === 1) details.push('Unbalanced quotes.');
    for (const match of value.matchAll(/(?:^|[\s(])-?([a-z_]+):/g)) {
      const operator = match[1]!;
      if (!KNOWN_OPERATORS.has(operator)) {
        details.push(
          `Reference to invalid operator '${operator}'. Operator is not available in current product or product packaging.`,
        );
      }
    }
    return details;
  }

  /** A small evaluator of X's query language: OR, grouping, negation, phrases, lang:, from:, is:. */
  matches(query: string, post: FakePost): boolean {
    const alternatives = splitTopLevel(query.trim(), ' OR ');
    if (alternatives.length > 1) return alternatives.some((alt) => this.matches(alt, post));
    const single = alternatives[0] ?? '';
    const terms = splitTopLevel(single, ' ');
    if (terms.length > 1) return terms.every((term) => this.matches(term, post));
    let term = single.trim();
    if (!term) return true;
    const negated = term.startsWith('-');
    if (negated) term = term.slice(1);
    if (term.startsWith('(') && term.endsWith(')')) {
      const inner = this.matches(term.slice(1, -1), post);
      return negated ? !inner : inner;
    }
    const result = this.termMatches(term, post);
    return negated ? !result : result;
  }

  private termMatches(term: string, post: FakePost): boolean {
    const text = post.text.toLowerCase();
    const [operator, value] = term.includes(':') && !term.startsWith('"') ? term.split(/:(.*)/s) : [undefined, term];
    if (operator === 'lang') return post.lang === value;
    if (operator === 'from') return this.users.get(post.author_id)?.username.toLowerCase() === value?.toLowerCase();
    if (operator === 'is' && value === 'retweet') return false;
    if (operator === 'is' && value === 'reply') return Boolean(post.referenced_tweets?.length);
    if (operator) return false;
    const needle = (value ?? '').replace(/^"|"$/g, '').toLowerCase();
    if (needle.startsWith('@') || needle.startsWith('#') || needle.includes(' ')) return text.includes(needle);
    return new RegExp(`(^|[^\\p{L}\\p{N}_])${escapeRegExp(needle)}($|[^\\p{L}\\p{N}_])`, 'u').test(text);
  }
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (char === '"') quoted = !quoted;
    if (!quoted && char === '(') depth += 1;
    if (!quoted && char === ')') depth -= 1;
    if (!quoted && depth === 0 && text.startsWith(separator, i)) {
      if (current.trim()) parts.push(current.trim());
      current = '';
      i += separator.length - 1;
      continue;
    }
    current += char;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** X's counting, independently of Earshot's: each URL is 23 (t.co), code points past U+10FF count 2. */
function weightedLength(text: string): number {
  let weight = 0;
  const withoutUrls = text.normalize('NFC').replace(/https?:\/\/\S+/g, () => {
    weight += 23;
    return '';
  });
  for (const char of withoutUrls) weight += (char.codePointAt(0) ?? 0) <= 0x10ff ? 1 : 2;
  return weight;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
