import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line written inside a unit of work carries: the HTTP request it serves, the
 * ticket (and outbox row, reply or item) it is about. Set by the HTTP server per request and by
 * the workers per row; read by the logger's `mixin` (src/logger.ts), so no call site passes it.
 */
export interface LogContext {
  requestId?: string;
  ticketId?: number;
  outboxId?: number;
  replyId?: number;
  itemId?: number;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `fields` added to the current context (or, with `fresh`, instead of it). */
export function runWithLogContext<T>(fields: LogContext, fn: () => T, options: { fresh?: boolean } = {}): T {
  const base = options.fresh ? {} : storage.getStore();
  return storage.run({ ...base, ...definedOnly(fields) }, fn);
}

/**
 * Adds fields to the context of the work in progress, for what is learned part-way (a button's
 * ticket id). Lines already written keep what they had; outside any context this does nothing.
 */
export function addLogContext(fields: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, definedOnly(fields));
}

/** The fields of the current context, for the logger's mixin; an empty object outside one. */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}

/**
 * Runs `fn` outside any context: for long-lived loops kicked off from inside a request (a worker's
 * `poke()`), whose later rounds must not carry that request's id forever.
 */
export function outsideLogContext<T>(fn: () => T): T {
  return storage.exit(fn);
}

function definedOnly(fields: LogContext): LogContext {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== null) out[key] = value;
  return out as LogContext;
}
