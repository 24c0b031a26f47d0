import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer, isSealed, parseSecretKey } from '../../src/db/sealed.js';

describe('sealed secrets', () => {
  const key = randomBytes(32);
  const sealer = createSealer([key]);

  it('opens what it sealed, and seals the same text differently each time', () => {
    const sealed = sealer.seal('refresh-token-é');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(sealed).not.toContain('refresh-token');
    expect(sealer.open(sealed)).toBe('refresh-token-é');
    expect(sealer.seal('refresh-token-é')).not.toBe(sealed);
  });

  it('refuses a changed value, a wrong key and plaintext, with a message naming the setting', () => {
    const sealed = sealer.seal('secret');
    const body = Buffer.from(sealed.slice(3), 'base64url');
    body[body.length - 1]! ^= 1;
    const tampered = `v1.${body.toString('base64url')}`;
    expect(() => sealer.open(tampered)).toThrow(/EARSHOT_SECRET_KEY/);
    expect(() => createSealer([randomBytes(32)]).open(sealed)).toThrow(/EARSHOT_SECRET_KEY/);
    expect(() => sealer.open('secret')).toThrow(/EARSHOT_SECRET_KEY/);
  });

  it('opens with a previous key after rotation and seals with the new one', () => {
    const old = sealer.seal('kept');
    const rotated = createSealer([randomBytes(32), key]);
    expect(rotated.open(old)).toBe('kept');
    expect(() => sealer.open(rotated.seal('new'))).toThrow();
    // What the previous key sealed is due to be sealed again; plaintext is not sealed at all.
    expect([rotated.isCurrent(old), rotated.isCurrent(rotated.seal('new'))]).toEqual([false, true]);
    expect([isSealed(old), isSealed('whsec_abc'), rotated.isCurrent('whsec_abc')]).toEqual([true, false, false]);
  });

  it('accepts only 32 bytes in base64 as a key', () => {
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(parseSecretKey('not a key')).toBeUndefined();
  });
});
