import { randomUUID } from 'node:crypto';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { currentLogContext, runWithLogContext } from '../../observability/log-context.js';

/**
 * Global middleware: every listener runs inside a log context with a `requestId`. Over HTTP the
 * server has set one for the request already; a Socket Mode envelope gets a new one here.
 */
export function slackLogContext(): Middleware<AnyMiddlewareArgs> {
  return async ({ next }) => {
    if (currentLogContext().requestId) return next();
    return runWithLogContext({ requestId: randomUUID() }, () => next());
  };
}
