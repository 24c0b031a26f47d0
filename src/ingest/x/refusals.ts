import { ApiResponseError } from 'twitter-api-v2';

/** Twitter's snowflake epoch: a post id's top bits count milliseconds from 2010-11-04T01:42:54.657Z. */
const SNOWFLAKE_EPOCH = 1_288_834_974_657n;

/** When X made this post id (ids are snowflakes). */
export function idTime(id: string): Date {
  return new Date(Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH));
}

/**
 * The smallest post id X can have made at `at`. X itself suggests such ids when it refuses an old
 * `since_id` ("use a 'since_id' that is larger than …": the low 22 bits are zero).
 */
export function idAt(at: Date): string {
  return String((BigInt(Math.max(at.getTime(), Number(SNOWFLAKE_EPOCH))) - SNOWFLAKE_EPOCH) << 22n);
}

/**
 * Why X refused a search outright (400), if it did: `outside_window` when a `since_id`,
 * `until_id` or `start_time` lies before recent search's 7-day window, `bad_query` when the query
 * itself is refused (an operator the access level lacks, a syntax error, too long). Anything else
 * (429, 5xx, network) is null: worth retrying as it is.
 */
export function classifySearchRefusal(err: unknown): { kind: 'outside_window' | 'bad_query'; message: string } | null {
  if (!(err instanceof ApiResponseError) || err.code !== 400) return null;
  const data = (err.data ?? {}) as {
    errors?: { message?: string; parameters?: Record<string, unknown> }[];
    detail?: string;
    title?: string;
  };
  const errors = data.errors ?? [];
  const message =
    errors
      .map((e) => e.message)
      .filter(Boolean)
      .join('; ') ||
    data.detail ||
    err.message;
  const parameters = new Set(errors.flatMap((e) => Object.keys(e.parameters ?? {})));
  const window = ['since_id', 'until_id', 'start_time'].some((p) => parameters.has(p)) && !parameters.has('query');
  return { kind: window ? 'outside_window' : 'bad_query', message };
}

/** True when X says this app's access level lacks the endpoint (the filtered stream on Free/Basic). */
export function isNotEnrolled(err: unknown): boolean {
  return (
    err instanceof ApiResponseError &&
    err.code === 403 &&
    (err.data as { reason?: string } | undefined)?.reason === 'client-not-enrolled'
  );
}
