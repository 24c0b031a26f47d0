import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/paths.js';
import { correctTriage } from '../../src/tickets/actions.js';
import { summarizeCorrections } from '../../src/triage/corrections.js';
import { inboundFixture, ingestFixture, seedSource, userActor } from '../helpers/fixtures.js';

describe('summarizeCorrections', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase({ dataDir: 'memory://', migrationsFolder: MIGRATIONS_FOLDER });
    await handle.migrate();
  });
  afterAll(async () => {
    await handle.close();
  });

  it('counts tickets whose triage an agent overruled, by field', async () => {
    const { db } = handle;
    expect(await summarizeCorrections(db)).toEqual({ tickets: 0, correctedTickets: 0, byField: {} });

    const source = await seedSource(db);
    const lead = userActor('ULEAD', 'lead');
    const tickets = [];
    for (const handleName of ['ann', 'bob', 'cat']) {
      const author = { externalId: handleName, handle: handleName, displayName: handleName, followerCount: 10 };
      tickets.push((await ingestFixture(db, inboundFixture(source.id, { author }))).ticket);
    }
    await correctTriage(db, lead, { ticketId: tickets[0]!.id, correction: { category: 'bug_report', priority: 'P1' } });
    await correctTriage(db, lead, { ticketId: tickets[0]!.id, correction: { sentiment: 'neutral' } });
    await correctTriage(db, lead, { ticketId: tickets[1]!.id, correction: { category: 'question' } });

    expect(await summarizeCorrections(db)).toEqual({
      tickets: 3,
      correctedTickets: 2,
      byField: { category: 2, priority: 1, sentiment: 1 },
    });
  });
});
