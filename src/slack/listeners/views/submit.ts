import type { ViewResponseAction } from '@slack/bolt';
import { isAppError } from '../../../errors.js';
import type { Logger } from '../../../logger.js';

/** `ack` of a view submission: no argument closes the modal; errors keep it open. */
export type ViewAck = (response?: ViewResponseAction) => Promise<void>;

/** Modal errors are plain text: mentions Earshot wrote as `<@U1>` read as `@U1`. */
export function plainError(message: string): string {
  return message.replace(/<@([UW][A-Z0-9]+)>/g, '@$1').slice(0, 500);
}

/** Answers a submission with field errors (`response_action: 'errors'`), keeping the modal open. */
export function ackErrors(ack: ViewAck, errors: Record<string, string>): Promise<void> {
  return ack({ response_action: 'errors', errors });
}

/**
 * Runs a submission's domain call and acks: success closes the modal; a refusal (role, lifecycle,
 * bad input) shows on the field it concerns (`details.field` mapped through `fieldBlocks`, else
 * `defaultBlock`); a fault shows a short message on the default block and is logged with context.
 */
export async function submitOrShowErrors(
  ack: ViewAck,
  logger: Logger,
  spec: {
    context: Record<string, unknown>;
    defaultBlock: string;
    fieldBlocks?: Record<string, string>;
    run: () => Promise<void>;
  },
): Promise<boolean> {
  try {
    await spec.run();
  } catch (err) {
    if (isAppError(err) && !err.retryable) {
      const field = typeof err.details.field === 'string' ? err.details.field : undefined;
      const block = (field && spec.fieldBlocks?.[field]) || spec.defaultBlock;
      logger.info({ ...spec.context, code: err.code }, 'modal submission refused');
      await ackErrors(ack, { [block]: plainError(err.message) });
      return false;
    }
    logger.error({ ...spec.context, err }, 'modal submission failed');
    await ackErrors(ack, { [spec.defaultBlock]: 'Something failed on Earshot’s side; nothing was saved. Try again.' });
    return false;
  }
  await ack();
  return true;
}
