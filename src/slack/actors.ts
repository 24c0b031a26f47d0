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
 * change applies on the next click). A role an admin set is final and costs no Slack call; any
 * other role follows Slack's `users.info` (owners and admins are Earshot admins), whose answers are
 * cached for `factsTtlMs`. When users.info fails the user gets their stored role, or the default
 * for now, and nothing is stored: Slack is asked again after `failureTtlMs`.
 */
export function createActorResolver(deps: {
  db: Database;
  config: Pick<Config, 'EARSHOT_ADMINS' | 'EARSHOT_DEFAULT_ROLE'>;
  client: WebClient;
  logger: Logger;
  factsTtlMs?: number;
  failureTtlMs?: number;
}): (slackUserId: string) => Promise<Actor> {
  const ttl = deps.factsTtlMs ?? 5 * 60_000;
  const failureTtl = deps.failureTtlMs ?? 30_000;
  const facts = new Map<string, { until: number; facts: SlackUserFacts | null }>();
  const bootstrap = { admins: deps.config.EARSHOT_ADMINS, defaultRole: deps.config.EARSHOT_DEFAULT_ROLE };

  async function slackFacts(userId: string): Promise<SlackUserFacts | null> {
    const cached = facts.get(userId);
    if (cached && Date.now() < cached.until) return cached.facts;
    try {
      const { user } = await deps.client.users.info({ user: userId });
      const found: SlackUserFacts = {
        isWorkspaceAdmin: Boolean(user?.is_admin || user?.is_owner),
        displayName: user?.profile?.display_name || user?.real_name || user?.name || null,
      };
      facts.set(userId, { until: Date.now() + ttl, facts: found });
      return found;
    } catch (err) {
      deps.logger.warn(
        { err, userId },
        'users.info failed; the user keeps their stored or the default role until Slack answers',
      );
      facts.set(userId, { until: Date.now() + failureTtl, facts: null });
      return null;
    }
  }

  return async (slackUserId) => {
    if (bootstrap.admins.includes(slackUserId)) return resolveActor(deps.db, slackUserId, bootstrap, null);
    const [known] = await deps.db
      .select({ role: agents.role, roleSetBy: agents.roleSetBy })
      .from(agents)
      .where(eq(agents.slackUserId, slackUserId));
    if (known?.roleSetBy) return { kind: 'user', userId: slackUserId, role: known.role };
    return resolveActor(deps.db, slackUserId, bootstrap, await slackFacts(slackUserId));
  };
}
