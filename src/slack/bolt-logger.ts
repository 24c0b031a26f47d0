import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../logger.js';

const TO_PINO: Record<LogLevel, 'debug' | 'info' | 'warn' | 'error'> = {
  [LogLevel.DEBUG]: 'debug',
  [LogLevel.INFO]: 'info',
  [LogLevel.WARN]: 'warn',
  [LogLevel.ERROR]: 'error',
};

function write(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error', parts: unknown[]): void {
  const err = parts.find((part) => part instanceof Error);
  const text = parts
    .filter((part) => part !== err)
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
    .join(' ');
  if (err) logger[level]({ err }, text || (err as Error).message);
  else logger[level](text);
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
