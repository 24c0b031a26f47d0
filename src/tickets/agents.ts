import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { agents } from '../db/schema/index.js';
import { requirePermission } from './permissions.js';
import { type Actor, type AgentRow, actorId, type Role } from './types.js';

export interface RoleBootstrap {
  /** EARSHOT_ADMINS: always admins, whatever the table says. */
  admins: readonly string[];
  /** The role a Slack user Earshot has never seen starts with. */
  defaultRole: Role;
}

export interface SlackUserFacts {
  /** Workspace owners and admins, per Slack's users.info, are Earshot admins (unless an admin set their role). */
  isWorkspaceAdmin?: boolean;
  displayName?: string | null;
}

/**
 * The role a user's bootstrap gives them: admin for Slack's owners and admins, else the default.
 * Only for users whose role no admin has set (`role_set_by` null).
 */
export function bootstrapRole(bootstrap: RoleBootstrap, facts: SlackUserFacts): Role {
  return facts.isWorkspaceAdmin ? 'admin' : bootstrap.defaultRole;
}

/**
 * Turns a Slack user id into an actor with a role, registering users Earshot has not seen before.
 * Users listed in EARSHOT_ADMINS are admins even if someone demoted them in the table, so a team
 * can never lock itself out. A role an admin set with `/earshot role` is final. Any other role
 * follows Slack's facts each time they are given: an owner or admin promoted in Slack later becomes
 * an admin, one demoted there drops to the default role. `facts: null` means Slack could not say
 * (users.info failed): the stored role, or the default for now, and nothing is written, so the
 * next successful look-up decides.
 */
export async function resolveActor(
  db: Database,
  slackUserId: string,
  bootstrap: RoleBootstrap,
  facts: SlackUserFacts | null = null,
): Promise<Actor> {
  const actor = (role: Role): Actor => ({ kind: 'user', userId: slackUserId, role });
  if (bootstrap.admins.includes(slackUserId)) return actor('admin');
  const [existing] = await db.select().from(agents).where(eq(agents.slackUserId, slackUserId));
  if (existing && (existing.roleSetBy !== null || facts === null)) return actor(existing.role);
  if (!facts) return actor(bootstrap.defaultRole);
  const role = bootstrapRole(bootstrap, facts);
  if (existing) {
    if (existing.role === role || (role !== 'admin' && existing.role !== 'admin')) return actor(existing.role);
    // Slack promoted or demoted them since; an admin's explicit choice, even one made a moment ago, wins.
    const [moved] = await db
      .update(agents)
      .set({ role, updatedAt: sql`now()` })
      .where(and(eq(agents.slackUserId, slackUserId), isNull(agents.roleSetBy)))
      .returning();
    return actor(moved?.role ?? (await storedRole(db, slackUserId)) ?? role);
  }
  const [inserted] = await db
    .insert(agents)
    .values({ slackUserId, role, displayName: facts.displayName ?? null })
    .onConflictDoNothing()
    .returning();
  // A concurrent first request may have registered the user a moment earlier; its row wins.
  if (inserted) return actor(inserted.role);
  return actor((await storedRole(db, slackUserId)) ?? role);
}

async function storedRole(db: Database, slackUserId: string): Promise<Role | null> {
  const [row] = await db.select({ role: agents.role }).from(agents).where(eq(agents.slackUserId, slackUserId));
  return row?.role ?? null;
}

/** Gives a Slack user a role; only admins may. The role is final: Slack's facts no longer move it. Returns the row before and after. */
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
      .values({
        slackUserId: input.slackUserId,
        role: input.role,
        roleSetBy: actorId(actor),
        displayName: input.displayName ?? null,
      })
      .onConflictDoUpdate({
        target: agents.slackUserId,
        set: { role: input.role, roleSetBy: actorId(actor), updatedAt: sql`now()` },
      })
      .returning();
    if (!after) throw new Error('upsert into agents returned no row');
    return { before: previous?.role ?? null, after };
  });
}

export async function listAgents(db: Database): Promise<AgentRow[]> {
  return db.select().from(agents).orderBy(agents.role, agents.slackUserId);
}
