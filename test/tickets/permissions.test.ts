import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { can, minimumRole, permissionsOf, requirePermission } from '../../src/tickets/permissions.js';
import { userActor } from '../helpers/fixtures.js';

describe('permissions', () => {
  it('makes roles cumulative', () => {
    const viewer = permissionsOf('viewer');
    const agent = permissionsOf('agent');
    const lead = permissionsOf('lead');
    const admin = permissionsOf('admin');
    for (const p of viewer) expect(agent.has(p)).toBe(true);
    for (const p of agent) expect(lead.has(p)).toBe(true);
    for (const p of lead) expect(admin.has(p)).toBe(true);
    expect(admin.size).toBeGreaterThan(lead.size);
  });

  it.each([
    ['viewer', 'ticket.claim', false],
    ['agent', 'ticket.claim', true],
    ['agent', 'ticket.assign', false],
    ['lead', 'ticket.assign', true],
    ['lead', 'role.manage', false],
    ['admin', 'role.manage', true],
    ['agent', 'rules.manage', false],
    ['lead', 'rules.manage', true],
  ] as const)('%s may %s: %s', (role, permission, allowed) => {
    expect(can(userActor('U1', role), permission)).toBe(allowed);
  });

  it('lets the system do anything', () => {
    expect(can({ kind: 'system', name: 'sla' }, 'role.manage')).toBe(true);
  });

  it('tells a refused user which role they need', () => {
    expect(minimumRole('ticket.assign')).toBe('lead');
    let thrown: unknown;
    try {
      requirePermission(userActor('U1', 'viewer'), 'ticket.claim');
    } catch (err) {
      thrown = err;
    }
    expect(isAppError(thrown, 'forbidden')).toBe(true);
    expect((thrown as Error).message).toContain('agent role');
    expect((thrown as Error).message).toContain('a viewer');
  });
});
