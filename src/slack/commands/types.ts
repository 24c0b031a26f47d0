import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { Permission } from '../../tickets/permissions.js';
import type { Actor } from '../../tickets/types.js';

/** What every `/earshot` subcommand receives. */
export interface CommandContext {
  db: Database;
  config: Config;
  logger: Logger;
  actor: Actor;
  /** The words after the subcommand name, as typed (quotes kept). */
  args: string;
  channelId: string;
  userId: string;
  triggerId: string;
  /** Services other modules registered (src/modules.ts): `triage` for `route test`. */
  services?: ReadonlyMap<string, unknown>;
  /** The bot's Web API client, for subcommands that do more than answer (upload a file). */
  client?: WebClient;
}

/** What a subcommand answers; ephemeral unless the user asked to share. */
export interface CommandReply {
  text: string;
  blocks?: KnownBlock[];
  /** `in_channel` shares the answer with the channel. */
  responseType?: 'ephemeral' | 'in_channel';
}

/**
 * One `/earshot` subcommand. Each lives in its own file under `src/slack/commands/` and is listed in
 * `src/slack/commands/index.ts`; the dispatcher checks `permission` before `run`, so a refusal never
 * depends on the subcommand remembering to check.
 */
export interface Subcommand {
  name: string;
  /** One line for `/earshot help`: `queue` — open tickets by priority and age. */
  usage: string;
  summary: string;
  permission: Permission;
  /**
   * Read-only output the user may post in the channel by ending the command with `share`. Leave it
   * off for anything that changes state or shows secrets: `share` is then an ordinary word.
   */
  shareable?: boolean;
  run: (ctx: CommandContext) => Promise<CommandReply>;
}
