import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a delivery's `webhook-timestamp` may be from now, either way (the spec's 5 minutes). */
const TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';

/** The three headers a Standard Webhooks delivery is signed with; an absent one is the empty string. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A delivery the signature check refused; the message says why, as the `standardwebhooks` package words it. */
export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

/** The HMAC key of a Standard Webhooks secret: the base64 after its `whsec_` prefix (the prefix is optional). */
export function webhookSecretKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new Error("Secret can't be empty.");
  return key;
}

/** The `v1,` signature of a delivery: base64 of HMAC-SHA256 over `<id>.<timestamp seconds>.<body>`. */
export function webhookSignature(key: Buffer, id: string, seconds: number, body: Buffer | string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${seconds}.`).update(body).digest('base64')}`;
}

/**
 * Checks Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,` + base64 of
 * HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<raw body>` with the secret's bytes, any one of
 * the space-separated signatures matching, the timestamp within five minutes of now. The
 * `standardwebhooks` package (which signs Earshot's own outgoing deliveries) verifies the same way
 * with a SHA-256 written in JavaScript, four to five times node:crypto's CPU per request, on the
 * path every inbound item takes; test/ingest/webhook-signature.test.ts holds the two to the same answers.
 */
export class WebhookVerifier {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = webhookSecretKey(secret);
  }

  /** Throws `WebhookSignatureError` unless the headers carry a current, matching signature of `body`. */
  verify(body: Buffer, headers: SignatureHeaders, nowMs = Date.now()): void {
    const id = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    const signatures = headers['webhook-signature'];
    if (!id || !timestamp || !signatures) throw new WebhookSignatureError('Missing required headers');
    const seconds = Number.parseInt(timestamp, 10);
    if (Number.isNaN(seconds)) throw new WebhookSignatureError('Invalid Signature Headers');
    const now = Math.floor(nowMs / 1000);
    if (now - seconds > TOLERANCE_SECONDS) throw new WebhookSignatureError('Message timestamp too old');
    if (seconds > now + TOLERANCE_SECONDS) throw new WebhookSignatureError('Message timestamp too new');
    // The timestamp as a number, as the package signs it ("0017" and "17" are the same second).
    const expected = Buffer.from(webhookSignature(this.key, id, seconds, body));
    for (const versioned of signatures.split(' ')) {
      // The part after `v1,` up to any further comma, as the package reads it.
      const [version, signature] = versioned.split(',');
      if (version !== 'v1' || signature === undefined) continue;
      const given = Buffer.from(`v1,${signature}`);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    }
    throw new WebhookSignatureError('No matching signature found');
  }
}
