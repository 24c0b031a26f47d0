import { describe, expect, it } from 'vitest';
import { bestTemplate } from '../../src/replies/template-match.js';
import { addTemplate, listTemplates } from '../../src/replies/templates.js';
import { loadDemoPosts } from '../../src/sandbox/demo/feed.js';
import { DEMO_TEMPLATES, seedDemoTemplates } from '../../src/sandbox/demo/templates.js';
import { findUnapprovedPromises } from '../../src/triage/reply-suggestion.js';
import { describeEachDatabase, openTestDatabase } from '../helpers/database.js';
import { userActor } from '../helpers/fixtures.js';

const templates = DEMO_TEMPLATES.map((t, i) => ({ id: i + 1, ...t }));
const pick = (text: string, category?: string) => bestTemplate(templates, { text, category })?.name ?? null;

describe('which reply template fits a message', () => {
  it('matches words on their stem: "charged" finds the refund template, "arrived" the delivery one', () => {
    expect(pick('Just got charged twice and no confirmation', 'complaint')).toBe('refund');
    expect(pick('My shopping never arrived and the driver did not call', 'complaint')).toBe('delivery');
    expect(pick('The app crashes when I open my basket, version 5.12', 'bug_report')).toBe('bug');
  });

  it('lets the category speak when the words do not: praise gets thanks, not the template naming the driver', () => {
    expect(pick('Shoutout to the driver who carried six bags up four flights. Legend.', 'praise')).toBe('thanks');
    expect(pick('Would love a dark mode in the app', 'suggestion')).toBe('idea');
  });

  it('suggests nothing on weak evidence: a word every template says, filler, or another language', () => {
    expect(pick('Can I add items to an order after it has been placed?', 'question')).toBeNull();
    expect(pick('Do you have a student discount?', 'question')).toBeNull();
    expect(pick('Make $4,000 a week from home right now!!! DM me', 'other')).toBeNull();
    expect(pick('Vocês entregam em Lisboa?', 'question')).toBeNull();
    expect(bestTemplate([], { text: 'refund please' })).toBeNull();
  });

  it('on the demo posts: praise gets thanks, suggestions the idea template, bugs the bug one, spam nothing', () => {
    const category: Record<string, string | undefined> = { bug: 'bug_report', burst: 'complaint', spam: 'other' };
    const picked = new Map<string, (string | null)[]>();
    for (const post of loadDemoPosts()) {
      const name = pick(post.text, post.kind in category ? category[post.kind] : post.kind);
      picked.set(post.kind, [...(picked.get(post.kind) ?? []), name]);
    }
    const share = (kind: string, name: string) => picked.get(kind)!.filter((n) => n === name).length;
    // Measured 2026-12-02: 7 of 9, 5 of 8, 8 of 10 (the matcher before: 0 of 9, 1 of 8, 10 of 10).
    expect(share('praise', 'thanks')).toBeGreaterThanOrEqual(7);
    expect(share('suggestion', 'idea')).toBeGreaterThanOrEqual(5);
    expect(share('bug', 'bug')).toBeGreaterThanOrEqual(8);
    expect(picked.get('spam')).toEqual([null, null]);
  });

  it('answers the same whatever order the templates come in (ties go to the older template)', () => {
    const reversed = [...templates].reverse();
    for (const post of loadDemoPosts()) {
      const forward = bestTemplate(templates, { text: post.text, category: post.kind });
      expect(bestTemplate(reversed, { text: post.text, category: post.kind }), post.text).toBe(forward);
    }
  });

  it('weighs a word by how rare it is among the templates, and double in a name', () => {
    const two = [
      { id: 1, name: 'general', body: 'Thanks for your order, we are looking at your order now.' },
      { id: 2, name: 'refund', body: 'Thanks for your order. We will look into it.' },
    ];
    // "order" is in both, so only the name decides.
    expect(bestTemplate(two, { text: 'Where is the refund for my order?' })?.id).toBe(2);
    expect(bestTemplate(two, { text: 'My order please' })).toBeNull();
  });
});

describeEachDatabase(
  'the demo reply templates',
  (handle) => {
    it('promise no refund and no date, since an agent may send them as they stand', () => {
      for (const t of DEMO_TEMPLATES) expect(findUnapprovedPromises(t.body, ''), t.name).toEqual([]);
    });

    it("are added to a database without templates, once, and never over a team's own", async () => {
      const system = { kind: 'system', name: 'sandbox' } as const;
      expect(await seedDemoTemplates(handle().db, system)).toBe(DEMO_TEMPLATES.length);
      expect(await seedDemoTemplates(handle().db, system)).toBe(0);
      expect((await listTemplates(handle().db)).map((t) => t.name).sort()).toEqual(
        DEMO_TEMPLATES.map((t) => t.name).sort(),
      );

      const other = await openTestDatabase('pglite');
      try {
        await addTemplate(other.db, userActor('U0LEAD', 'lead'), { name: 'ours', body: 'Hello {{author_name}}' });
        expect(await seedDemoTemplates(other.db, system)).toBe(0);
        expect((await listTemplates(other.db)).map((t) => t.name)).toEqual(['ours']);
      } finally {
        await other.close();
      }
    });
  },
  ['pglite'],
);
