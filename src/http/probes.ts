import type { Route } from './router.js';
import { sendJson } from './router.js';

/** A readiness check: resolves when healthy, rejects (with a reason) when not. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

/** `/healthz` says the process is alive; `/readyz` runs every check and answers 503 naming the ones that fail. */
export function probeRoutes(checks: readonly ReadinessCheck[]): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async (_req, res) => {
        const results = await Promise.all(
          checks.map(async ({ name, check }) => {
            try {
              await check();
              return { name, ok: true as const };
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
