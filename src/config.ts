import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { parseSecretKey } from './db/sealed.js';
import { SEARCH_WINDOW_MS } from './ingest/x/search-window.js';

/**
 * Every setting Earshot reads, parsed once at start. Nothing else reads process.env:
 * the composition root passes the typed result to whoever needs it.
 */
const slackUserList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'Slack user ids look like U012ABCDEF')));

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** `EARSHOT_SECRET_KEY` and its predecessor: 32 random bytes in base64. */
const secretKey = optionalString.pipe(
  z
    .string()
    .refine((value) => parseSecretKey(value) !== undefined, {
      message: 'expected 32 random bytes in base64: openssl rand -base64 32',
    })
    .optional(),
);

const url = z.url({ message: 'expected an absolute URL such as http://127.0.0.1:3000' });
const optionalUrl = optionalString.pipe(url.optional());

/** A node-cron expression (five fields, or six with seconds), checked here so a typo stops start, not the job. */
const cronExpression = z
  .string()
  .trim()
  .refine((value) => isValidCron(value), { message: 'expected a cron expression such as "*/5 * * * *"' });

/** An IANA time zone name that this Node's Intl knows (UTC, Europe/Berlin, America/New_York). */
const timeZone = z
  .string()
  .trim()
  .refine(
    (value) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: value });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'expected an IANA time zone such as UTC or Europe/Berlin' },
  );

const boolFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const settingsSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host:port/database')
      .optional(),
  ),
  EARSHOT_DATA_DIR: z.string().default('./data'),

  SLACK_BOT_TOKEN: optionalString.pipe(
    z.string().startsWith('xoxb-', 'expected a bot token starting with xoxb-').optional(),
  ),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString.pipe(
    z.string().startsWith('xapp-', 'expected an app-level token starting with xapp-').optional(),
  ),
  SLACK_API_URL: optionalUrl,
  /** The address sandbox mode (no SLACK_BOT_TOKEN) listens on: loopback, as its page lets anyone act as anyone. */
  EARSHOT_SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),

  X_BEARER_TOKEN: optionalString,
  X_API_URL: optionalUrl,
  X_API_KEY: optionalString,
  X_API_SECRET: optionalString,
  X_ACCESS_TOKEN: optionalString,
  X_ACCESS_SECRET: optionalString,
  X_OAUTH2_USER_TOKEN: optionalString,
  /** OAuth 2.0 app (client) id: with a refresh token, Earshot refreshes the 2-hour user token itself. */
  X_OAUTH2_CLIENT_ID: optionalString,
  /** Client secret of a confidential OAuth 2.0 app; unset for a public one. */
  X_OAUTH2_CLIENT_SECRET: optionalString,
  /** The first refresh token (scope offline.access); each refresh rotates it, and the new one is kept in Postgres. */
  X_OAUTH2_REFRESH_TOKEN: optionalString,
  /** Seals the secrets Earshot stores and must read back (the rotating X refresh token). */
  EARSHOT_SECRET_KEY: secretKey,
  /** The key before a rotation: it still opens what it sealed; everything new is sealed with EARSHOT_SECRET_KEY. */
  EARSHOT_SECRET_KEY_PREVIOUS: secretKey,

  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().default(8000),
  /** The brand's voice for OpenAI reply drafts, one sentence. */
  EARSHOT_BRAND_TONE: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .default('Warm, plain and brief; apologise once when something went wrong; no emoji, no jargon.'),

  EARSHOT_ADMINS: slackUserList.default([]),
  EARSHOT_DEFAULT_ROLE: z.enum(['admin', 'lead', 'agent', 'viewer']).default('agent'),
  EARSHOT_FEEDBACK_CHANNEL: z.string().default('earshot-feedback'),
  EARSHOT_CRISIS_CHANNEL: z.string().default('earshot-oncall'),
  EARSHOT_LEADS_CHANNEL: z.string().default('earshot-leads'),
  /** Minutes within which a second post by the same author on the same source joins their open ticket. */
  EARSHOT_GROUPING_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 60),
  EARSHOT_MASK_PII: boolFlag.default(true),
  EARSHOT_MAX_TEXT_LENGTH: z.coerce.number().int().positive().default(20_000),

  // --- SLA, escalation, crisis alerts, digests, retention (src/sla, src/crisis, src/reports, src/privacy) ---
  /** Slack user groups on duty per channel: `S0123` for all, or `earshot-feedback=S0123,C0456=S0789`. */
  EARSHOT_ON_DUTY_GROUPS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const groups: Record<string, string> = {};
      for (const part of value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [channel, group] = part.includes('=') ? part.split('=', 2) : ['*', part];
        if (!channel || !group || !/^S[A-Z0-9]+$/.test(group.trim())) {
          ctx.addIssue({ code: 'custom', message: 'expected S0123 or channel=S0123, comma-separated' });
          return z.NEVER;
        }
        groups[channel.trim()] = group.trim();
      }
      return groups;
    }),
  /** The on-call Slack user group mentioned on crisis alerts (S0123). */
  EARSHOT_ONCALL_GROUP: optionalString.pipe(
    z
      .string()
      .regex(/^S[A-Z0-9]+$/, 'expected a user group id like S0123')
      .optional(),
  ),
  EARSHOT_ESCALATE_ON_DUTY_MINUTES: z.coerce.number().int().min(0).default(30),
  EARSHOT_ESCALATE_LEADS_MINUTES: z.coerce.number().int().min(0).default(120),
  EARSHOT_SLA_SWEEP_CRON: cronExpression.default('* * * * *'),
  EARSHOT_CRISIS_CRON: cronExpression.default('* * * * *'),
  EARSHOT_CRISIS_MIN_COUNT: z.coerce.number().int().positive().default(8),
  EARSHOT_CRISIS_RATIO: z.coerce.number().positive().default(3),
  EARSHOT_CRISIS_Z_SCORE: z.coerce.number().positive().default(4),
  EARSHOT_CRISIS_INFLUENCER_FOLLOWERS: z.coerce.number().int().positive().default(50_000),
  EARSHOT_CRISIS_COOLDOWN_MINUTES: z.coerce.number().int().positive().default(60),
  EARSHOT_DIGEST_CHANNEL: optionalString,
  EARSHOT_DIGEST_HOUR: z.coerce.number().int().min(0).max(23).default(9),
  EARSHOT_DIGEST_TIMEZONE: timeZone.default('UTC'),
  EARSHOT_DIGEST_DAILY: boolFlag.default(true),
  EARSHOT_DIGEST_WEEKLY_DAY: z.enum(['off', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']).default('mon'),
  /** Items and tickets older than this many days are anonymized or deleted; 0 keeps everything. */
  EARSHOT_RETENTION_DAYS: z.coerce.number().int().min(0).default(0),
  EARSHOT_RETENTION_MODE: z.enum(['anonymize', 'delete']).default('anonymize'),
  /** The app's public base URL (what Slack reaches); report charts are served from it. Unset: no chart image. */
  EARSHOT_PUBLIC_URL: optionalUrl,

  // --- Ingestion and replies (issue 4) ---
  /** `stream` (filtered stream + backfill), `poll` (mentions + recent search on a schedule) or `off`. */
  X_INGEST_MODE: z.enum(['stream', 'poll', 'off']).default('stream'),
  X_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(15).default(60),
  /** The X user id whose mentions polling reads; unset = recent search only. */
  X_ACCOUNT_ID: optionalString.pipe(z.string().regex(/^\d+$/, 'expected a numeric X user id').optional()),
  /** The Earshot source that X posts are stored under. */
  X_SOURCE_NAME: z.string().default('x'),
  EARSHOT_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  EARSHOT_WEBHOOK_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),

  // --- Slack delivery (src/slack/delivery) ---
  /** New P3/P4 cards queued for one channel within the burst window that make the worker post one digest card instead; 0 turns it off. */
  EARSHOT_BURST_THRESHOLD: z.coerce.number().int().min(0).default(20),
  /** How far back (minutes) the burst threshold counts new cards. */
  EARSHOT_BURST_WINDOW_MINUTES: z.coerce.number().int().min(1).default(5),
});

/**
 * An empty or blank value counts as unset, for every setting and before any coercion or default:
 * `PORT=` in a .env file means "the default", never 0.
 */
function blanksAsUnset(env: unknown): unknown {
  if (typeof env !== 'object' || env === null) return env;
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      typeof value === 'string' && value.trim() === '' ? undefined : value,
    ]),
  );
}

const X_BACKFILL_DAYS = SEARCH_WINDOW_MS / 86_400_000;

export const configSchema = z.preprocess(blanksAsUnset, settingsSchema).superRefine((config, ctx) => {
  if (config.EARSHOT_SECRET_KEY_PREVIOUS && !config.EARSHOT_SECRET_KEY) {
    ctx.addIssue({
      code: 'custom',
      path: ['EARSHOT_SECRET_KEY'],
      message:
        'expected a key: EARSHOT_SECRET_KEY_PREVIOUS only opens what an earlier key sealed, beside a current one',
    });
  }
  // Deleting forgets a post's id; a backfill that finds the post again would take it in as new.
  const days = config.EARSHOT_RETENTION_DAYS;
  if (config.EARSHOT_RETENTION_MODE === 'delete' && days > 0 && days <= X_BACKFILL_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: ['EARSHOT_RETENTION_DAYS'],
      message: `expected more than ${X_BACKFILL_DAYS} days (or 0) with EARSHOT_RETENTION_MODE=delete: X's backfill reaches back ${X_BACKFILL_DAYS} days and would bring a deleted post back as new`,
    });
  }
});

export type Config = z.infer<typeof settingsSchema>;

/** Names every setting the schema knows, for the README check and .env.example. */
export const configKeys = Object.keys(settingsSchema.shape) as (keyof Config)[];

/**
 * Parses the environment. Throws one error naming every bad variable and what it expects,
 * so an operator fixes them all in one go.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `  ${name}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
