import type { WebClient } from '@slack/web-api';
import { eq } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { agents } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import { resolveActor, type SlackUserFacts } from '../tickets/agents.js';
import type { Actor } from '../tickets/types.js';

/**
 * Resolves Slack users to Earshot actors. Roles are read from the database every time (a role
 * change applies on the next click); only Slack's `users.info` facts about first-time users are
 * cached, briefly, since they are what costs a Slack call.
 */
export function createActorResolver(deps: {
  db: Database;
  config: Pick<Config, 'EARSHOT_ADMINS' | 'EARSHOT_DEFAULT_ROLE'>;
  client: WebClient;
  logger: Logger;
  factsTtlMs?: number;
}): (slackUserId: string) => Promise<Actor> {
  const ttl = deps.factsTtlMs ?? 5 * 60_000;
  const facts = new Map<string, { at: number; facts: SlackUserFacts }>();
  const bootstrap = { admins: deps.config.EARSHOT_ADMINS, defaultRole: deps.config.EARSHOT_DEFAULT_ROLE };

  async function slackFacts(userId: string): Promise<SlackUserFacts> {
    const cached = facts.get(userId);
    if (cached && Date.now() - cached.at < ttl) return cached.facts;
    try {
      const { user } = await deps.client.users.info({ user: userId });
      const found: SlackUserFacts = {
        isWorkspaceAdmin: Boolean(user?.is_admin || user?.is_owner),
        displayName: user?.profile?.display_name || user?.real_name || user?.name || null,
      };
      facts.set(userId, { at: Date.now(), facts: found });
      return found;
    } catch (err) {
      // Without Slack's word the user starts with the default role; an admin can raise it.
      deps.logger.warn({ err, userId }, 'users.info failed; registering the user with the default role');
      return {};
    }
  }

  return async (slackUserId) => {
    if (bootstrap.admins.includes(slackUserId)) return resolveActor(deps.db, slackUserId, bootstrap);
    const [known] = await deps.db.select({ role: agents.role }).from(agents).where(eq(agents.slackUserId, slackUserId));
    if (known) return { kind: 'user', userId: slackUserId, role: known.role };
    return resolveActor(deps.db, slackUserId, bootstrap, await slackFacts(slackUserId));
  };
}
