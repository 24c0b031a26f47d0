import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../observability/metrics.js';
import { type AlertRouting, recordSignals } from './alerts.js';
import { type CrisisThresholds, DEFAULT_THRESHOLDS, detectCrises } from './detector.js';
import { loadCrisisPosts } from './observations.js';

/** The detector's thresholds with the operator's overrides from config. */
export function thresholdsFromConfig(config: Config): CrisisThresholds {
  return {
    ...DEFAULT_THRESHOLDS,
    minCount: config.EARSHOT_CRISIS_MIN_COUNT,
    ratio: config.EARSHOT_CRISIS_RATIO,
    zScore: config.EARSHOT_CRISIS_Z_SCORE,
    influencerFollowers: config.EARSHOT_CRISIS_INFLUENCER_FOLLOWERS,
  };
}

export function routingFromConfig(config: Config): AlertRouting {
  return {
    channel: config.EARSHOT_CRISIS_CHANNEL,
    oncallGroup: config.EARSHOT_ONCALL_GROUP ?? null,
    cooldownMinutes: config.EARSHOT_CRISIS_COOLDOWN_MINUTES,
    windowMinutes: DEFAULT_THRESHOLDS.windowMinutes,
    maskPii: config.EARSHOT_MASK_PII,
    chart:
      config.EARSHOT_PUBLIC_URL && config.SLACK_SIGNING_SECRET
        ? { publicUrl: config.EARSHOT_PUBLIC_URL, secret: config.SLACK_SIGNING_SECRET }
        : null,
  };
}

/** One detection pass: load the windows' posts, detect, and raise or update one alert per wave. */
export async function runCrisisDetection(
  db: Database,
  options: { now: Date; thresholds: CrisisThresholds; routing: AlertRouting; metrics?: Metrics | null },
) {
  const { posts, firstSeenAt } = await loadCrisisPosts(db, options.now, options.thresholds);
  const signals = detectCrises(posts, options.now, options.thresholds, { firstSeenAt });
  const alerts = await recordSignals(db, signals, options.routing, options.now, options.metrics);
  return { posts: posts.length, signals: signals.length, ...alerts };
}
