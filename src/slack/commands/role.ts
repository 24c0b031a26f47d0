import { AppError } from '../../errors.js';
import { setAgentRole } from '../../tickets/agents.js';
import { ROLES, type Role } from '../../tickets/types.js';
import type { Subcommand } from './types.js';

/** `<@U123|ana>`, `<@U123>` or a bare `U123`, as Slack escapes mentions in slash commands. */
export function parseUserMention(word: string): { userId: string; name: string | null } | null {
  const mention = /^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$/.exec(word);
  if (mention) return { userId: mention[1]!, name: mention[2] || null };
  if (/^[UW][A-Z0-9]{2,}$/.test(word)) return { userId: word, name: null };
  return null;
}

/** Reads `@user role`; refuses anything else with the usage. */
export function parseRoleArgs(args: string): { userId: string; name: string | null; role: Role } {
  const [who, role, ...rest] = args.trim().split(/\s+/);
  const user = who ? parseUserMention(who) : null;
  const wanted = ROLES.find((r) => r === role?.toLowerCase());
  if (!user || !wanted || rest.length > 0) {
    throw new AppError('invalid_input', 'Usage: `/earshot role @user admin|lead|agent|viewer`.', {
      details: { field: user ? 'role' : 'user' },
    });
  }
  return { ...user, role: wanted };
}

/** `role @user <role>`: admins give teammates a role. */
export const roleCommand: Subcommand = {
  name: 'role',
  usage: 'role @user admin|lead|agent|viewer',
  summary: 'give a teammate an Earshot role',
  permission: 'role.manage',
  run: async ({ db, actor, args }) => {
    const input = parseRoleArgs(args);
    const { before, after } = await setAgentRole(db, actor, {
      slackUserId: input.userId,
      role: input.role,
      displayName: input.name,
    });
    const change =
      before === after.role ? `is already ${after.role}` : `is now ${after.role}${before ? ` (was ${before})` : ''}`;
    return { text: `<@${after.slackUserId}> ${change}.` };
  },
};
