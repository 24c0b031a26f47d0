import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

/**
 * Secrets Earshot must read back (a rotating X refresh token, webhook signing secrets), kept in Postgres sealed with
 * AES-256-GCM under `EARSHOT_SECRET_KEY`, so a database dump or backup does not hand them out.
 * `v1.` + base64url(12-byte IV | 16-byte tag | ciphertext); the tag makes any change to a stored
 * value (or a wrong key) fail to open instead of yielding garbage.
 */
export interface Sealer {
  seal(plaintext: string): string;
  /** Throws `config_invalid` when no configured key opens the value. */
  open(sealed: string): string;
  /** True when the sealing key (the first) opens it: false for plaintext, or what a previous key sealed. */
  isCurrent(sealed: string): boolean;
}

const PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** 32 random bytes in base64 (`openssl rand -base64 32`), or undefined when the value is not one. */
export function parseSecretKey(value: string): Buffer | undefined {
  const key = Buffer.from(value, 'base64');
  return key.length === 32 && key.toString('base64') === value.replace(/\s/g, '') ? key : undefined;
}

/** True when `value` is in the sealed format (`v1.…`), whichever key sealed it. */
export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The plaintext and the index of the key that opened it; null when no key does. */
function openWith(keys: readonly Buffer[], sealed: string): { plaintext: string; keyIndex: number } | null {
  const raw = isSealed(sealed) ? Buffer.from(sealed.slice(PREFIX.length), 'base64url') : null;
  if (!raw || raw.length < IV_BYTES + TAG_BYTES) return null;
  for (const [keyIndex, key] of keys.entries()) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return { plaintext: plaintext.toString('utf8'), keyIndex };
    } catch {
      // Not this key (or not intact): try the next one.
    }
  }
  return null;
}

/** Seals with the first key; opens with any of them, so a key can be rotated without losing what the old one sealed. */
export function createSealer(keys: readonly Buffer[]): Sealer {
  if (keys.length === 0) throw new Error('createSealer needs at least one key');
  return {
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keys[0]!, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed) {
      const opened = openWith(keys, sealed);
      if (opened) return opened.plaintext;
      throw new AppError(
        'config_invalid',
        'A secret stored in the database is sealed with a key EARSHOT_SECRET_KEY (or EARSHOT_SECRET_KEY_PREVIOUS) does not hold.',
      );
    },
    isCurrent(sealed) {
      return openWith(keys, sealed)?.keyIndex === 0;
    },
  };
}

/**
 * The sealer for `EARSHOT_SECRET_KEY`, which also opens what `EARSHOT_SECRET_KEY_PREVIOUS` sealed
 * (set both while rotating); null when no key is set, and secrets are then stored as they are.
 */
export function sealerFromConfig(
  config: Pick<Config, 'EARSHOT_SECRET_KEY' | 'EARSHOT_SECRET_KEY_PREVIOUS'>,
): Sealer | null {
  if (!config.EARSHOT_SECRET_KEY) return null;
  const keys = [config.EARSHOT_SECRET_KEY, config.EARSHOT_SECRET_KEY_PREVIOUS].flatMap((value) => {
    const key = value ? parseSecretKey(value) : undefined;
    return key ? [key] : [];
  });
  return createSealer(keys);
}
