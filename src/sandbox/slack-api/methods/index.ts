import { appMethods } from './apps.js';
import { chatMethods } from './chat.js';
import type { MethodHandler } from './context.js';
import { conversationsMethods } from './conversations.js';
import { fileMethods } from './files.js';
import { userMethods } from './users.js';
import { viewMethods } from './views.js';

export type { MethodContext, MethodHandler } from './context.js';
export { RateLimitedError } from './context.js';

/** Every Web API method the sandbox answers, by Slack's method name. */
export const METHODS: Record<string, MethodHandler> = {
  ...userMethods,
  ...chatMethods,
  ...conversationsMethods,
  ...viewMethods,
  ...fileMethods,
  ...appMethods,
};
