import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  type SignatureHeaders,
  WebhookSignatureError,
  WebhookVerifier,
  webhookSecretKey,
  webhookSignature,
} from '../../src/ingest/webhook-signature.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const reference = new Webhook(secret);
const verifier = new WebhookVerifier(secret);
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

function headers(payload: string, overrides: Partial<SignatureHeaders> = {}, at = new Date(NOW)): SignatureHeaders {
  return {
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': reference.sign('msg_1', at, payload),
    ...overrides,
  };
}

/** Our answer and the `standardwebhooks` package's for the same delivery: `ok`, or the refusal's message. */
function both(payload: Buffer, given: SignatureHeaders) {
  const answer = (verify: () => unknown, errorClass: new (...args: never[]) => Error) => {
    try {
      verify();
      return 'ok';
    } catch (err) {
      if (!(err instanceof errorClass)) throw err;
      return err.message;
    }
  };
  const realNow = Date.now;
  Date.now = () => NOW;
  try {
    return {
      ours: answer(() => verifier.verify(payload, given, NOW), WebhookSignatureError),
      package: answer(() => reference.verify(payload, { ...given }), WebhookVerificationError),
    };
  } finally {
    Date.now = realNow;
  }
}

describe('WebhookVerifier', () => {
  const payload = JSON.stringify({ id: 'm-1', author: { id: 'c-1' }, text: 'Où est ma commande ? 📦' });
  const body = Buffer.from(payload);
  const other = `v1,${Buffer.alloc(32, 7).toString('base64')}`;

  const cases: [string, Buffer, SignatureHeaders][] = [
    ['a signature made by the package', body, headers(payload)],
    [
      'a matching signature among others and unknown versions',
      body,
      headers(payload, {
        'webhook-signature': `v2,abc ${other} ${reference.sign('msg_1', new Date(NOW), payload)}`,
      }),
    ],
    [
      'a timestamp with leading zeros',
      body,
      headers(payload, {
        'webhook-timestamp': `00${Math.floor(NOW / 1000)}`,
      }),
    ],
    ['a body changed after signing', Buffer.from(payload.replace('commande', 'command')), headers(payload)],
    ['another id than the one signed', body, headers(payload, { 'webhook-id': 'msg_2' })],
    ['only wrong signatures', body, headers(payload, { 'webhook-signature': `${other} v1,` })],
    [
      'a signature without its version',
      body,
      headers(payload, {
        'webhook-signature': reference.sign('msg_1', new Date(NOW), payload).slice(3),
      }),
    ],
    ['a missing signature header', body, headers(payload, { 'webhook-signature': '' })],
    ['a missing id', body, headers(payload, { 'webhook-id': '' })],
    ['a timestamp that is not a number', body, headers(payload, { 'webhook-timestamp': 'soon' })],
    ['a timestamp six minutes old', body, headers(payload, {}, new Date(NOW - 6 * 60_000))],
    ['a timestamp six minutes ahead', body, headers(payload, {}, new Date(NOW + 6 * 60_000))],
    ['a timestamp four minutes old', body, headers(payload, {}, new Date(NOW - 4 * 60_000))],
  ];

  it.each(cases)('answers %s as the standardwebhooks package does', (_name, given, signed) => {
    const answers = both(given, signed);
    expect(answers.ours).toBe(answers.package);
  });

  it('accepts what it should and refuses the rest (so the comparison above cannot pass on two wrong answers)', () => {
    const answers = cases.map(([name, given, signed]) => [name, both(given, signed).ours]);
    expect(Object.fromEntries(answers)).toEqual({
      'a signature made by the package': 'ok',
      'a matching signature among others and unknown versions': 'ok',
      'a timestamp with leading zeros': 'ok',
      'a body changed after signing': 'No matching signature found',
      'another id than the one signed': 'No matching signature found',
      'only wrong signatures': 'No matching signature found',
      'a signature without its version': 'No matching signature found',
      'a missing signature header': 'Missing required headers',
      'a missing id': 'Missing required headers',
      'a timestamp that is not a number': 'Invalid Signature Headers',
      'a timestamp six minutes old': 'Message timestamp too old',
      'a timestamp six minutes ahead': 'Message timestamp too new',
      'a timestamp four minutes old': 'ok',
    });
  });

  it('signs as the package signs (the bench senders sign with it)', () => {
    const seconds = Math.floor(NOW / 1000);
    expect(webhookSignature(webhookSecretKey(secret), 'msg_1', seconds, payload)).toBe(
      reference.sign('msg_1', new Date(seconds * 1000), payload),
    );
  });

  it('takes a secret with or without its whsec_ prefix, and refuses an empty one', () => {
    const bare = new WebhookVerifier(secret.slice('whsec_'.length));
    expect(() => bare.verify(body, headers(payload), NOW)).not.toThrow();
    expect(() => new WebhookVerifier('whsec_')).toThrow("Secret can't be empty.");
  });
});
