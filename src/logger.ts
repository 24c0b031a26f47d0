import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks wherever they appear in a log object, so tokens never reach a log line. */
export const REDACTED_PATHS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'secret',
  'apiKey',
  'password',
  'authorization',
  '*.token',
  '*.secret',
  '*.signingSecret',
  '*.apiKey',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'req.headers["webhook-signature"]',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.SLACK_APP_TOKEN',
  'config.X_BEARER_TOKEN',
  'config.X_API_SECRET',
  'config.X_ACCESS_SECRET',
  'config.X_OAUTH2_USER_TOKEN',
  'config.OPENAI_API_KEY',
  'config.DATABASE_URL',
];

/** Token shapes of the services Earshot talks to, for text that pino's path redaction cannot see. */
const SECRET_PATTERNS = [
  /\bxox[abposre]-[A-Za-z0-9-]+/g,
  /\bxapp-[A-Za-z0-9-]+/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /\bwhsec_[A-Za-z0-9+/=]+/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi,
];

/** Blanks anything shaped like a token in free text (a library's message, an error string). */
export function scrubSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, '[redacted]'), text);
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
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (pretty && !destination) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
