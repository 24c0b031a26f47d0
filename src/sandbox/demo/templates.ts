import type { Database } from '../../db/database.js';
import { addTemplate, listTemplates } from '../../replies/templates.js';
import type { Actor } from '../../tickets/types.js';

/**
 * Reply templates for the demo's made-up shop, so the Reply modal has something to suggest without
 * OpenAI, as a team's own templates would. Written for Earshot's demo, in the tone a support lead
 * would set: they promise no refund and no date, since an agent sends them as they stand.
 */
export const DEMO_TEMPLATES: readonly { name: string; body: string }[] = [
  {
    name: 'refund',
    body: 'Hi {{author_name}}, sorry about the charge. Please send us your order number by DM and we will look into the payment and the refund with you.',
  },
  {
    name: 'outage',
    body: 'Hi {{author_name}}, thanks for flagging this. Checkout and payments are down or failing at the moment and our team is working on a fix. We will let you know here as soon as it is fixed.',
  },
  {
    name: 'delivery',
    body: 'Hi {{author_name}}, sorry your order has not arrived. Send us your order number by DM and we will find out from the driver where it is.',
  },
  {
    name: 'bug',
    body: 'Hi {{author_name}}, thanks for the report. Which app version and phone are you on? That helps us reproduce the issue and fix it.',
  },
  {
    name: 'account',
    body: 'Hi {{author_name}}, sorry for the trouble signing in to your account. Please DM us the email address on the account and we will check it.',
  },
  {
    name: 'thanks',
    body: 'Thank you {{author_name}}, that is lovely to hear! We will pass it on to the team.',
  },
  {
    name: 'idea',
    body: 'Thanks for the idea, {{author_name}}! We have shared your suggestion and feedback with our product team.',
  },
];

/** Adds the demo templates to a database that has none; a team's own templates are left alone. */
export async function seedDemoTemplates(db: Database, actor: Actor): Promise<number> {
  if ((await listTemplates(db)).length > 0) return 0;
  for (const template of DEMO_TEMPLATES) await addTemplate(db, actor, template);
  return DEMO_TEMPLATES.length;
}
