import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { runWithLogContext } from '../observability/log-context.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** An id a load balancer or client sent is kept when it looks like one; anything else is replaced. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the caller's `x-request-id` when it is sane, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(given) ? given[0] : given;
  return value && ACCEPTABLE_ID.test(value) ? value : randomUUID();
}

/**
 * Runs one request inside its log context: every line written while it is handled (and by the work
 * it starts, such as a Slack listener after the ack) carries `requestId`. The id is echoed in the
 * response's `x-request-id`, and one access line is written when the response ends: debug, or
 * info for a 5xx, so a production log at info shows the failures without the traffic.
 */
export function withRequestContext(req: IncomingMessage, res: ServerResponse, log: Logger, handle: () => void): void {
  const requestId = requestIdOf(req);
  const started = performance.now();
  res.setHeader(REQUEST_ID_HEADER, requestId);
  runWithLogContext(
    { requestId },
    () => {
      res.once('close', () => {
        const status = res.statusCode;
        // Most lines are debug and dropped at info: build one only when it will be written.
        if (status < 500 && !log.isLevelEnabled('debug')) return;
        const line = {
          method: req.method,
          path: new URL(req.url ?? '/', 'http://localhost').pathname,
          status,
          durationMs: Math.round(performance.now() - started),
          ...(res.writableFinished ? {} : { aborted: true }),
        };
        if (status >= 500) log.info(line, 'request');
        else log.debug(line, 'request');
      });
      handle();
    },
    { fresh: true },
  );
}
