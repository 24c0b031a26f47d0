import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { agents } from '../db/schema/index.js';
import { requirePermission } from './permissions.js';
import type { Actor, AgentRow, Role } from './types.js';

export interface RoleBootstrap {
  /** EARSHOT_ADMINS: always admins, whatever the table says. */
  admins: readonly string[];
  /** The role a Slack user Earshot has never seen starts with. */
  defaultRole: Role;
}

export interface SlackUserFacts {
  /** Workspace owners and admins, per Slack's users.info, start as Earshot admins. */
  isWorkspaceAdmin?: boolean;
  displayName?: string | null;
}

/**
 * Turns a Slack user id into an actor with a role, registering users Earshot has not seen before.
 * Users listed in EARSHOT_ADMINS are admins even if someone demoted them in the table, so a team
 * can never lock itself out.
 */
export async function resolveActor(
  db: Database,
  slackUserId: string,
  bootstrap: RoleBootstrap,
  facts: SlackUserFacts = {},
): Promise<Actor> {
  if (bootstrap.admins.includes(slackUserId)) {
    return { kind: 'user', userId: slackUserId, role: 'admin' };
  }
  const [existing] = await db.select().from(agents).where(eq(agents.slackUserId, slackUserId));
  if (existing) return { kind: 'user', userId: slackUserId, role: existing.role };
  const role: Role = facts.isWorkspaceAdmin ? 'admin' : bootstrap.defaultRole;
  const [inserted] = await db
    .insert(agents)
    .values({ slackUserId, role, displayName: facts.displayName ?? null })
    .onConflictDoNothing()
    .returning();
  // A concurrent first request may have registered the user a moment earlier; its row wins.
  if (inserted) return { kind: 'user', userId: slackUserId, role: inserted.role };
  const [raced] = await db.select().from(agents).where(eq(agents.slackUserId, slackUserId));
  return { kind: 'user', userId: slackUserId, role: raced?.role ?? role };
}

/** Gives a Slack user a role; only admins may. Returns the row before and after. */
export async function setAgentRole(
  db: Database,
  actor: Actor,
  input: { slackUserId: string; role: Role; displayName?: string | null },
): Promise<{ before: Role | null; after: AgentRow }> {
  requirePermission(actor, 'role.manage');
  return db.transaction(async (tx) => {
    const [previous] = await tx.select().from(agents).where(eq(agents.slackUserId, input.slackUserId)).for('update');
    const [after] = await tx
      .insert(agents)
      .values({ slackUserId: input.slackUserId, role: input.role, displayName: input.displayName ?? null })
      .onConflictDoUpdate({ target: agents.slackUserId, set: { role: input.role, updatedAt: sql`now()` } })
      .returning();
    if (!after) throw new Error('upsert into agents returned no row');
    return { before: previous?.role ?? null, after };
  });
}

export async function listAgents(db: Database): Promise<AgentRow[]> {
  return db.select().from(agents).orderBy(agents.role, agents.slackUserId);
}
