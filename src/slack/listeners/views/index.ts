import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps.js';
import * as assign from './assign.js';
import * as correct from './correct.js';
import * as escalate from './escalate.js';
import * as reply from './reply.js';
import * as tag from './tag.js';

/**
 * Modal listeners: each modal's submission, plus the Reply modal's in-modal actions (live count,
 * template picked), which belong to the modal rather than to any message.
 */
export function register(app: App, deps: SlackDeps): void {
  reply.register(app, deps);
  tag.register(app, deps);
  escalate.register(app, deps);
  assign.register(app, deps);
  correct.register(app, deps);
}
