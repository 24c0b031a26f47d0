import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { SEED } from '../../src/sandbox/index.js';
import { checkForCrisisNow } from '../../src/sandbox/module.js';
import { type SandboxApp, startSandboxApp } from '../app/sandbox-helpers.js';

/**
 * The first-run experience in a real browser: Earshot in sandbox mode (every module, PGlite, the
 * page at /), headless Chromium acting as the lead. Each step waits for the page to show its
 * result (no fixed sleeps), with timeouts sized for a loaded two-core CI machine.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const WAIT = 60_000;
const STEP = 120_000;
const RESULTS = new URL('../../test-results/', import.meta.url);

const available = existsSync(CHROMIUM);
if (!available && process.env.CI) {
  throw new Error(`Chromium is missing at ${CHROMIUM}; .ci/run installs it (apt-get install chromium)`);
}
if (!available) {
  console.warn(
    `Browser end-to-end tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`,
  );
  describe.skip(`the sandbox in a real browser [skipped: no Chromium at ${CHROMIUM}; apt-get install chromium, or set CHROMIUM_PATH]`, () => {
    it('runs in headless Chromium', () => {});
  });
}

describe.runIf(available)('the sandbox in a real browser', () => {
  let s: SandboxApp;
  let browser: Browser;
  let page: Page;
  /** The ticket card the test works, by its message ts (the thread panel repeats the card's text). */
  let card: Locator;
  const marker = 'the app says the payment failed';
  const text = `I was charged twice for my weekly shop and ${marker}. Please refund me.`;

  beforeAll(async () => {
    s = await startSandboxApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(WAIT);
  }, STEP);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  }, STEP);
  beforeEach((ctx) => {
    ctx.onTestFailed(async () => {
      mkdirSync(RESULTS, { recursive: true });
      const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      await page?.screenshot({ path: new URL(`sandbox-${name}.png`, RESULTS).pathname, fullPage: true });
    });
  });

  /** Waits until the card shows `what`. */
  const cardShows = (what: string) => card.filter({ hasText: what }).waitFor();

  it(
    'shows a card for a customer post that arrives through the signed webhook',
    async () => {
      await page.goto(`${s.app.http.url}/#user=${SEED.users.lead}`);
      await page.locator('#channel-title', { hasText: 'earshot-feedback' }).waitFor();
      const res = await s.post({ id: 'e2e-1', text, author: { handle: 'casey_e2e', name: 'Casey' } });
      if (res.status !== 202) throw new Error(`the webhook answered ${res.status}`);
      const first = page.locator('#messages .msg', { hasText: marker });
      await first.waitFor();
      const ts = await first.getAttribute('data-ts');
      card = page.locator(`#messages .msg[data-ts="${ts}"]`);
      await cardShows('Unassigned');
    },
    STEP,
  );

  it(
    'claims it: the card changes and the thread line appears',
    async () => {
      await card.locator('[data-action-id="ticket_claim"]').click();
      await card.locator('[data-action-id="ticket_unclaim"]').waitFor();
      await cardShows('@lee');
      await card.locator('[data-open-thread]').click();
      await page.locator('#thread-messages .msg', { hasText: '@lee claimed' }).waitFor();
    },
    STEP,
  );

  it(
    'replies through the Reply modal, and the thread says the reply is posted',
    async () => {
      await card.locator('[data-action-id="ticket_reply"]').click();
      await page.locator('#modal-backdrop:not([hidden])').waitFor();
      await page.locator('#modal-title', { hasText: 'Reply' }).waitFor();
      const reply = 'Sorry Casey, the duplicate charge is refunded today.';
      await page.locator('#modal-body textarea[data-action-id="reply_text_changed"]').fill(reply);
      // The modal counts live (views.update after each pause in typing): wait for it to catch up.
      await page.locator('#modal-body', { hasText: `${reply.length} / ` }).waitFor();
      await page.locator('#modal-submit').click();
      await page.locator('#modal-backdrop').waitFor({ state: 'hidden' });
      await page.locator('#thread-messages .msg', { hasText: 'duplicate charge is refunded' }).waitFor();
      await page.locator('#thread-messages .msg', { hasText: 'The reply is posted' }).waitFor();
    },
    STEP,
  );

  it(
    'tags it',
    async () => {
      await card.locator('[data-action-id="ticket_tag"]').click();
      await page.locator('#modal-backdrop:not([hidden])').waitFor();
      await page.locator('#modal-body [data-kind="text"][data-block-id="tag_new"]').fill('refund, double-charge');
      await page.locator('#modal-submit').click();
      await page.locator('#modal-backdrop').waitFor({ state: 'hidden' });
      await cardShows('double-charge');
    },
    STEP,
  );

  it(
    'escalates it',
    async () => {
      await card.locator('[data-action-id="ticket_escalate"]').click();
      await page.locator('#modal-backdrop:not([hidden])').waitFor();
      // The user groups arrive by views.update right after the modal opens.
      await page.locator('#modal-body [data-block-id="escalate_notify_group"]').first().waitFor();
      await page.locator('#modal-body select[data-block-id="escalate_tier"]').selectOption('2');
      await page.locator('#modal-body textarea[data-block-id="escalate_reason"]').fill('Billing must refund it');
      await page.locator('#modal-submit').click();
      await page.locator('#modal-backdrop').waitFor({ state: 'hidden' });
      await cardShows('Tier 2');
    },
    STEP,
  );

  it(
    'resolves it',
    async () => {
      await card.locator('[data-action-id="ticket_resolve"]').click();
      await card.locator('[data-action-id="ticket_reopen"]').waitFor();
      await cardShows('Resolved');
    },
    STEP,
  );

  it(
    'runs /earshot summary from the command box, chart included',
    async () => {
      await page.locator('#composer-input').fill('/earshot summary');
      await page.locator('#composer-input').press('Enter');
      const summary = page.locator('#messages .msg-ephemeral', { has: page.locator('.bk-header') });
      await summary.waitFor();
      await summary.locator('img').first().waitFor();
      // The chart is served by the app itself (EARSHOT_PUBLIC_URL is its base URL in sandbox mode).
      await page.waitForFunction(
        "[...document.querySelectorAll('#messages .msg-ephemeral img')].some((image) => image.complete && image.naturalWidth > 0)",
      );
    },
    STEP,
  );

  it(
    'shows the crisis alert after a burst',
    async () => {
      const burst = [
        { handle: 'upset_1', followers: 120, text: 'Charged twice at checkout again, this is terrible. Fix it.' },
        { handle: 'upset_2', followers: 340, text: 'Payment failed and my card was still charged. Awful.' },
        {
          handle: 'big_voice_e2e',
          followers: 300_000,
          text: 'Absolutely furious: @basketly charged me twice and support ignores me. Shocking, terrible service.',
        },
      ];
      for (const [index, post] of burst.entries()) {
        const res = await s.post({
          id: `e2e-burst-${index}`,
          text: post.text,
          author: { handle: post.handle, name: post.handle, followers: post.followers },
        });
        if (res.status !== 202) throw new Error(`the webhook answered ${res.status}`);
      }
      // As the demo feed does after its burst: wait for triage, then run the crisis job's tick now.
      await checkForCrisisNow(s.app.context);
      await page.locator(`[data-nav="${SEED.channels.oncall}"]`).click();
      await page.locator('#channel-title', { hasText: 'earshot-oncall' }).waitFor();
      await page.locator('#messages .msg', { hasText: 'Negative post by @big_voice_e2e' }).waitFor();
    },
    STEP,
  );
});
