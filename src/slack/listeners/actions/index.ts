import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps.js';
import * as crisis from './crisis.js';
import * as digest from './digest.js';
import * as home from './home.js';
import * as openAssign from './open-assign.js';
import * as openCorrect from './open-correct.js';
import * as openEscalate from './open-escalate.js';
import * as openFullText from './open-full-text.js';
import * as openReply from './open-reply.js';
import * as openTag from './open-tag.js';
import * as overflow from './overflow.js';
import * as retryReply from './retry-reply.js';
import * as ticketButtons from './ticket-buttons.js';

interface ListenerModule {
  register: (app: App, deps: SlackDeps) => void;
}

/**
 * Buttons that open modals (Reply, Tag, Escalate, and the overflow's Assign, Correct triage,
 * Full text) live in `open-*.ts` files beside this one: import each and append it to this list.
 */
const MODAL_OPENERS: readonly ListenerModule[] = [
  openReply,
  openTag,
  openEscalate,
  openAssign,
  openCorrect,
  openFullText,
  home,
];

/** Every `block_actions` listener: the card's state-changing buttons, the overflow menu, the digest. */
export function register(app: App, deps: SlackDeps): void {
  for (const module of [ticketButtons, overflow, retryReply, digest, crisis, ...MODAL_OPENERS])
    module.register(app, deps);
}
