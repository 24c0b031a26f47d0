import { SlackApiError } from '../errors.js';
import { apiUser, apiUserGroup } from '../serialize.js';
import { flag, type MethodHandler, page, requireString } from './context.js';

/** auth.test, users.* and usergroups.*: who the app is, who the people are, who is on call. */
export const userMethods: Record<string, MethodHandler> = {
  'auth.test': ({ ws }) => ({
    url: `${ws.baseUrl()}/`,
    team: ws.team.name,
    user: ws.bot.name,
    team_id: ws.team.id,
    user_id: ws.bot.user_id,
    bot_id: ws.bot.bot_id,
    is_enterprise_install: false,
  }),

  'users.info': ({ ws, args }) => {
    const user = ws.user(requireString(args, 'user', 'user_not_found'));
    return { user: apiUser(ws, user) };
  },

  'users.list': ({ ws, args }) => {
    const { items, next_cursor } = page([...ws.users.values()], args, 100);
    return {
      members: items.map((user) => apiUser(ws, user)),
      cache_ts: Math.floor(ws.now() / 1000),
      response_metadata: { next_cursor },
    };
  },

  'usergroups.list': ({ ws, args }) => {
    const includeUsers = flag(args, 'include_users');
    return { usergroups: [...ws.usergroups.values()].map((group) => apiUserGroup(ws, group, includeUsers)) };
  },

  'usergroups.users.list': ({ ws, args }) => {
    const group = ws.usergroups.get(requireString(args, 'usergroup', 'no_such_subteam'));
    if (!group) throw new SlackApiError('no_such_subteam');
    return { users: [...group.users] };
  },
};
