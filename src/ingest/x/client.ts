import { Agent as HttpAgent } from 'node:http';
import { type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';
import type { Config } from '../../config.js';

/** The host twitter-api-v2 has built in; every request URL starts with it. */
const X_DEFAULT_BASE = 'https://api.x.com';

export type XCredentials = Pick<
  Config,
  | 'X_API_URL'
  | 'X_BEARER_TOKEN'
  | 'X_API_KEY'
  | 'X_API_SECRET'
  | 'X_ACCESS_TOKEN'
  | 'X_ACCESS_SECRET'
  | 'X_OAUTH2_USER_TOKEN'
  | 'X_OAUTH2_CLIENT_ID'
  | 'X_OAUTH2_CLIENT_SECRET'
  | 'X_OAUTH2_REFRESH_TOKEN'
  | 'EARSHOT_SECRET_KEY'
  | 'EARSHOT_SECRET_KEY_PREVIOUS'
>;

/**
 * twitter-api-v2 has no base-URL option, so a plugin rewrites each request's URL (REST and
 * stream alike) to `X_API_URL`: proxies, regional gateways, the local X server in tests.
 */
export function baseUrlPlugin(baseUrl: string): ITwitterApiClientPlugin {
  const base = baseUrl.replace(/\/+$/, '');
  const rewrite = ({ params }: { params: { url: string } }) => {
    params.url = params.url.replace(/^https:\/\/api\.(x|twitter)\.com/, base);
  };
  return { onBeforeRequestConfig: rewrite, onBeforeStreamRequestConfig: rewrite };
}

/** twitter-api-v2 client settings for `X_API_URL` (none for X itself). */
export function clientSettings(baseUrl: string | undefined) {
  if (!baseUrl || baseUrl.replace(/\/+$/, '') === X_DEFAULT_BASE) return {};
  // The library sends through https.request; a plain-HTTP target needs an http.Agent to be accepted.
  const plain = baseUrl.startsWith('http:');
  return {
    plugins: [baseUrlPlugin(baseUrl)],
    ...(plain ? { httpAgent: new HttpAgent({ keepAlive: true }) } : {}),
  };
}

/** The app-only client (bearer token) for the filtered stream, its rules, search and mentions; null without a token. */
export function createXAppClient(config: XCredentials): TwitterApi | null {
  if (!config.X_BEARER_TOKEN) return null;
  return new TwitterApi(config.X_BEARER_TOKEN, clientSettings(config.X_API_URL));
}

/**
 * A fixed user-context client: OAuth 1.0a with the four `X_API_*`/`X_ACCESS_*` values, or an
 * OAuth 2.0 user token as given (it expires two hours after X issued it). Null when neither is
 * configured. Replies use `createXUserAuth`, which also refreshes OAuth 2.0 tokens.
 */
export function createXUserClient(config: XCredentials): TwitterApi | null {
  const settings = clientSettings(config.X_API_URL);
  if (config.X_API_KEY && config.X_API_SECRET && config.X_ACCESS_TOKEN && config.X_ACCESS_SECRET) {
    return new TwitterApi(
      {
        appKey: config.X_API_KEY,
        appSecret: config.X_API_SECRET,
        accessToken: config.X_ACCESS_TOKEN,
        accessSecret: config.X_ACCESS_SECRET,
      },
      settings,
    );
  }
  if (config.X_OAUTH2_USER_TOKEN) return new TwitterApi(config.X_OAUTH2_USER_TOKEN, settings);
  return null;
}
