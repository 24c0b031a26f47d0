import { LogLevel, type Logger as SlackLogger, WebClient, type WebClientOptions } from '@slack/web-api';
import { createLogger } from '../../src/logger.js';

export const BOT_TOKEN = 'xoxb-sandbox-test';
export const SIGNING_SECRET = 'sandbox-signing-secret';
export const logger = createLogger({ level: 'silent' });

/** WebClient's own logger, silenced: the sandbox's refusals are what these tests provoke. */
export const quietSlackLogger: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** The real Web API client pointed at the sandbox, retry-free as PLATFORM-FACTS advises for tests. */
export function sandboxClient(slackApiUrl: string, options: WebClientOptions = {}, token = BOT_TOKEN): WebClient {
  return new WebClient(token, {
    slackApiUrl,
    retryConfig: { retries: 0 },
    logger: quietSlackLogger,
    ...options,
  });
}
