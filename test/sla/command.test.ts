import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isAppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { slaCommand } from '../../src/sla/command.js';
import { loadSlaPolicies } from '../../src/sla/settings.js';
import { describeEachDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';

const config = loadConfig({});
const logger = createLogger({ level: 'silent' });

describeEachDatabase(
  '/earshot sla',
  (handle) => {
    const run = (args: string, role: 'admin' | 'agent' = 'admin') =>
      slaCommand.run({
        db: handle().db,
        config,
        logger,
        actor: userActor('U0ADMIN', role),
        args,
        channelId: 'C1',
        userId: 'U0ADMIN',
        triggerId: 't',
      });

    it('shows the defaults', async () => {
      const reply = await run('show');
      expect(reply.text).toContain('*P1*  first response 1h · resolution 8h · around the clock');
      expect(reply.text).toContain('*P4*  first response 3d · resolution 7d');
    });

    it('sets targets and business hours (admins only), and refuses nonsense', async () => {
      await run('set P2 2h 1d');
      await run('hours P2 mon-fri 08:00-18:00 Europe/Berlin');
      const policies = await loadSlaPolicies(handle().db);
      expect(policies.P2).toEqual({
        firstResponseMinutes: 120,
        resolutionMinutes: 1440,
        businessHours: { days: [1, 2, 3, 4, 5], startMinute: 480, endMinute: 1080, timeZone: 'Europe/Berlin' },
      });
      expect(policies.P1.businessHours).toBeUndefined();
      await run('hours P2 off');
      expect((await loadSlaPolicies(handle().db)).P2.businessHours).toBeNull();
      await expect(run('set P2 1h 2h', 'agent')).rejects.toSatisfy((err) => isAppError(err, 'forbidden'));
      await expect(run('set P9 1h 2h')).rejects.toSatisfy((err) => isAppError(err, 'invalid_input'));
      await expect(run('set P1 8h 1h')).rejects.toSatisfy((err) => isAppError(err, 'invalid_input'));
      await expect(run('hours mon-fri 9-5 Nowhere')).rejects.toSatisfy((err) => isAppError(err, 'invalid_input'));
    });
  },
  ['pglite'],
);

describe('sla usage', () => {
  it('is listed with its admin verbs', () => {
    expect(slaCommand.usage).toContain('set <P1..P4>');
  });
});
