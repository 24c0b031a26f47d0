import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric Earshot exports, made once per app instance (a registry of its own, so two
 * instances in one test process do not collide). Modules get it as the `metrics` service.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'earshot_' });
  const metrics = {
    registry,
    itemsIngested: new Counter({
      name: 'earshot_items_ingested_total',
      help: 'Inbound items stored, by source and whether they were new or a repeat.',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    }),
    triageSeconds: new Histogram({
      name: 'earshot_triage_seconds',
      help: 'Time to triage one item, by provider.',
      labelNames: ['provider'] as const,
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'earshot_outbox_backlog',
      help: 'Slack deliveries waiting in the outbox.',
      registers: [registry],
    }),
    deliverySeconds: new Histogram({
      name: 'earshot_slack_delivery_seconds',
      help: 'Time from an outbox row being written to its delivery to Slack, by kind.',
      labelNames: ['kind'] as const,
      buckets: [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'earshot_rate_limited_total',
      help: 'Calls answered with a rate limit (HTTP 429), by service (slack, x).',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
    streamReconnects: new Counter({
      name: 'earshot_x_stream_reconnects_total',
      help: 'Reconnections of the X filtered stream, by reason (disconnected, keepalive_timeout, network, http, rate_limit).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    slaAlerts: new Counter({
      name: 'earshot_sla_alerts_total',
      help: 'SLA warnings and breaches raised, by target (first_response, resolution) and level (warning, breached).',
      labelNames: ['target', 'level'] as const,
      registers: [registry],
    }),
    crisisAlerts: new Counter({
      name: 'earshot_crisis_alerts_total',
      help: 'Crisis alerts raised, by kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The `metrics` service, or null when the app runs without the observability module (tests of one part). */
export function metricsOf(services: ReadonlyMap<string, unknown> | undefined): Metrics | null {
  return (services?.get('metrics') as Metrics | undefined) ?? null;
}
