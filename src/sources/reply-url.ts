import { isIP } from 'node:net';
import type { Source } from '../tickets/types.js';

/** A source setting that lets reply endpoints use plain http on this machine (development, tests). */
export const ALLOW_LOOPBACK_HTTP = 'replyAllowLoopbackHttp';

/** True for `localhost`, 127.0.0.0/8 and ::1: addresses that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

export interface ReplyUrlRules {
  /** Plain http is accepted only to loopback, and only when the source allows it. */
  allowLoopbackHttp: boolean;
  /** When the source has its own reply endpoint, an override must stay on its host. */
  requiredHost?: string | null;
}

/**
 * Why a reply endpoint is refused, or null when it is acceptable. Earshot POSTs every reply there,
 * so a URL taken from a request body must not point it at internal services: https only (http to
 * loopback when the source allows it), no credentials in the URL, and the configured host when the
 * source has one.
 */
export function replyUrlProblem(raw: string, rules: ReplyUrlRules): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) return 'must use https';
    if (!rules.allowLoopbackHttp)
      return `must use https (http to loopback needs the source setting ${ALLOW_LOOPBACK_HTTP})`;
  } else if (url.protocol !== 'https:') return 'must use https';
  if (rules.requiredHost && url.host.toLowerCase() !== rules.requiredHost.toLowerCase()) {
    return `must be on ${rules.requiredHost}, the host of this source's reply URL`;
  }
  return null;
}

/** The rules for a reply endpoint of this source: a per-item override must keep to the configured host. */
export function replyUrlRulesFor(source: Pick<Source, 'settings'>, forOverride: boolean): ReplyUrlRules {
  const settings = source.settings ?? {};
  const configured = typeof settings.replyUrl === 'string' ? settings.replyUrl : null;
  let requiredHost: string | null = null;
  if (forOverride && configured) {
    try {
      requiredHost = new URL(configured).host;
    } catch {
      requiredHost = null;
    }
  }
  return { allowLoopbackHttp: settings[ALLOW_LOOPBACK_HTTP] === true, requiredHost };
}
