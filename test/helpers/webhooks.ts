import { Webhook } from 'standardwebhooks';

/** The headers a channel sends with a webhook delivery, signed per Standard Webhooks with `secret`. */
export function signedHeaders(secret: string, id: string, payload: string, at = new Date()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, payload),
  };
}
