import type { SandboxBot, SandboxTeam } from './types.js';

/** A person in the seeded workspace. */
export interface SeedUser {
  id: string;
  name: string;
  real_name: string;
  /** The role this person plays in the demo (admin, lead, agent, viewer): the page's user switcher shows it. */
  title: string;
  is_admin?: boolean;
  is_owner?: boolean;
}

export interface SeedChannel {
  id: string;
  name: string;
  is_private?: boolean;
  topic?: string;
  purpose?: string;
  /** Member user ids besides the bot; defaults to every seeded user. */
  members?: string[];
  /** Whether the bot is a member (default true). */
  botIsMember?: boolean;
}

export interface SeedUserGroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

/** What a sandbox workspace starts with. */
export interface WorkspaceSeed {
  team: SandboxTeam;
  bot: SandboxBot;
  users: SeedUser[];
  channels: SeedChannel[];
  usergroups: SeedUserGroup[];
}

/**
 * Fixed ids of the default workspace, so tests and the demo can name people and channels. User ids
 * match Slack's shape (`U` + capitals and digits) because EARSHOT_ADMINS validates them.
 */
export const SEED = {
  team: 'T0SANDBOX',
  bot: { user: 'U0EARSHOT', bot: 'B0EARSHOT', app: 'A0EARSHOT' },
  users: {
    admin: 'U0ADMIN',
    lead: 'U0LEAD',
    agent1: 'U0AGENT1',
    agent2: 'U0AGENT2',
    viewer: 'U0VIEWER',
  },
  channels: {
    feedback: 'C0FEEDBACK',
    oncall: 'C0ONCALL',
    leads: 'C0LEADS',
  },
  usergroups: { oncall: 'S0ONCALL' },
} as const;

/** The workspace the sandbox starts with: Earshot's three channels, five people, an on-call group. */
export function defaultSeed(): WorkspaceSeed {
  const { users, channels } = SEED;
  return {
    team: { id: SEED.team, name: 'Earshot Sandbox', domain: 'earshot-sandbox' },
    bot: { user_id: SEED.bot.user, bot_id: SEED.bot.bot, app_id: SEED.bot.app, name: 'earshot' },
    users: [
      { id: users.admin, name: 'ada', real_name: 'Ada Admin', title: 'admin', is_admin: true, is_owner: true },
      { id: users.lead, name: 'lee', real_name: 'Lee Lead', title: 'lead' },
      { id: users.agent1, name: 'ana', real_name: 'Ana Agent', title: 'agent' },
      { id: users.agent2, name: 'ben', real_name: 'Ben Agent', title: 'agent' },
      { id: users.viewer, name: 'vic', real_name: 'Vic Viewer', title: 'viewer' },
    ],
    channels: [
      {
        id: channels.feedback,
        name: 'earshot-feedback',
        purpose: 'Customer posts from X and webhooks, as ticket cards',
      },
      { id: channels.oncall, name: 'earshot-oncall', purpose: 'Crisis alerts and escalations' },
      {
        id: channels.leads,
        name: 'earshot-leads',
        purpose: 'Escalations to leads and digests',
        members: [users.admin, users.lead],
      },
    ],
    usergroups: [{ id: SEED.usergroups.oncall, handle: 'oncall', name: 'On call', users: [users.lead, users.agent1] }],
  };
}
