import { randomBytes } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import { isAppError } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** What a user is told when their action failed, and whether it was expected (a refusal) or a fault. */
export interface FailureMessage {
  text: string;
  expected: boolean;
  ref?: string;
}

const HINTS: Partial<Record<string, string>> = {
  already_claimed: 'Ask them, or a lead, to reassign it.',
  not_claimed: 'Claim it first if you want it.',
  not_found: 'It may have been deleted; `/earshot find` searches the rest.',
  invalid_input: 'Check the input and try again.',
  conflict: 'Someone changed it at the same time; look at the card again and retry.',
};

/**
 * Turns any failure into words for the person who clicked. Earshot's coded errors (a refusal, a
 * ticket already claimed, a transition the lifecycle forbids) say what went wrong and what to do;
 * anything else is a fault on our side: a short apology with a reference that is also in the log.
 */
export function describeFailure(err: unknown): FailureMessage {
  if (isAppError(err) && !err.retryable) {
    // A message that already says what to do can switch the generic hint off (`details.hint: false`).
    const hint = err.details.hint === false ? undefined : HINTS[err.code];
    const text = hint && !err.message.includes(hint) ? `${err.message} ${hint}` : err.message;
    return { text: `:no_entry: ${text}`, expected: true };
  }
  const ref = randomBytes(4).toString('hex');
  return {
    text: `:warning: Something failed on Earshot's side and nothing was changed. It is logged (ref \`${ref}\`); try again in a moment.`,
    expected: false,
    ref,
  };
}

export interface TellUserTarget {
  client: WebClient;
  userId: string;
  channelId?: string | undefined;
  /** Bolt's `respond` for the request, used when an ephemeral message cannot go to the channel. */
  respond?:
    | ((message: { text: string; response_type: 'ephemeral'; replace_original: false }) => Promise<unknown>)
    | undefined;
}

/**
 * Sends an ephemeral message to the user where they clicked: chat.postEphemeral, else response_url.
 * With neither (a click inside a modal, a submission), the message goes to the user's DM with the app.
 */
export async function tellUser(target: TellUserTarget, text: string): Promise<void> {
  if (target.channelId) {
    try {
      await target.client.chat.postEphemeral({ channel: target.channelId, user: target.userId, text });
      return;
    } catch (err) {
      if (!target.respond) throw err;
    }
  }
  if (target.respond) {
    await target.respond({ text, response_type: 'ephemeral', replace_original: false });
    return;
  }
  await target.client.chat.postMessage({ channel: target.userId, text });
}

/**
 * Reports a listener failure: the user gets the message, the log gets the error with its context
 * (expected refusals at info, faults at error). Nothing is swallowed: if even telling the user
 * fails, that is logged too.
 */
export async function reportFailure(
  err: unknown,
  target: TellUserTarget,
  logger: Logger,
  context: Record<string, unknown>,
): Promise<void> {
  const message = describeFailure(err);
  if (message.expected) logger.info({ ...context, code: (err as { code?: string }).code }, 'Slack action refused');
  else logger.error({ ...context, err, ref: message.ref }, 'Slack action failed');
  try {
    await tellUser(target, message.text);
  } catch (tellErr) {
    logger.error({ ...context, err: tellErr }, 'could not tell the user that their action failed');
  }
}
