import { AppError } from '../errors.js';
import type { Actor, Role } from './types.js';

/**
 * What each role may do, in one place. Roles are cumulative: a lead can do all an agent can,
 * an admin all a lead can.
 */
export const ROLE_PERMISSIONS = {
  viewer: ['ticket.view', 'report.view'],
  agent: [
    'ticket.claim',
    'ticket.reply',
    'ticket.tag',
    'ticket.escalate',
    'ticket.resolve',
    'ticket.reopen',
    'ticket.close',
    'ticket.spam',
    'ticket.correct',
    'tag.create',
  ],
  lead: [
    'ticket.assign',
    'ticket.unclaim_others',
    'ticket.deescalate',
    'template.manage',
    'rules.manage',
    'crisis.manage',
    'report.share',
  ],
  admin: ['role.manage', 'source.manage', 'sla.manage', 'privacy.forget', 'triage.manage'],
} as const;

type Listed = (typeof ROLE_PERMISSIONS)[keyof typeof ROLE_PERMISSIONS][number];
export type Permission = Listed;

const ROLE_ORDER: readonly Role[] = ['viewer', 'agent', 'lead', 'admin'];

/** Every permission a role holds, its own and those of the roles below it. */
export function permissionsOf(role: Role): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  for (const level of ROLE_ORDER.slice(0, ROLE_ORDER.indexOf(role) + 1)) {
    for (const permission of ROLE_PERMISSIONS[level]) granted.add(permission);
  }
  return granted;
}

const CACHE = new Map(ROLE_ORDER.map((role) => [role, permissionsOf(role)]));

export function can(actor: Actor, permission: Permission): boolean {
  if (actor.kind === 'system') return true;
  return CACHE.get(actor.role)?.has(permission) ?? false;
}

/** The least role that holds a permission, for refusal messages ("ask a lead"). */
export function minimumRole(permission: Permission): Role {
  return ROLE_ORDER.find((role) => CACHE.get(role)?.has(permission)) ?? 'admin';
}

/** Throws `forbidden` with a message that says which role the action needs. */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (can(actor, permission)) return;
  const role = actor.kind === 'user' ? actor.role : 'system';
  const needed = minimumRole(permission);
  throw new AppError(
    'forbidden',
    `You need the ${needed} role to do that (you are ${article(role)} ${role}). Ask an Earshot admin to run \`/earshot role @you ${needed}\`.`,
    { details: { permission, role, needed } },
  );
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}
