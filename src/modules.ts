import { ingestModule } from './ingest/module.js';
import { jobsModule } from './jobs/module.js';
import type { ModuleFactory } from './module.js';
import { observabilityModule } from './observability/module.js';
import { repliesModule } from './replies/module.js';
import { reportsModule } from './reports/module.js';
import { sandboxModule } from './sandbox/module.js';
import { slackModule } from './slack/module.js';
import { triageModule } from './triage/module.js';

/**
 * The feature modules of the running app, in start order. A module may use services registered by
 * the modules before it. Add a feature by adding its factory here.
 */
export const MODULES: readonly ModuleFactory[] = [
  observabilityModule,
  triageModule,
  slackModule(),
  jobsModule,
  reportsModule,
  ingestModule,
  repliesModule,
  sandboxModule,
];
