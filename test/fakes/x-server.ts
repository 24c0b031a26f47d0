import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local server that speaks X's v2 wire format, for the real twitter-api-v2 client: stream rules,
 * the chunked filtered stream with `\r\n` keep-alives, recent search (7-day window, since_id /
 * until_id / start_time / end_time, X's refusals), mentions, `users/me`, posting, OAuth 2.0 token
 * refresh with rotating refresh tokens, tiers without the stream, 429s with `x-rate-limit-*`
 * headers and errors in X's problem format. Post ids are snowflakes: they encode when a post was
 * written, as X's do. Tests drive it through its methods.
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
/** Twitter's snowflake epoch (2010-11-04T01:42:54.657Z): an id's top bits count milliseconds from it. */
const SNOWFLAKE_EPOCH = 1_288_834_974_657n;
/** Recent search reaches back this far. */
const SEARCH_WINDOW_MS = 7 * 24 * 3600_000;

/** When a snowflake id was made, as X would say. */
export function snowflakeTime(id: string): Date {
  return new Date(Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH));
}

/** The smallest snowflake id made at or after this time. */
export function snowflakeAt(at: Date): string {
  return String((BigInt(at.getTime()) - SNOWFLAKE_EPOCH) << 22n);
}

const INVALID_REQUEST = {
  title: 'Invalid Request',
  detail: 'One or more parameters to your request was invalid.',
  type: 'https://api.twitter.com/2/problems/invalid-request',
};

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
  /**
   * False models a tier without the filtered stream (Free/Basic): stream and stream-rule calls are
   * refused with X's 403 `client-not-enrolled` problem; search and mentions still work.
   */
  streamAccess = true;
  /** Recent-search calls answered with these statuses first (one per call), e.g. [429]. */
  searchFailures: number[] = [];
  /** Bearer tokens of the app itself (app-only auth): refused where X wants user context. */
  readonly appTokens = new Set(['test-bearer', 'bearer']);
  /** The OAuth 2.0 app Earshot refreshes tokens for; a secret makes it a confidential client (Basic auth). */
  oauth2Client: { clientId: string; clientSecret?: string } = { clientId: 'earshot-client' };
  /** OAuth 2.0 user access tokens X issued, with when they expire (ms since epoch). */
  readonly userTokens = new Map<string, number>();
  /** Refresh tokens X still accepts; each is good for one refresh (X rotates them). */
  readonly refreshTokens = new Set<string>();
  connectAttempts = 0;
  connects = 0;

  private server: Server;
  private sockets = new Set<Socket>();
  private streams = new Set<StreamConnection>();
  private sequence = 0n;
  private nextRuleId = 1_500_000_000_000_000_000n;
  private tokenCount = 0;
  private searchGate: { promise: Promise<void>; release: () => void } | null = null;
  /** Searches waiting behind `holdSearches()`. */
  waitingSearches = 0;
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
    /** When it was written (default now); its snowflake id encodes this. */
    at?: Date;
  }): FakePost {
    this.users.set(input.author.id, input.author);
    const at = input.at ?? new Date();
    // Milliseconds in the top bits, a running sequence below: unique, and ordered by time.
    this.sequence = (this.sequence + 1n) & 0x3f_ffffn;
    const id = String(BigInt(snowflakeAt(at)) | this.sequence);
    const parent = input.replyTo ? this.posts.find((p) => p.id === input.replyTo) : undefined;
    const post: FakePost = {
      id,
      text: input.text,
      author_id: input.author.id,
      created_at: at.toISOString(),
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
    if (input.stream !== false) this.deliverToStreams(post);
    return post;
  }

  /** Sends a stored post down every open stream whose rules match it (again, if it was sent before). */
  deliverToStreams(post: FakePost): void {
    const matching = [...this.rules.values()].filter((rule) => this.matches(rule.value, post));
    if (matching.length === 0) return;
    const line = JSON.stringify({
      data: post,
      includes: { users: [this.userView(post.author_id)] },
      matching_rules: matching.map((r) => ({ id: r.id, tag: r.tag ?? '' })),
    });
    for (const stream of this.streams) stream.res.write(`${line}\r\n`);
  }

  /**
   * Holds every recent-search request until the returned function is called; results are computed
   * at release, so a post published meanwhile is in them. For forcing stream/backfill overlaps.
   */
  holdSearches(): () => void {
    let release = () => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gate = { promise, release };
    this.searchGate = gate;
    return () => {
      if (this.searchGate === gate) this.searchGate = null;
      gate.release();
    };
  }

  /** Issues an OAuth 2.0 user token pair, as the authorization-code flow would; returns both. */
  issueOAuth2Tokens(expiresInSeconds = 7200): { accessToken: string; refreshToken: string } {
    this.tokenCount += 1;
    const accessToken = `user-access-${this.tokenCount}`;
    const refreshToken = `user-refresh-${this.tokenCount}`;
    this.userTokens.set(accessToken, Date.now() + expiresInSeconds * 1000);
    this.refreshTokens.add(refreshToken);
    return { accessToken, refreshToken };
  }

  /** Every OAuth 2.0 user access token runs out now, as they do two hours after issue. */
  expireUserTokens(): void {
    for (const token of this.userTokens.keys()) this.userTokens.set(token, 0);
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
    const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const body = raw ? (form ? Object.fromEntries(new URLSearchParams(raw)) : safeJson(raw)) : undefined;
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: String(req.headers.authorization ?? ''),
      body,
    });
    const route = `${req.method} ${url.pathname}`;
    // Public OAuth 2.0 clients identify themselves in the body, without an Authorization header.
    if (route === 'POST /2/oauth2/token') return this.token(req, res, body as Record<string, string> | undefined);
    if (!req.headers.authorization) return this.problem(res, 401, 'Unauthorized', 'Unauthorized');
    if (!this.streamAccess && url.pathname.startsWith('/2/tweets/search/stream')) return this.notEnrolled(res);
    if (route === 'GET /2/tweets/search/stream/rules') return this.listRules(res);
    if (route === 'POST /2/tweets/search/stream/rules') return this.updateRules(res, body, url);
    if (route === 'GET /2/tweets/search/stream') return this.openStream(res);
    if (route === 'GET /2/tweets/search/recent') return this.search(res, url);
    if (route === 'GET /2/users/me') return this.me(req, res);
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

  private async search(res: ServerResponse, url: URL) {
    if (this.searchGate) {
      this.waitingSearches += 1;
      await this.searchGate.promise;
      this.waitingSearches -= 1;
    }
    const failure = this.searchFailures.shift();
    if (failure === 429) return this.tooMany(res);
    if (failure) return this.problem(res, failure, 'Service Unavailable', 'Service Unavailable');
    const query = url.searchParams.get('query') ?? '';
    const problems = query.length > 512 ? ['query is longer than 512 characters'] : [];
    if (problems.length) return this.problem(res, 400, 'Invalid Request', problems.join('; '));
    const invalid = this.validate(query).find((detail) => detail.startsWith('Reference to invalid operator'));
    if (invalid) {
      return json(res, 400, {
        errors: [
          {
            parameters: { query: [query] },
            message: `There were errors processing your request: ${invalid} Please refer to complete available operator list at https://developer.twitter.com/en/docs/twitter-api/tweets/search/integrate/build-a-query. (at position 1)`,
          },
        ],
        ...INVALID_REQUEST,
      });
    }
    const refusal = this.windowRefusal(url);
    if (refusal) return json(res, 400, refusal);
    this.page(res, url, (post) => this.matches(query, post));
  }

  /** X's answers to a search that reaches outside its 7-day window or mixes ids with times. */
  private windowRefusal(url: URL): unknown {
    const windowStart = Date.now() - SEARCH_WINDOW_MS;
    const minute = new Date(windowStart).toISOString().slice(0, 16);
    const byId = ['since_id', 'until_id'].filter((p) => url.searchParams.has(p));
    const byTime = ['start_time', 'end_time'].filter((p) => url.searchParams.has(p));
    if (byId.length && byTime.length) {
      return {
        errors: [
          {
            parameters: Object.fromEntries([...byId, ...byTime].map((p) => [p, [url.searchParams.get(p)]])),
            message: "Invalid use of 'since_id' or 'until_id' in conjunction with 'start_time' or 'end_time'.",
          },
        ],
        ...INVALID_REQUEST,
      };
    }
    const since = url.searchParams.get('since_id');
    if (since && snowflakeTime(since).getTime() < windowStart) {
      return {
        errors: [
          {
            parameters: { since_id: [since] },
            message: `Invalid 'since_id':'${since}'. 'since_id' must be a tweet id created after ${minute}Z. Please use a 'since_id' that is larger than ${snowflakeAt(new Date(windowStart))}`,
          },
        ],
        ...INVALID_REQUEST,
      };
    }
    const start = url.searchParams.get('start_time');
    if (start && Date.parse(start) < windowStart) {
      return {
        errors: [
          {
            parameters: { start_time: [start] },
            message: `Invalid 'start_time':'${start}'. 'start_time' must be on or after ${minute}Z`,
          },
        ],
        ...INVALID_REQUEST,
      };
    }
    return null;
  }

  private me(req: IncomingMessage, res: ServerResponse) {
    const auth = String(req.headers.authorization ?? '');
    const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : null;
    if (bearer && this.appTokens.has(bearer)) return this.appOnlyForbidden(res);
    if (bearer && this.userTokens.has(bearer) && this.userTokens.get(bearer)! < Date.now()) {
      return this.problem(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const brand = this.brand();
    json(res, 200, { data: { id: brand.id, name: brand.name, username: brand.username } });
  }

  /** POST /2/oauth2/token, grant_type=refresh_token: a new access token and a new refresh token; the old one dies. */
  private token(req: IncomingMessage, res: ServerResponse, body: Record<string, string> | undefined) {
    const auth = String(req.headers.authorization ?? '');
    const { clientId, clientSecret } = this.oauth2Client;
    const basic = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : null;
    const idOk = basic ? basic.split(':')[0] === clientId : body?.client_id === clientId;
    const secretOk = clientSecret ? basic === `${clientId}:${clientSecret}` : true;
    if (!idOk || !secretOk) {
      return json(res, 401, { error: 'unauthorized_client', error_description: 'Missing valid authorization header' });
    }
    if (body?.grant_type !== 'refresh_token' || !body.refresh_token || !this.refreshTokens.has(body.refresh_token)) {
      return json(res, 400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' });
    }
    this.refreshTokens.delete(body.refresh_token);
    const issued = this.issueOAuth2Tokens();
    json(res, 200, {
      token_type: 'bearer',
      expires_in: 7200,
      access_token: issued.accessToken,
      scope: 'tweet.read tweet.write users.read offline.access',
      refresh_token: issued.refreshToken,
    });
  }

  private mentions(res: ServerResponse, url: URL, userId: string) {
    const user = this.users.get(userId);
    if (!user) return this.problem(res, 404, 'Not Found Error', `Could not find user with id: [${userId}].`);
    const handle = `@${user.username.toLowerCase()}`;
    this.page(res, url, (post) => post.author_id !== userId && post.text.toLowerCase().includes(handle));
  }

  /**
   * Newest first, `since_id` and `until_id` exclusive, `start_time` inclusive and `end_time`
   * exclusive, `max_results` per page, `next_token`/`pagination_token` to go on.
   */
  private page(res: ServerResponse, url: URL, keep: (post: FakePost) => boolean) {
    const since = url.searchParams.get('since_id');
    const until = url.searchParams.get('until_id');
    const startTime = url.searchParams.get('start_time');
    const endTime = url.searchParams.get('end_time');
    const max = Math.min(100, Number(url.searchParams.get('max_results') ?? 10));
    const token = url.searchParams.get('next_token') ?? url.searchParams.get('pagination_token');
    const all = this.posts
      .filter((p) => (since ? BigInt(p.id) > BigInt(since) : true))
      .filter((p) => (until ? BigInt(p.id) < BigInt(until) : true))
      .filter((p) => (startTime ? Date.parse(p.created_at) >= Date.parse(startTime) : true))
      .filter((p) => (endTime ? Date.parse(p.created_at) < Date.parse(endTime) : true))
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
    const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : null;
    if ((!auth.startsWith('OAuth ') && !bearer) || (bearer && this.appTokens.has(bearer))) {
      return this.appOnlyForbidden(res);
    }
    const expiresAt = bearer ? this.userTokens.get(bearer) : undefined;
    if (expiresAt !== undefined && expiresAt < Date.now())
      return this.problem(res, 401, 'Unauthorized', 'Unauthorized');
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
    const post = this.publish({ text, author: this.brand(), ...(parentId ? { replyTo: parentId } : {}) });
    this.authoredByApi.add(post.id);
    json(res, 201, { data: { id: post.id, text: post.text, edit_history_tweet_ids: [post.id] } });
  }

  /** The account the user-context credentials belong to: @acme, id 42. */
  brand(): FakeUser {
    return this.users.get('42') ?? this.addUser({ id: '42', username: 'acme', name: 'Acme Support' });
  }

  private appOnlyForbidden(res: ServerResponse) {
    res.writeHead(403, { 'content-type': 'application/problem+json' });
    res.end(
      JSON.stringify({
        title: 'Unsupported Authentication',
        detail:
          'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].',
        type: 'https://api.twitter.com/2/problems/unsupported-authentication',
        status: 403,
      }),
    );
  }

  /** What X answers an app whose access level does not include an endpoint (the stream on Free/Basic). */
  private notEnrolled(res: ServerResponse) {
    res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' });
    res.end(
      JSON.stringify({
        client_id: '28000000',
        detail:
          'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
        registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
        title: 'Client Forbidden',
        required_enrollment: 'Appropriate Level of API Access',
        reason: 'client-not-enrolled',
        type: 'https://api.twitter.com/2/problems/client-forbidden',
      }),
    );
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
