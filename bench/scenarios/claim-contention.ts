import postgres from 'postgres';
import { type Json, type SlackSandbox, signSlackRequest } from '../../src/sandbox/index.js';
import { buildAction, buildBlockActions } from '../../src/sandbox/slack-api/payloads.js';
import { listElements } from '../../src/sandbox/slack-api/view-state.js';
import { ACTIONS } from '../../src/slack/ids.js';
import { freePort, spawnEarshot } from '../lib/app-process.js';
import { connectBenchDatabase, createBenchDatabase } from '../lib/database.js';
import { emptyResult, type ScenarioResult } from '../lib/report.js';
import { BENCH_SIGNING_SECRET, benchAgent, createRoutedSources, slackEnv, startBenchSandbox } from '../lib/slack.js';
import { blockPercentile, pairRatio, runConcurrently, seededRandom, sleep, summarize } from '../lib/stats.js';
import { WebhookSender, webhookItem } from '../lib/webhook.js';

export interface ClaimContentionOptions {
  /** Rounds of `clickers` simultaneous Claim clicks on one card each. */
  contendedRounds: number;
  clickers: number;
  /** Runs of `spreadClicksPerCard` clicks on each of `spreadCards` cards, `spreadLanes` at a time. */
  spreadRuns: number;
  spreadCards: number;
  spreadClicksPerCard: number;
  spreadLanes: number;
  channels: number;
}

const SCENARIO = 'claim contention';

interface Card {
  ticketId: number;
  channel: string;
  ts: string;
}

/** A click prepared before the clock starts: the signed form body is made at send time, as Slack signs it. */
interface Click {
  ticketId: number;
  user: string;
  body: string;
}

/**
 * Claim clicks through the real HTTP receiver of a spawned Earshot (production settings, so
 * processBeforeResponse is off and the listener acks before it claims): block_actions payloads built
 * by the sandbox from the posted card, signed as Slack signs them. Time to ack is measured at the
 * client, request to response; exactly one winner per card is checked in the database, and every
 * loser's "already claimed" message in the sandbox.
 */
export async function benchClaimContention(options: ClaimContentionOptions): Promise<ScenarioResult> {
  const result = emptyResult();
  const database = await createBenchDatabase();
  const sql = postgres(database.url, { max: 10, onnotice: () => {} });
  const port = await freePort();
  const sandbox = await startBenchSandbox({ appPort: port, channels: options.channels, agents: options.clickers });
  let app: Awaited<ReturnType<typeof spawnEarshot>> | undefined;
  try {
    const setup = await connectBenchDatabase(database.url);
    const routed = await createRoutedSources(setup.db, options.channels);
    await setup.close();
    app = await spawnEarshot({ DATABASE_URL: database.url, ...slackEnv(sandbox) }, { port });

    const wanted = options.contendedRounds + options.spreadRuns * options.spreadCards;
    const senders = routed.map((s) => new WebhookSender(app!.url, s.name, s.secret));
    const random = seededRandom(909);
    const items = Array.from({ length: wanted }, (_, i) => webhookItem('claim', i, random));
    await runConcurrently(wanted, 8, async (i) => {
      await senders[i % senders.length]!.post(items[i]!);
    });
    const cards = await waitForCards(sql, wanted, 120_000);
    if (cards.length < wanted) throw new Error(`only ${cards.length} of ${wanted} cards were posted`);
    const eventsUrl = `${app.url}/slack/events`;
    const healthUrl = `${app.url}/healthz`;

    // Warm connections on both sides, so no figure below pays for a TCP or database connect.
    await Promise.all(Array.from({ length: 10 }, () => sql`select 1`));
    await Promise.all(
      Array.from({ length: Math.max(options.clickers, options.spreadLanes) }, () => timeGet(healthUrl)),
    );

    // --- Contended: all clickers on one card at once, one card per round.
    const contendedAck: number[][] = [];
    const contendedFloor: number[][] = [];
    const contendedCards = cards.slice(0, options.contendedRounds);
    for (const card of contendedCards) {
      const clicks = Array.from({ length: options.clickers }, (_, u) => prepareClick(sandbox, card, benchAgent(u)));
      contendedAck.push(await Promise.all(clicks.map((click) => send(eventsUrl, click))));
      contendedFloor.push(await Promise.all(clicks.map(() => timeGet(healthUrl))));
    }

    // --- Spread: clicksPerCard distinct agents on each card, shuffled, `spreadLanes` in flight.
    const spreadAck: number[][] = [];
    const spreadFloor: number[][] = [];
    const decidedSeconds: number[] = [];
    const rawSeconds: number[] = [];
    const spreadCards: Card[] = [];
    const rawTickets = await createRawTickets(sql, options.spreadRuns * options.spreadCards + options.contendedRounds);
    const rawContended: number[][] = [];
    for (let r = 0; r < options.contendedRounds; r += 1) {
      const id = rawTickets[r]!;
      rawContended.push(
        await Promise.all(Array.from({ length: options.clickers }, (_, u) => timeRawClaim(sql, id, benchAgent(u)))),
      );
    }
    for (let run = 0; run < options.spreadRuns; run += 1) {
      const start = options.contendedRounds + run * options.spreadCards;
      const runCards = cards.slice(start, start + options.spreadCards);
      spreadCards.push(...runCards);
      const clicks = shuffle(
        runCards.flatMap((card, k) =>
          Array.from({ length: options.spreadClicksPerCard }, (_, j) =>
            prepareClick(sandbox, card, benchAgent((k * 7 + j) % options.clickers)),
          ),
        ),
        seededRandom(31 + run),
      );
      const ephemeralsBefore = ephemeralCount(sandbox);
      const ack: number[] = [];
      const started = performance.now();
      await runConcurrently(clicks.length, options.spreadLanes, async (i) => {
        ack.push(await send(eventsUrl, clicks[i]!));
      });
      const losers = clicks.length - runCards.length;
      await waitUntil(
        async () =>
          (await claimedCount(sql, runCards)) >= runCards.length &&
          ephemeralCount(sandbox) - ephemeralsBefore >= losers,
        60_000,
      );
      decidedSeconds.push((performance.now() - started) / 1000);
      spreadAck.push(ack);
      spreadFloor.push(await timeConcurrentGets(healthUrl, clicks.length, options.spreadLanes));

      const ids = rawTickets.slice(start, start + options.spreadCards);
      const rawClicks = shuffle(
        ids.flatMap((id, k) =>
          Array.from({ length: options.spreadClicksPerCard }, (_, j) => ({
            id,
            user: benchAgent((k * 7 + j) % options.clickers),
          })),
        ),
        seededRandom(31 + run),
      );
      const rawStarted = performance.now();
      await runConcurrently(rawClicks.length, options.spreadLanes, async (i) => {
        await timeRawClaim(sql, rawClicks[i]!.id, rawClicks[i]!.user);
      });
      rawSeconds.push((performance.now() - rawStarted) / 1000);
    }

    // --- Exactly one winner per card, among the agents who clicked it; every loser told.
    await waitUntil(async () => (await claimedCount(sql, contendedCards)) >= contendedCards.length, 30_000);
    const verdicts = await sql<{ id: number; assignee: string | null; claims: number }[]>`
      select t.id, t.assignee, count(e.id)::int as claims
      from tickets t left join ticket_events e on e.ticket_id = t.id and e.type = 'claimed'
      where t.id in ${sql([...contendedCards, ...spreadCards].map((c) => c.ticketId))}
      group by t.id, t.assignee`;
    const clickersOf = (ticketId: number): Set<string> => {
      const k = spreadCards.findIndex((c) => c.ticketId === ticketId);
      if (k < 0) return new Set(Array.from({ length: options.clickers }, (_, u) => benchAgent(u)));
      const local = k % options.spreadCards;
      return new Set(
        Array.from({ length: options.spreadClicksPerCard }, (_, j) => benchAgent((local * 7 + j) % options.clickers)),
      );
    };
    const bad = verdicts.filter((v) => v.claims !== 1 || !v.assignee || !clickersOf(v.id).has(v.assignee));
    const rawWinners = await sql<{ n: number }[]>`
      select count(*)::int as n from tickets where id in ${sql(rawTickets)} and assignee is not null`;
    const clicks = options.contendedRounds * options.clickers + spreadCards.length * options.spreadClicksPerCard;
    await waitUntil(async () => ephemeralCount(sandbox) >= clicks - verdicts.length, 30_000);
    const losersTold = ephemeralCount(sandbox);
    result.checks.push(
      {
        scenario: SCENARIO,
        name: 'exactly one winner per card, one of its clickers (database)',
        ok: verdicts.length === contendedCards.length + spreadCards.length && bad.length === 0,
        detail: `${verdicts.length} cards, ${bad.length} without exactly one claim by a clicker`,
      },
      {
        scenario: SCENARIO,
        name: 'every losing click answered with a message to its agent',
        ok: losersTold >= clicks - verdicts.length,
        detail: `${clicks} clicks, ${verdicts.length} winners, ${losersTold} ephemeral messages`,
      },
      {
        scenario: SCENARIO,
        name: 'raw SQL reference: one winner per ticket',
        ok: rawWinners[0]?.n === rawTickets.length,
        detail: `${rawWinners[0]?.n} of ${rawTickets.length} tickets claimed once`,
      },
    );

    for (const p of [50, 99]) {
      const value = blockPercentile(contendedAck, p);
      const reference = blockPercentile(contendedFloor, p);
      result.rows.push({
        scenario: SCENARIO,
        metric: `${options.clickers} clicks on one card: time to ack, p${p}`,
        unit: 'ms',
        value,
        reference: { label: `GET /healthz ×${options.clickers} p${p}`, value: reference },
        ratio: pairRatio(value, reference),
      });
    }
    for (const p of [50, 99]) {
      const value = blockPercentile(spreadAck, p);
      const reference = blockPercentile(spreadFloor, p);
      result.rows.push({
        scenario: SCENARIO,
        metric: `${options.spreadCards * options.spreadClicksPerCard} clicks over ${options.spreadCards} cards: time to ack, p${p}`,
        unit: 'ms',
        value,
        reference: { label: `GET /healthz, ${options.spreadLanes} in flight, p${p}`, value: reference },
        ratio: pairRatio(value, reference),
      });
    }
    const decided = summarize(decidedSeconds);
    const raw = summarize(rawSeconds);
    result.rows.push(
      {
        scenario: SCENARIO,
        metric: `${options.spreadCards * options.spreadClicksPerCard} clicks: all decided (winners claimed, losers told)`,
        unit: 's',
        value: decided,
        reference: { label: 'raw SQL claim updates, same pattern', value: raw },
        ratio: pairRatio(decided, raw),
      },
      {
        scenario: SCENARIO,
        metric: `${options.clickers} raw SQL claims on one row: latency p50`,
        unit: 'ms',
        value: blockPercentile(rawContended, 50),
        reference: { label: 'p99', value: blockPercentile(rawContended, 99) },
      },
    );
    result.notes.push(
      'Time to ack is measured at the client, from the signed request to the response, with production settings ' +
        '(processBeforeResponse off): the listener acks first, so the figure is Bolt’s signature check, body parsing ' +
        'and routing in a process that is also claiming, posting ephemerals and refreshing cards; /healthz on the ' +
        'same server at the same concurrency is the HTTP floor. The claim itself (a conditional UPDATE … WHERE ' +
        'assignee IS NULL under a row lock, its event and card refresh) runs after the ack and is timed as "all decided".',
      '"All decided" waits for every winner’s claim in the database and every loser’s ephemeral in the sandbox; ' +
        'each loser costs a chat.postEphemeral call, and each winner a card refresh and a thread line.',
    );
  } finally {
    await app?.stop();
    await sandbox.close();
    await sql.end();
    await database.drop();
  }
  return result;
}

function prepareClick(sandbox: SlackSandbox, card: Card, user: string): Click {
  const ws = sandbox.workspace;
  const channel = ws.channel(card.channel);
  const message = ws.findMessage(channel.id, card.ts);
  if (!message) throw new Error(`card ${card.ts} is not in the sandbox`);
  const found = listElements(message.blocks ?? []).find(({ element }) => element.action_id === ACTIONS.claim);
  if (!found) throw new Error(`card of ticket ${card.ticketId} has no Claim button`);
  const payload = buildBlockActions(ws, {
    user,
    container: { type: 'message', channel, message },
    action: buildAction(ws, found.block, found.element as Json),
    triggerId: ws.issueTrigger(user),
    responseUrl: ws.issueResponseUrl({ user, channel: channel.id, messageTs: card.ts, ephemeral: false }),
  });
  return { ticketId: card.ticketId, user, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() };
}

async function send(url: string, click: Click): Promise<number> {
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    ...signSlackRequest(BENCH_SIGNING_SECRET, click.body),
  };
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: click.body });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`claim click answered ${res.status}`);
  return ms;
}

async function timeGet(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  return performance.now() - started;
}

async function timeConcurrentGets(url: string, total: number, lanes: number): Promise<number[]> {
  const times: number[] = [];
  await runConcurrently(total, lanes, async () => {
    times.push(await timeGet(url));
  });
  return times;
}

/** The race-safe claim as one statement from a minimal client: what the database alone costs per click. */
async function timeRawClaim(sql: postgres.Sql, ticketId: number, user: string): Promise<number> {
  const started = performance.now();
  await sql`update tickets set assignee = ${user}, status = 'claimed', version = version + 1
            where id = ${ticketId} and assignee is null returning id`;
  return performance.now() - started;
}

async function createRawTickets(sql: postgres.Sql, n: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    insert into tickets (source_id, author_id, channel, last_customer_message_at)
    select t.source_id, t.author_id, 'bench-raw', now() from tickets t, generate_series(1, ${n}) as g
    where t.id = (select min(id) from tickets)
    returning id`;
  return rows.map((r) => r.id);
}

async function claimedCount(sql: postgres.Sql, cards: readonly Card[]): Promise<number> {
  if (cards.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from tickets where id in ${sql(cards.map((c) => c.ticketId))} and assignee is not null`;
  return row?.n ?? 0;
}

function ephemeralCount(sandbox: SlackSandbox): number {
  return sandbox.workspace.callsTo('chat.postEphemeral').filter((c) => c.ok).length;
}

async function waitForCards(sql: postgres.Sql, total: number, timeoutMs: number): Promise<Card[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await sql<{ id: number; channel: string; slack_ts: string }[]>`
      select t.id, t.channel, t.slack_ts from tickets t where t.slack_ts is not null order by t.id`;
    if (rows.length >= total || Date.now() > deadline)
      return rows.map((r) => ({ ticketId: r.id, channel: r.channel, ts: r.slack_ts }));
    await sleep(250);
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return;
    await sleep(100);
  }
}

function shuffle<T>(list: T[], random: () => number): T[] {
  for (let i = list.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}
