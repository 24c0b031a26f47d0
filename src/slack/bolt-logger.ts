import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { type Logger, scrubSecrets } from '../logger.js';

const TO_PINO: Record<LogLevel, 'debug' | 'info' | 'warn' | 'error'> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

/**
 * Bolt logs strings, errors and plain objects. Strings become the message (token shapes scrubbed,
 * since path redaction cannot see into text); objects go under `details`, where pino's `*.token`
 * style paths still redact them; the first error goes under `err`.
 */
function write(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error', parts: unknown[]): void {
  const err = parts.find((part) => part instanceof Error) as Error | undefined;
  const rest = parts.filter((part) => part !== err);
  const text = scrubSecrets(
    rest
      .filter((part) => typeof part !== 'object' || part === null)
      .map(String)
      .join(' '),
  );
  const objects = rest.filter((part) => typeof part === 'object' && part !== null);
  const fields: Record<string, unknown> = {};
  if (err) fields.err = err;
  if (objects.length === 1) fields.details = objects[0];
  else if (objects.length > 1) fields.details = Object.assign({}, ...objects);
  logger[level](fields, text || err?.message || '');
}

/**
 * Bolt's logger interface over pino, so Bolt's own lines (signature failures, ack timeouts,
 * listener errors) land in the same JSON log as Earshot's, with the same redaction. Bolt's
 * `setLevel` is ignored: LOG_LEVEL decides, once, for everything.
 */
export function boltLogger(logger: Logger): BoltLogger {
  let child = logger.child({ component: 'bolt' });
  return {
    debug: (...msg: unknown[]) => write(child, 'debug', msg),
    info: (...msg: unknown[]) => write(child, 'info', msg),
    warn: (...msg: unknown[]) => write(child, 'warn', msg),
    error: (...msg: unknown[]) => write(child, 'error', msg),
    setLevel: () => {},
    getLevel: () => {
      const level = logger.level as string;
      return (Object.entries(TO_PINO).find(([, pino]) => pino === level)?.[0] as LogLevel) ?? LogLevel.INFO;
    },
    setName: (name: string) => {
      child = logger.child({ component: 'bolt', name });
    },
  };
}
