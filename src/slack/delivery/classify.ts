/** How a failed Slack call should be treated by the delivery worker. */
export type DeliveryFailure =
  | { kind: 'rate_limited'; retryAfterMs: number; error: string }
  | { kind: 'transient'; error: string }
  | { kind: 'permanent'; error: string };

/** Slack errors that a later attempt cannot fix: the row is marked failed and logged. */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'msg_blocks_too_long',
  'no_text',
  'invalid_arguments',
  'cant_update_message',
  'edit_window_closed',
  'user_not_found',
  'cannot_dm_bot',
  'user_disabled',
  'restricted_action',
  'too_many_attachments',
]);

/**
 * Sorts a Web API failure into retry-later, wait-for-Retry-After, or give up. Works on the error's
 * `code` and fields rather than its class, so it reads errors from any copy of @slack/web-api.
 * Auth failures are retried (slowly): a fixed token makes every waiting card go out.
 */
export function classifySlackError(err: unknown): DeliveryFailure {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number };
  if (e?.code === 'slack_webapi_rate_limited_error') {
    const seconds = typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter : 1;
    return { kind: 'rate_limited', retryAfterMs: seconds * 1000, error: 'ratelimited' };
  }
  if (e?.code === 'slack_webapi_platform_error') {
    const error = e.data?.error ?? 'unknown_error';
    if (error === 'ratelimited') return { kind: 'rate_limited', retryAfterMs: 1000, error };
    return PERMANENT.has(error) ? { kind: 'permanent', error } : { kind: 'transient', error };
  }
  if (e?.code === 'slack_webapi_http_error') return { kind: 'transient', error: `http_${e.statusCode ?? 'error'}` };
  if (e?.code === 'slack_webapi_request_error') return { kind: 'transient', error: 'request_failed' };
  return { kind: 'transient', error: err instanceof Error ? err.message.slice(0, 200) : 'unknown_error' };
}
