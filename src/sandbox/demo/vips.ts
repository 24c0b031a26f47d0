import type { Database } from '../../db/database.js';
import type { Actor } from '../../tickets/types.js';
import { addVip, listVips } from '../../triage/vip-list.js';
import { DEMO_SOURCE } from './feed.js';

/** The demo's VIP list: one business customer of the made-up shop, whose question then scores higher. */
export const DEMO_VIPS: readonly { handle: string; note: string }[] = [
  { handle: 'small_biz_sara', note: 'Business account: weekly orders for her café' },
];

/** Adds the demo VIPs to a database whose VIP list is empty; a team's own list is left alone. */
export async function seedDemoVips(db: Database, actor: Actor): Promise<number> {
  if ((await listVips(db)).length > 0) return 0;
  for (const vip of DEMO_VIPS) await addVip(db, actor, { ...vip, source: DEMO_SOURCE });
  return DEMO_VIPS.length;
}
