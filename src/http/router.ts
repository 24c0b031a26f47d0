import type { IncomingMessage, ServerResponse } from 'node:http';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => unknown;

/** One HTTP route. `path` segments starting with `:` capture a parameter; a final `*` captures the rest. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: RouteHandler;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (segment === '*') {
        names.push('rest');
        return '(.*)';
      }
      if (segment.startsWith(':')) {
        names.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

/**
 * A deliberately small router: Earshot serves a handful of routes (Slack events, webhooks, probes,
 * metrics, the sandbox) and needs no framework for them.
 */
export function createRouter(routes: readonly Route[]) {
  const compiled = routes.map(compile);
  return {
    /** Finds the handler for a request, or null; a path that exists under another method is reported as such. */
    match(
      method: string,
      pathname: string,
    ): { route: Route; params: Record<string, string> } | 'method_not_allowed' | null {
      let pathMatched = false;
      for (const route of compiled) {
        const found = route.pattern.exec(pathname);
        if (!found) continue;
        pathMatched = true;
        if (route.method !== method) continue;
        const params: Record<string, string> = {};
        route.names.forEach((name, index) => {
          params[name] = decodeURIComponent(found[index + 1] ?? '');
        });
        return { route, params };
      }
      return pathMatched ? 'method_not_allowed' : null;
    },
  };
}

/**
 * Reads a request body up to `limit` bytes; past it, rejects with `payload_too_large` and stops
 * reading. Listeners rather than `for await`: the async iterator cost every webhook delivery more
 * CPU than the read itself.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err: Error | null) => {
      req.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        settle(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(null);
    const onClose = () => settle(new Error('the request closed before its body was read'));
    req.on('data', onData).on('end', onEnd).on('error', settle).on('close', onClose);
  });
}

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`Request body is larger than ${limit} bytes.`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  // With its length known the response goes out as one write (headers and body), not chunked.
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
