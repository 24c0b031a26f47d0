import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { withRequestContext } from './request-context.js';
import { createRouter, type Route, sendJson } from './router.js';

export interface HttpServer {
  server: Server;
  /** The base URL the server listens on, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Adds routes while the server runs (the modules' routes, once they are built). */
  mount: (routes: readonly Route[]) => void;
  close: () => Promise<void>;
}

/**
 * Starts the one HTTP server of the process: Slack events, webhooks, probes and the sandbox all
 * mount on it as routes. It can listen before the routes exist (the app learns its own URL first,
 * then builds the modules and mounts theirs). A handler that throws answers 500 and is logged,
 * never crashes the process.
 */
export async function startHttpServer(options: {
  port: number;
  host?: string;
  routes?: readonly Route[];
  logger: Logger;
}): Promise<HttpServer> {
  let routes: readonly Route[] = options.routes ?? [];
  let router = createRouter(routes);
  const log = options.logger.child({ component: 'http' });
  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const found = router.match(req.method ?? 'GET', pathname);
    if (found === null) return sendJson(res, 404, { error: 'not_found', message: `No route for ${pathname}` });
    if (found === 'method_not_allowed') return sendJson(res, 405, { error: 'method_not_allowed' });
    Promise.resolve()
      .then(() => found.route.handler(req, res, found.params))
      .catch((err: unknown) => {
        log.error({ err, path: pathname }, 'request failed');
        if (!res.headersSent)
          sendJson(res, 500, {
            error: 'internal_error',
            message: 'Earshot failed to handle this request; it has been logged.',
          });
        else res.end();
      });
  };
  const server = createServer((req, res) => withRequestContext(req, res, log, () => handleRequest(req, res)));
  // Behind a load balancer idle connections are reused; keep them longer than typical LB idle timeouts.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    mount: (added) => {
      routes = [...routes, ...added];
      router = createRouter(routes);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long-lived responses (the sandbox page's live stream) would hold shutdown open; in-flight
        // request handlers have had their chance by now, as modules stop only after this resolves.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}
