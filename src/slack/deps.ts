import type { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Actor, Category } from '../tickets/types.js';

/**
 * What every Slack listener receives from the composition root (closures over these, no container).
 * In a listener, prefer Bolt's `client` argument for calls answering the request; `client` here is
 * the bot's own client for work that has no request (jobs, the delivery worker).
 */
export interface SlackDeps {
  db: Database;
  config: Config;
  logger: Logger;
  client: WebClient;
  /** Turns a Slack user id into an actor with its Earshot role (registers first-time users). */
  resolveActor: (slackUserId: string) => Promise<Actor>;
  /**
   * Queues a re-render of a ticket's card and wakes the delivery worker. Ticket actions already
   * queue their refresh in their own transaction; use this for changes made any other way.
   */
  refreshCard: (ticketId: number) => Promise<void>;
  /** Tells the delivery worker new outbox rows are waiting, so cards update now, not on the next poll. */
  wakeDelivery: () => void;
  /** Services other modules registered (src/modules.ts), for subcommands that need one (`triage`). */
  services?: ReadonlyMap<string, unknown>;
  /**
   * Drafts a reply for the Reply modal (the triage service's `suggestReply`: OpenAI in the customer's
   * language and the brand's tone, else the best template). Absent: the modal offers templates only.
   */
  suggestReply?: ReplySuggester;
}

/** The triage engine's reply drafting as the Reply modal calls it (structurally `TriageService.suggestReply`). */
export type ReplySuggester = (input: {
  text: string;
  language?: string | null;
  category?: Category | null;
  customerName?: string | null;
  templates: readonly { id: number; name: string; body: string }[];
}) => Promise<{ text: string; source: string; templateId?: number }>;
