import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { type Route, readBody, sendJson } from '../../http/router.js';
import type { Logger } from '../../logger.js';

/** Where replies to demo posts are delivered: the demo's stand-in for the customer's channel. */
export const DEMO_REPLY_PATH = '/sandbox/demo/replies';

/** Replies kept for the page and tests; older ones are dropped. */
const KEPT_REPLIES = 100;

export interface DemoReply {
  id: string;
  inReplyTo: string | null;
  text: string;
  receivedAt: Date;
}

/**
 * The demo channel's reply endpoint: it checks the Standard Webhooks signature Earshot's reply worker
 * sends (with the demo source's secret) and answers with a message id, as a real channel would.
 */
export function demoReplyEndpoint(options: { secret: () => string | null; logger: Logger }): {
  routes: Route[];
  received: DemoReply[];
} {
  const log = options.logger.child({ component: 'demo-feed' });
  const received: DemoReply[] = [];
  const route: Route = {
    method: 'POST',
    path: DEMO_REPLY_PATH,
    handler: async (req, res) => {
      const body = await readBody(req, 256 * 1024);
      const secret = options.secret();
      if (!secret) return sendJson(res, 503, { error: 'not_ready' });
      const header = (name: string) => String(req.headers[name] ?? '');
      let payload: { id?: unknown; in_reply_to?: unknown; text?: unknown };
      try {
        payload = new Webhook(secret).verify(body, {
          'webhook-id': header('webhook-id'),
          'webhook-timestamp': header('webhook-timestamp'),
          'webhook-signature': header('webhook-signature'),
        }) as typeof payload;
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        return sendJson(res, 401, { error: 'bad_signature', message: err.message });
      }
      const reply: DemoReply = {
        id: `demo-reply-${header('webhook-id')}`,
        inReplyTo: typeof payload.in_reply_to === 'string' ? payload.in_reply_to : null,
        text: typeof payload.text === 'string' ? payload.text : '',
        receivedAt: new Date(),
      };
      received.push(reply);
      if (received.length > KEPT_REPLIES) received.splice(0, received.length - KEPT_REPLIES);
      log.info({ inReplyTo: reply.inReplyTo }, 'the demo customer received a reply');
      sendJson(res, 200, { id: reply.id });
    },
  };
  return { routes: [route], received };
}
