import { checkView } from '../block-limits.js';
import { SlackApiError } from '../errors.js';
import { apiView } from '../serialize.js';
import type { Json } from '../types.js';
import { type MethodHandler, optionalString, readView, requireString } from './context.js';

function validView(args: Json, type: 'modal' | 'home'): Json {
  const view = readView(args);
  const problems = checkView(view);
  if (view.type !== type) problems.unshift(`[ERROR] must be ${type} [json-pointer:/view/type]`);
  if (problems.length > 0) throw new SlackApiError('invalid_arguments', problems);
  return view;
}

/** views.open/push/update for modals and views.publish for the App Home. */
export const viewMethods: Record<string, MethodHandler> = {
  'views.open': ({ ws, args }) => {
    const triggerId = optionalString(args, 'trigger_id') ?? optionalString(args, 'interactivity_pointer');
    const view = validView(args, 'modal');
    const trigger = ws.useTrigger(triggerId);
    return { view: apiView(ws.openModal(trigger.user, view)) };
  },

  'views.push': ({ ws, args }) => {
    const triggerId = optionalString(args, 'trigger_id') ?? optionalString(args, 'interactivity_pointer');
    const view = validView(args, 'modal');
    const trigger = ws.useTrigger(triggerId);
    return { view: apiView(ws.pushModal(trigger.user, view)) };
  },

  'views.update': ({ ws, args }) => {
    const existing = ws.findView({ view_id: args.view_id, external_id: args.external_id });
    const hash = optionalString(args, 'hash');
    if (hash !== undefined && hash !== existing.hash) throw new SlackApiError('hash_conflict');
    const view = validView(args, existing.type);
    return { view: apiView(ws.updateView(existing, view)) };
  },

  'views.publish': ({ ws, args }) => {
    const user = ws.user(requireString(args, 'user_id', 'user_not_found'));
    const view = validView(args, 'home');
    const hash = optionalString(args, 'hash');
    const existing = ws.home(user.id);
    if (hash !== undefined && existing && hash !== existing.hash) throw new SlackApiError('hash_conflict');
    return { view: apiView(ws.publishHome(user.id, view)) };
  },
};
