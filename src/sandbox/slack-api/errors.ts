import type { Json } from './types.js';

/**
 * A Web API error as Slack reports it: HTTP 200 with `{ ok: false, error }`, optionally with
 * `response_metadata.messages` naming what was wrong (`[ERROR] … [json-pointer:/blocks/0/text]`).
 */
export class SlackApiError extends Error {
  override name = 'SlackApiError';
  constructor(
    readonly error: string,
    readonly messages: string[] = [],
    readonly extra: Json = {},
  ) {
    super(messages.length > 0 ? `${error}: ${messages.join('; ')}` : error);
  }

  toBody(): Json {
    return {
      ok: false,
      error: this.error,
      ...this.extra,
      ...(this.messages.length > 0 ? { response_metadata: { messages: this.messages } } : {}),
    };
  }
}
