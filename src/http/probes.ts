import type { Route } from './router.js';
import { sendJson } from './router.js';

/** A readiness check: resolves when healthy (a string it resolves to says how), rejects (with a reason) when not. */
export type ReadinessCheck = { name: string; check: () => Promise<unknown> };

/** Where the process is in its life: only `ready` runs the checks; the others answer 503 at once. */
export type Phase = 'starting' | 'ready' | 'stopping';

/** What `/readyz` reads on every request: the phase and, once ready, the checks to run. */
export interface Readiness {
  phase: Phase;
  checks: readonly ReadinessCheck[];
}

/**
 * `/healthz` says the process is alive; `/readyz` answers 503 `starting` until every module has
 * started and `stopping` once shutdown begins (so a load balancer drains this replica), and
 * otherwise runs every check and answers 503 naming the ones that fail.
 */
export function probeRoutes(readiness: () => Readiness): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async (_req, res) => {
        const { phase, checks } = readiness();
        if (phase !== 'ready') return sendJson(res, 503, { status: phase, checks: [] });
        const results = await Promise.all(
          checks.map(async ({ name, check }) => {
            try {
              const detail = await check();
              return { name, ok: true as const, ...(typeof detail === 'string' && detail ? { detail } : {}) };
            } catch (err) {
              return { name, ok: false as const, error: err instanceof Error ? err.message : String(err) };
            }
          }),
        );
        const ready = results.every((r) => r.ok);
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks: results });
      },
    },
  ];
}
