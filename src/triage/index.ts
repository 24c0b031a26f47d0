/** Triage: what an item is, how it feels, how urgent it is and where it goes. */
export { type AssessmentContext, type AssessmentOptions, buildAssessment } from './assess.js';
export { type CorrectionSummary, summarizeCorrections } from './corrections.js';
export { createEmbeddedClassifier, type EmbeddedClassifier } from './embedded/classifier.js';
export { type EmbeddedModel, loadEmbeddedModel } from './embedded/model-files.js';
export type { TriageHints } from './hints.js';
export { detectLanguage } from './language.js';
export { findPii, maskPii } from './pii.js';
export {
  type AuthorSignals,
  DEFAULT_PRIORITY_WEIGHTS,
  type PriorityInput,
  type PriorityScore,
  type PriorityWeights,
  scorePriority,
} from './priority.js';
export {
  loadPriorityWeights,
  mergePriorityWeights,
  PRIORITY_SETTINGS_KEY,
  PRIORITY_WEIGHT_NAMES,
  resetPriorityWeights,
  savePriorityWeight,
} from './priority-settings.js';
export {
  findUnapprovedPromises,
  matchTemplate,
  type ReplySuggestion,
  type ReplyTemplate,
  type SuggestReplyInput,
} from './reply-suggestion.js';
export { parseRouteSpec, parseRouteTest, type RouteSpec, type RouteTestSpec } from './route-syntax.js';
export {
  describeConditions,
  matchesConditions,
  type RoutingConditions,
  type RoutingDecision,
  type RoutingInput,
  type RoutingRule,
  routeItem,
  routingConditionsSchema,
} from './routing.js';
export { buildRoutingNotice, queueRoutingNotice } from './routing-notice.js';
export {
  addRoutingRule,
  listRoutingRules,
  type NewRoutingRule,
  removeRoutingRule,
  reorderRoutingRules,
  setRoutingRuleEnabled,
} from './routing-rules.js';
export {
  type CreateTriageOptions,
  createTriage,
  SETTINGS_CHANNEL,
  SETTINGS_TTL_MS,
  type TriageService,
} from './triage-service.js';
export type { Assessment, Emotion, PiiSpan, TriageResult, UrgencySignal } from './types.js';
export { detectUrgency } from './urgency.js';
