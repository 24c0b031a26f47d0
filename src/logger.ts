import { type Logger, pino } from 'pino';
import { currentLogContext } from './observability/log-context.js';

export type { Logger } from 'pino';

const CENSOR = '[redacted]';

/**
 * Keys whose values are secrets, matched on the key lowercased with `-`, `_` and `.` removed, at any
 * depth: `token`, `botToken`, `X_ACCESS_TOKEN`, `headers.Authorization`, `x-slack-signature`,
 * `config.X_API_KEY`, `password`. Every string under such a key is blanked; numbers and booleans
 * stay (`usage.prompt_tokens: 12` is no secret).
 */
const SECRET_KEY = /token|secret|passw(?:or)?d|apikey|authori[sz]ation|cookie|signature|privatekey|credential/;
const SECRET_KEY_EXACT: ReadonlySet<string> = new Set(['pass', 'pwd', 'auth', 'jwt', 'sig']);

export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_.\s]/g, '');
  return SECRET_KEY_EXACT.has(normalized) || SECRET_KEY.test(normalized);
}

/** Token shapes of the services Earshot talks to, and credentials inside URLs, for free text. */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\bxox[abposre]-[A-Za-z0-9-]+/g, CENSOR],
  [/\bxapp-[A-Za-z0-9-]+/g, CENSOR],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, CENSOR],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, CENSOR],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, CENSOR],
  [/\bBasic\s+[A-Za-z0-9+/=]{8,}/g, CENSOR],
  // postgres://user:password@host → postgres://user:[redacted]@host (the user helps debugging; the password never).
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"'<>]*):[^\s/?#@"'<>]*@/gi, `$1:${CENSOR}@`],
  // ?token=…, &api_key=…, &password=… in URLs and query strings.
  [/([?&;](?:[a-z0-9_-]*(?:token|secret|password|api[-_]?key|signature)|sig|key)=)[^&\s#"'<>]+/gi, `$1${CENSOR}`],
];

/** Blanks anything shaped like a token, and the password of a URL, in free text (a message, an error string). */
export function scrubSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

const MAX_DEPTH = 16;

/**
 * A copy of a JSON-shaped value with every string under a secret-named key blanked and token
 * shapes scrubbed from every other string, at any depth. The input is left as it was.
 */
export function redactSecrets(value: unknown, underSecret = false, depth = 0): unknown {
  if (typeof value === 'string') return underSecret ? CENSOR : scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((entry) => redactSecrets(entry, underSecret, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    out[key] = redactSecrets(entry, underSecret || isSecretKey(key), depth + 1);
  }
  return out;
}

/** Cheap test for a line that cannot hold anything to redact, so most lines skip the parse. */
const MAYBE_SECRET =
  /token|secret|passw|pass"|pwd|auth|jwt|sig|api[-_ ]?key|cookie|private[-_ ]?key|credential|:\/\/[^\s"/]*@|xox|xapp-|sk-|whsec_|bearer|basic /i;

/**
 * The last step before a line is written: the line pino built (message, child bindings, serialized
 * errors with their `config.headers`, `cause` chains, URL objects already turned into strings) is
 * redacted as data. This sees what path-based redaction cannot: any depth, any case, text.
 */
export function redactLogLine(line: string): string {
  if (!MAYBE_SECRET.test(line)) return line;
  const newline = line.endsWith('\n') ? '\n' : '';
  try {
    return JSON.stringify(redactSecrets(JSON.parse(line))) + newline;
  } catch {
    return scrubSecrets(line);
  }
}

export interface LoggerOptions {
  level: string;
  /** Pretty, human lines in a terminal; JSON everywhere else. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger({ level, pretty = false, destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { app: 'earshot' },
    hooks: { streamWrite: redactLogLine },
    // The request or ticket the line belongs to (src/observability/log-context.ts); a copy, as pino merges into it.
    mixin: () => ({ ...currentLogContext() }),
  };
  if (pretty && !destination) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
