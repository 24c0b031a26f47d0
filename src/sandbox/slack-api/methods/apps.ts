import { SlackApiError } from '../errors.js';
import type { MethodHandler } from './context.js';

/** `apps.connections.open`: the WebSocket URL a Socket Mode app connects to (app-level token only). */
export const appMethods: Record<string, MethodHandler> = {
  'apps.connections.open': ({ ws }) => {
    if (!ws.socketMode) throw new SlackApiError('invalid_auth');
    return { url: ws.socketMode.url };
  },
};
