import { type AppError, isAppError } from '../../errors.js';
import { can, type Permission, requirePermission } from '../../tickets/permissions.js';
import { escapeMrkdwn } from '../mrkdwn.js';
import { buildHelp } from './help.js';
import type { CommandContext, CommandReply, Subcommand } from './types.js';

/** A subcommand may ask for a stronger permission before its answer is shared with the channel. */
export type ShareableSubcommand = Subcommand & { sharePermission?: Permission };

/** The words of `/earshot …`: the subcommand name, its arguments, and whether the user added `share`. */
export interface ParsedCommand {
  name: string;
  args: string;
  share: boolean;
}

/**
 * Whether a subcommand's answer may be posted in the channel: it says so (`shareable`, read-only
 * output), or it names the permission sharing needs. Anything else (templates, roles, sources with
 * their webhook secret) always answers only the person who asked.
 */
export function isShareable(subcommand: ShareableSubcommand | undefined): boolean {
  return Boolean(subcommand && (subcommand.shareable === true || subcommand.sharePermission !== undefined));
}

/**
 * Splits the command text. A trailing `share` asks for the answer in the channel, but only for a
 * subcommand `shareable(name)` accepts; for the others it is just a word of the arguments
 * (`template add thanks Thanks, feel free to share` keeps its last word).
 */
export function parseCommandText(text: string, shareable: (name: string) => boolean = () => false): ParsedCommand {
  const trimmed = text.trim();
  const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!match) return { name: '', args: '', share: false };
  const name = (match[1] ?? '').toLowerCase();
  let args = (match[2] ?? '').trim();
  let share = false;
  const shared = shareable(name) ? /(?:^|\s)share$/i.exec(args) : null;
  if (shared) {
    share = true;
    args = args.slice(0, shared.index).trim();
  }
  return { name, args, share };
}

/**
 * Error text safe for mrkdwn: domain messages may quote what the user typed, so everything is
 * escaped, then the user mentions Earshot itself writes (`<@U123>`) are let back in.
 */
export function errorText(err: AppError): string {
  return `:warning: ${escapeMrkdwn(err.message).replace(/&lt;@([UW][A-Z0-9]+)&gt;/g, '<@$1>')}`;
}

/**
 * Runs one `/earshot` command: finds the subcommand (unknown or empty input gets help, never
 * silence), checks its permission (and the share permission when the user asked to share), runs
 * it, and turns domain refusals into an ephemeral explanation. Unexpected errors are rethrown for
 * the listener to log and report.
 */
export async function dispatchCommand(
  subcommands: readonly ShareableSubcommand[],
  ctx: Omit<CommandContext, 'args'>,
  text: string,
): Promise<CommandReply> {
  const find = (name: string) => subcommands.find((s) => s.name === name);
  const parsed = parseCommandText(text, (name) => isShareable(find(name)));
  const subcommand = find(parsed.name);
  if (!subcommand) {
    const intro =
      parsed.name && parsed.name !== 'help' ? `I don't know \`${escapeMrkdwn(parsed.name.slice(0, 40))}\`.` : null;
    return { ...buildHelp(subcommands, ctx.actor, intro), responseType: 'ephemeral' };
  }
  try {
    requirePermission(ctx.actor, subcommand.permission);
    if (parsed.share && subcommand.sharePermission && !can(ctx.actor, subcommand.sharePermission)) {
      requirePermission(ctx.actor, subcommand.sharePermission);
    }
    const reply = await subcommand.run({ ...ctx, args: parsed.args });
    return { ...reply, responseType: parsed.share ? 'in_channel' : (reply.responseType ?? 'ephemeral') };
  } catch (err) {
    if (isAppError(err) && !err.retryable) return { text: errorText(err), responseType: 'ephemeral' };
    throw err;
  }
}
