/**
 * Crisis detection as a pure function of posts and a moment: rolling 15-minute windows per source
 * and topic compared with their own baseline. Replaying a day of posts minute by minute gives the
 * same alerts as the live job, which is what the scenario test does.
 *
 * Baseline of a window: the same 15 minutes on each of the previous `baselineDays` days, plus the
 * `recentWindows` 15-minute windows just before it (so a fresh install learns within hours). A
 * count is a spike when all of these hold:
 * - at least `minCount` posts;
 * - at least `ratio` × the baseline mean;
 * - a z-score of at least `zScore`, where z = (count − mean) / (max(sd, √mean) + 1). The √mean floor
 *   is the Poisson noise of a count, and the +1 keeps small counts (2 → 8) from looking dramatic.
 * Volume is tested per source (the busiest spiking topic is named), negative posts per source
 * (negative surge), each topic over all sources when it spikes on `crossSourceMin` sources or more
 * (cross-source), and any negative post by an author with `influencerFollowers` followers or more.
 */

export type Sentiment = 'negative' | 'neutral' | 'positive';

/** One inbound post as the detector sees it. */
export interface CrisisPost {
  at: Date;
  sourceId: number;
  sourceName?: string;
  topics: readonly string[];
  sentiment: Sentiment;
  followers: number;
  text?: string;
  author?: string;
  url?: string | null;
  ticketId?: number | null;
  itemId?: number;
}

export interface CrisisThresholds {
  windowMinutes: number;
  baselineDays: number;
  recentWindows: number;
  /** Fewer baseline windows than this: not enough history to call anything a spike. */
  minBaselineWindows: number;
  minCount: number;
  ratio: number;
  zScore: number;
  crossSourceMin: number;
  influencerFollowers: number;
}

/** Documented defaults (see the module comment); config overrides minCount, ratio, zScore, influencers. */
export const DEFAULT_THRESHOLDS: CrisisThresholds = {
  windowMinutes: 15,
  baselineDays: 7,
  recentWindows: 8,
  minBaselineWindows: 4,
  minCount: 8,
  ratio: 3,
  zScore: 4,
  crossSourceMin: 2,
  influencerFollowers: 50_000,
};

export type CrisisKind = 'volume' | 'negative_surge' | 'cross_source' | 'influencer';

export interface CountAgainstBaseline {
  count: number;
  mean: number;
  sd: number;
  ratio: number;
  z: number;
  baselineWindows: number;
}

/** One reason to wake on-call, with what the alert card shows. */
export interface CrisisSignal extends CountAgainstBaseline {
  kind: CrisisKind;
  /** Signals with the same key belong to one wave and update one alert. */
  groupKey: string;
  title: string;
  sourceIds: number[];
  topic: string | null;
  windowStart: Date;
  windowEnd: Date;
  topTopics: { topic: string; count: number }[];
  topTerms: { term: string; count: number }[];
  samples: CrisisPost[];
  ticketIds: number[];
  /** Posts per 15 minutes over the last two hours, oldest first, the current window last. */
  trend: number[];
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Posts inside [start, end). */
function within(posts: readonly CrisisPost[], start: number, end: number): CrisisPost[] {
  return posts.filter((p) => {
    const t = p.at.getTime();
    return t >= start && t < end;
  });
}

/** The baseline windows of the window ending at `end`: same time on previous days, and just before. */
export function baselineWindows(end: Date, t: CrisisThresholds): [number, number][] {
  const w = t.windowMinutes * MINUTE;
  const e = end.getTime();
  const windows: [number, number][] = [];
  for (let d = 1; d <= t.baselineDays; d++) windows.push([e - d * DAY - w, e - d * DAY]);
  for (let i = 1; i <= t.recentWindows; i++) windows.push([e - (i + 1) * w, e - i * w]);
  return windows;
}

/** Tests one count against the counts of the baseline windows. */
export function compareToBaseline(count: number, baseline: readonly number[]): CountAgainstBaseline {
  const n = baseline.length;
  const mean = n ? baseline.reduce((a, b) => a + b, 0) / n : 0;
  const sd = n > 1 ? Math.sqrt(baseline.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const z = (count - mean) / (Math.max(sd, Math.sqrt(mean)) + 1);
  return { count, mean, sd, ratio: mean > 0 ? count / mean : Number.POSITIVE_INFINITY, z, baselineWindows: n };
}

export function isSpike(c: CountAgainstBaseline, t: CrisisThresholds): boolean {
  return (
    c.baselineWindows >= t.minBaselineWindows && c.count >= t.minCount && c.count >= t.ratio * c.mean && c.z >= t.zScore
  );
}

/**
 * Which history a detection at `now` needs: the current window and every baseline window. The job
 * loads just these spans from the database.
 */
export function neededSpans(now: Date, t: CrisisThresholds = DEFAULT_THRESHOLDS): [Date, Date][] {
  const w = t.windowMinutes * MINUTE;
  return [[now.getTime() - w, now.getTime()] as [number, number], ...baselineWindows(now, t)].map(
    ([a, b]) => [new Date(a), new Date(b)] as [Date, Date],
  );
}

/**
 * Every spike at `now`, strongest first. `history.firstSeenAt` is when Earshot saw its first post (the
 * earliest of `posts` when not given): baseline windows before it are not counted as quiet.
 */
export function detectCrises(
  posts: readonly CrisisPost[],
  now: Date,
  thresholds: CrisisThresholds = DEFAULT_THRESHOLDS,
  history: { firstSeenAt?: Date } = {},
): CrisisSignal[] {
  const t = thresholds;
  const end = now.getTime();
  const start = end - t.windowMinutes * MINUTE;
  if (within(posts, start, end).length === 0) return [];
  // Windows before the first post Earshot saw are no evidence of quiet: they are left out of the baseline.
  const firstSeen =
    history.firstSeenAt?.getTime() ?? posts.reduce((min, p) => Math.min(min, p.at.getTime()), Number.POSITIVE_INFINITY);
  const spans = baselineWindows(now, t);
  const w = t.windowMinutes * MINUTE;
  // One pass keeps the posts of the current and baseline windows (age in (0, (recent+1)·w], or
  // (d·DAY, d·DAY + w] for a previous day d), so the rest of the work is on a few hundred posts.
  posts = posts.filter((p) => {
    const age = end - p.at.getTime();
    if (age <= 0) return false;
    if (age <= (t.recentWindows + 1) * w) return true;
    const d = Math.floor(age / DAY);
    const rem = age - d * DAY;
    return d >= 1 && d <= t.baselineDays && rem > 0 && rem <= w;
  });
  const current = within(posts, start, end);
  const windows = spans.map(([a, b]) => within(posts, a, b));
  const usable = windows.filter((_, i) => spans[i]![0] >= firstSeen);
  const signals: CrisisSignal[] = [];
  const test = (match: (p: CrisisPost) => boolean) =>
    compareToBaseline(
      current.filter(match).length,
      usable.map((w) => w.filter(match).length),
    );
  const window = { windowStart: new Date(start), windowEnd: now };

  const sources = [...new Set(current.map((p) => p.sourceId))];
  for (const sourceId of sources) {
    const inSource = (p: CrisisPost) => p.sourceId === sourceId;
    const sourceName = current.find(inSource)?.sourceName ?? `source ${sourceId}`;
    // Volume: the source as a whole, or its strongest spiking topic (named on the alert).
    const topicTests = topicsOf(current.filter(inSource))
      .map((topic) => ({ topic, result: test((p) => inSource(p) && p.topics.includes(topic)) }))
      .filter((x) => isSpike(x.result, t))
      .sort((a, b) => b.result.z - a.result.z);
    const whole = test(inSource);
    const strongest = topicTests[0];
    if (strongest || isSpike(whole, t)) {
      const topic = strongest?.topic ?? null;
      const result = strongest?.result ?? whole;
      const members = current.filter((p) => inSource(p) && (topic === null || p.topics.includes(topic)));
      signals.push({
        kind: 'volume',
        groupKey: `source:${sourceId}`,
        title: topic ? `Volume spike on ${sourceName}: “${topic}”` : `Volume spike on ${sourceName}`,
        sourceIds: [sourceId],
        topic,
        ...result,
        ...window,
        ...describe(members, posts, now, t, (p) => inSource(p) && (topic === null || p.topics.includes(topic))),
      });
    }
    const negative = (p: CrisisPost) => inSource(p) && p.sentiment === 'negative';
    const surge = test(negative);
    if (isSpike(surge, t)) {
      signals.push({
        kind: 'negative_surge',
        groupKey: `source:${sourceId}`,
        title: `Negative sentiment surge on ${sourceName}`,
        sourceIds: [sourceId],
        topic: null,
        ...surge,
        ...window,
        ...describe(current.filter(negative), posts, now, t, negative),
      });
    }
  }

  for (const topic of topicsOf(current)) {
    const hasTopic = (p: CrisisPost) => p.topics.includes(topic);
    const spiking = sources.filter((s) =>
      isSpike(
        test((p) => p.sourceId === s && hasTopic(p)),
        { ...t, minCount: 2 },
      ),
    );
    if (spiking.length < t.crossSourceMin) continue;
    const result = test(hasTopic);
    if (!isSpike(result, t)) continue;
    signals.push({
      kind: 'cross_source',
      groupKey: `topic:${topic}`,
      title: `“${topic}” is spiking on ${spiking.length} sources`,
      sourceIds: spiking,
      topic,
      ...result,
      ...window,
      ...describe(current.filter(hasTopic), posts, now, t, hasTopic),
    });
  }

  for (const post of current) {
    if (post.sentiment !== 'negative' || post.followers < t.influencerFollowers) continue;
    const who = post.author ?? `author of item ${post.itemId ?? '?'}`;
    const same = (p: CrisisPost) => p.sourceId === post.sourceId && (p.author ?? null) === (post.author ?? null);
    signals.push({
      kind: 'influencer',
      groupKey: `influencer:${post.sourceId}:${who}`,
      title: `Negative post by ${who} (${formatFollowers(post.followers)} followers)`,
      sourceIds: [post.sourceId],
      topic: post.topics[0] ?? null,
      ...compareToBaseline(1, []),
      ...window,
      ...describe([post], posts, now, t, same),
    });
  }

  // One signal per wave key per run: the strongest.
  const byKey = new Map<string, CrisisSignal>();
  for (const signal of signals) {
    const existing = byKey.get(signal.groupKey);
    if (!existing || rank(signal) > rank(existing)) byKey.set(signal.groupKey, signal);
  }
  return [...byKey.values()].sort((a, b) => rank(b) - rank(a));
}

function rank(s: CrisisSignal): number {
  return s.kind === 'influencer' ? 1e6 + s.count : Number.isFinite(s.z) ? s.z : 1e5;
}

function topicsOf(posts: readonly CrisisPost[]): string[] {
  return [...new Set(posts.flatMap((p) => p.topics))];
}

function formatFollowers(n: number): string {
  if (n >= 1_000_000) return `${Math.round(n / 100_000) / 10}M`;
  if (n >= 1_000) return `${Math.round(n / 100) / 10}k`;
  return String(n);
}

/**
 * The words a crisis card counts as its top terms: lower-cased, without links or @handles (the
 * brand's own handle is in every post and says nothing), contractions kept whole ("don't" is the
 * stopword "dont", not "don" and "t"), words of three letters or more that are not stopwords.
 */
export function crisisTermsOf(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/(^|[^\p{L}\p{N}_])@\w+/gu, '$1 ')
    .replace(/(\p{L})['’](\p{L})/gu, '$1$2')
    .split(/[^\p{L}\p{N}#]+/u)
    .filter((w) => w.length > 2 && !STOPWORDS.has(w));
}

const STOPWORDS = new Set(
  `a an and are as at be been but by can do does for from has have i if in is it its just me my no not of
  on or our so that the their them they this to too up us was we were what when why will with you your
  get got still all any now one how
  im ive ill id dont cant wont isnt doesnt didnt havent hasnt wasnt arent youre theyre weve youve
  theres thats whats`.split(/\s+/),
);

/** The card's content for a group of posts: top topics and terms, samples, tickets, trend. */
function describe(
  members: readonly CrisisPost[],
  all: readonly CrisisPost[],
  now: Date,
  t: CrisisThresholds,
  match: (p: CrisisPost) => boolean,
): Pick<CrisisSignal, 'topTopics' | 'topTerms' | 'samples' | 'ticketIds' | 'trend'> {
  const topics = new Map<string, number>();
  const terms = new Map<string, number>();
  for (const post of members) {
    for (const topic of post.topics) topics.set(topic, (topics.get(topic) ?? 0) + 1);
    for (const word of new Set(crisisTermsOf(post.text ?? ''))) terms.set(word, (terms.get(word) ?? 0) + 1);
  }
  const top = <K extends string>(map: Map<string, number>, key: K, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([name, count]) => ({ [key]: name, count }) as Record<K, string> & { count: number });
  const samples = [...members]
    .sort((a, b) => negFirst(a) - negFirst(b) || b.followers - a.followers || b.at.getTime() - a.at.getTime())
    .slice(0, 3);
  const ticketIds = [...new Set(members.map((p) => p.ticketId).filter((id): id is number => typeof id === 'number'))];
  const w = t.windowMinutes * MINUTE;
  const trend: number[] = [];
  for (let i = t.recentWindows; i >= 0; i--) {
    const end = now.getTime() - i * w;
    trend.push(within(all, end - w, end).filter(match).length);
  }
  // A word only one post used is that post's, not the wave's (the card quotes the post anyway).
  for (const [term, count] of terms) if (count < 2) terms.delete(term);
  return { topTopics: top(topics, 'topic', 5), topTerms: top(terms, 'term', 8), samples, ticketIds, trend };
}

function negFirst(p: CrisisPost): number {
  return p.sentiment === 'negative' ? 0 : 1;
}

/** ▁▂▃▅▇ for a handful of counts: a trend that fits a context line. */
export function sparkline(values: readonly number[]): string {
  const bars = '▁▂▃▄▅▆▇█';
  const max = Math.max(...values, 1);
  return values.map((v) => bars[Math.min(bars.length - 1, Math.round((v / max) * (bars.length - 1)))]).join('');
}
