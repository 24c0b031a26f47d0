import type { App } from '@slack/bolt';
import type { SlackDeps } from '../../deps.js';
import * as crisis from './crisis.js';
import * as digest from './digest.js';
import * as overflow from './overflow.js';
import * as ticketButtons from './ticket-buttons.js';

interface ListenerModule {
  register: (app: App, deps: SlackDeps) => void;
}

/**
 * Buttons that open modals (Reply, Tag, Escalate, and the overflow's Assign, Correct triage,
 * Full text) live in `open-*.ts` files beside this one: import each and append it to this list.
 */
const MODAL_OPENERS: readonly ListenerModule[] = [];

/** Every `block_actions` listener: the card's state-changing buttons, the overflow menu, the digest. */
export function register(app: App, deps: SlackDeps): void {
  for (const module of [ticketButtons, overflow, digest, crisis, ...MODAL_OPENERS]) module.register(app, deps);
}
