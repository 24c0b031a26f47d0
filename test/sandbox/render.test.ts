import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  emojify,
  mrkdwnToHtml,
  plainToHtml,
  renderBlock,
  renderBlocks,
  renderMessage,
  renderViewBody,
} from '../../src/sandbox/page/assets/render.js';

const ctx = {
  users: { U0AGENT1: { name: 'ana', real_name: 'Ana Agent' }, U0EARSHOT: { name: 'earshot', is_bot: true } },
  channels: { C0FEEDBACK: 'earshot-feedback' },
  usergroups: { S0ONCALL: 'oncall' },
};

describe('mrkdwn', () => {
  it('renders bold, italic, strike, code and code blocks', () => {
    expect(mrkdwnToHtml('*bold* _it_ ~gone~ `x<y`')).toBe('<b>bold</b> <i>it</i> <s>gone</s> <code>x&lt;y</code>');
    expect(mrkdwnToHtml('```a *not bold*\nb```')).toBe('<pre class="code-block">a *not bold*\nb</pre>');
  });

  it("renders <!date^…> tokens as Slack does, in the viewer's time zone, with the fallback when malformed", () => {
    // 2026-12-02 18:40:05 UTC: 19:40 in Paris, and still 2 December there.
    const at = Date.UTC(2026, 11, 2, 18, 40, 5) / 1000;
    const paris = { timeZone: 'Europe/Paris', now: Date.UTC(2026, 11, 2, 20, 0) };
    const date = (format: string, c: object = paris) => mrkdwnToHtml(`<!date^${at}^${format}|fallback>`, c);
    expect(date('Updated {time}')).toBe('Updated 19:40');
    expect(date('{date_num} {time_secs}')).toBe('2026-12-02 19:40:05');
    expect(date('{date} · {date_short} · {date_long}')).toBe(
      'December 2nd, 2026 · Dec 2, 2026 · Wednesday, December 2nd, 2026',
    );
    expect(date('{date_short_pretty} {time}')).toBe('Today 19:40');
    expect(date('{date_pretty}', { ...paris, now: Date.UTC(2026, 11, 3, 12) })).toBe('Yesterday');
    expect(date('{date_pretty}', { timeZone: 'Asia/Tokyo', now: Date.UTC(2026, 11, 2, 12) })).toBe('Tomorrow');
    expect(date('{ago}')).toBe('1 hour ago');
    expect(date('{nonsense}')).toBe('fallback');
    expect(mrkdwnToHtml('<!date^soon^{time}|at some point>', paris)).toBe('at some point');
  });

  it('leaves markers inside words alone', () => {
    expect(mrkdwnToHtml('snake_case_name and 2*3*4')).toBe('snake_case_name and 2*3*4');
  });

  it('renders links, masked links and mentions by name', () => {
    expect(mrkdwnToHtml('<https://x.com/a|the post> <@U0AGENT1> <#C0FEEDBACK> <!subteam^S0ONCALL> <!here>', ctx)).toBe(
      '<a href="https://x.com/a" target="_blank" rel="noopener noreferrer">the post</a> ' +
        '<span class="mention" data-user-id="U0AGENT1">@ana</span> ' +
        '<span class="mention channel-mention">#earshot-feedback</span> ' +
        '<span class="mention">@oncall</span> ' +
        '<span class="mention broadcast">@here</span>',
    );
  });

  it('shows escaped &lt; &gt; &amp; as characters, and never as markup', () => {
    expect(mrkdwnToHtml('&lt;!channel&gt; &amp;lt; a &amp; b')).toBe('&lt;!channel&gt; &amp;lt; a &amp; b');
    expect(mrkdwnToHtml('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('never injects HTML from raw text, link text or link targets', () => {
    const nasty = [
      '<img src=x onerror=alert(1)>',
      '<javascript:alert(1)|click me>',
      '<https://ok.example/"onmouseover="alert(1)|x>',
      '*<b>*',
      '"\'><svg onload=alert(1)>',
      '<@U1|"><img src=x>>',
    ];
    for (const text of nasty) {
      const html = mrkdwnToHtml(text, ctx);
      expect(html).not.toMatch(/<(img|svg|script)/i);
      expect(html).not.toMatch(/href="javascript/i);
      expect(html).not.toMatch(/"on\w+=/i);
    }
    expect(mrkdwnToHtml('<javascript:alert(1)|click me>')).toBe('click me');
  });

  it('renders quotes, line breaks and emoji', () => {
    expect(mrkdwnToHtml('&gt; quoted\nnext :white_check_mark:')).toBe('<blockquote>quoted</blockquote>next ✅');
  });
});

describe('blocks', () => {
  it('renders a ticket card: header, section with fields and accessory, context, divider, actions', () => {
    const html = renderBlocks(
      [
        { type: 'header', text: { type: 'plain_text', text: 'P1 · Refund <now>' } },
        {
          type: 'section',
          block_id: 'ticket:42',
          text: { type: 'mrkdwn', text: '*@jane* wrote' },
          fields: [{ type: 'mrkdwn', text: '*Status*\n:new: New' }],
          accessory: {
            type: 'overflow',
            action_id: 'ticket_overflow',
            options: [{ text: { type: 'plain_text', text: 'Mark as spam' }, value: 'spam' }],
          },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'SLA :warning: 20m' }] },
        { type: 'divider' },
        {
          type: 'actions',
          block_id: 'acts',
          elements: [
            {
              type: 'button',
              action_id: 'ticket_claim',
              style: 'primary',
              text: { type: 'plain_text', text: 'Claim' },
            },
            {
              type: 'button',
              action_id: 'ticket_resolve',
              style: 'danger',
              text: { type: 'plain_text', text: 'Resolve' },
            },
          ],
        },
      ],
      ctx,
    );
    expect(html).toContain('<div class="bk-block bk-header" data-block="">P1 · Refund &lt;now&gt;</div>');
    expect(html).toContain('<div class="bk-field"><b>Status</b><br>🆕 New</div>');
    expect(html).toContain(
      'data-kind="overflow" data-value="spam" data-block-id="ticket:42" data-action-id="ticket_overflow"',
    );
    expect(html).toContain(
      'class="bk-btn bk-btn-primary" data-kind="button" data-block-id="acts" data-action-id="ticket_claim"',
    );
    expect(html).toContain('bk-btn-danger');
    expect(html).toContain('<hr class="bk-block bk-divider">');
    expect(html).toContain('SLA ⚠️ 20m');
  });

  it('renders plain_text literally', () => {
    expect(plainToHtml({ type: 'plain_text', text: '*not bold* <@U1> &amp;' })).toBe(
      '*not bold* &lt;@U1&gt; &amp;amp;',
    );
  });

  it('renders images only from http(s) URLs', () => {
    expect(renderBlock({ type: 'image', image_url: 'https://x.test/a.png', alt_text: 'chart' })).toContain(
      '<img class="bk-image-img" src="https://x.test/a.png" alt="chart"',
    );
    expect(renderBlock({ type: 'image', image_url: 'javascript:alert(1)', alt_text: 'x' })).not.toContain('<img');
  });

  it('renders rich_text sections, lists and styles', () => {
    const html = renderBlock(
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [
              { type: 'text', text: 'hi ', style: { bold: true } },
              { type: 'user', user_id: 'U0AGENT1' },
            ],
          },
          {
            type: 'rich_text_list',
            style: 'bullet',
            elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: '<one>' }] }],
          },
        ],
      },
      ctx,
    );
    expect(html).toContain('<b>hi </b><span class="mention">@ana</span>');
    expect(html).toContain('<ul><li>&lt;one&gt;</li></ul>');
  });
});

describe('modals', () => {
  const view = {
    blocks: [
      {
        type: 'input',
        block_id: 'reply_text',
        dispatch_action: true,
        label: { type: 'plain_text', text: 'Reply on X' },
        element: {
          type: 'plain_text_input',
          action_id: 'reply_text_changed',
          multiline: true,
          dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
        },
      },
      {
        type: 'input',
        block_id: 'tier',
        label: { type: 'plain_text', text: 'Tier' },
        element: {
          type: 'static_select',
          action_id: 'value',
          options: [
            { text: { type: 'plain_text', text: 'Tier 1' }, value: '1' },
            { text: { type: 'plain_text', text: 'Tier 2' }, value: '2' },
          ],
        },
      },
      {
        type: 'input',
        block_id: 'who',
        label: { type: 'plain_text', text: 'Assignee' },
        element: { type: 'users_select', action_id: 'value' },
      },
      {
        type: 'input',
        block_id: 'tags',
        label: { type: 'plain_text', text: 'Tags' },
        element: {
          type: 'checkboxes',
          action_id: 'value',
          options: [{ text: { type: 'plain_text', text: 'vip' }, value: 'vip' }],
        },
      },
    ],
    values: { reply_text: { reply_text_changed: 'Hello <there>' }, tier: { value: '2' }, tags: { value: ['vip'] } },
    errors: { tier: 'Pick a tier' },
  };

  it('fills inputs from the view state and shows errors under the field', () => {
    const html = renderViewBody(view, ctx);
    expect(html).toContain(
      '<textarea rows="4" class="bk-input" data-kind="text" data-element-type="plain_text_input" data-dispatch-on="on_character_entered"',
    );
    expect(html).toContain('>Hello &lt;there&gt;</textarea>');
    expect(html).toContain('<option value="2" selected>Tier 2</option>');
    expect(html).toContain('<div class="bk-error" role="alert">Pick a tier</div>');
    expect(html).toContain('bk-input-block bk-invalid');
    expect(html).toContain('<option value="U0AGENT1">ana (Ana Agent)</option>');
    expect(html).not.toContain('earshot');
    expect(html).toContain('value="vip" checked');
    expect(html).toContain('data-dispatch="true"');
  });
});

describe('messages', () => {
  it('marks the app, ephemerals, edits, thread replies and falls back to text', () => {
    const html = renderMessage(
      { ts: '1767000000.000100', bot_id: 'B1', text: 'Only *you*', reply_count: 2, edited: { ts: '1' } },
      ctx,
      { ephemeral: true, channel: 'C0FEEDBACK' },
    );
    expect(html).toContain('data-ts="1767000000.000100" data-channel="C0FEEDBACK" data-ephemeral="true"');
    expect(html).toContain('<span class="app-badge">APP</span>');
    expect(html).toContain('Only <b>you</b>');
    expect(html).toContain('Only visible to you');
    expect(html).toContain('2 replies');
    expect(html).toContain('(edited)');
  });

  it('names people by their real name', () => {
    expect(renderMessage({ ts: '1.1', user: 'U0AGENT1', text: 'hi' }, ctx)).toContain(
      '<span class="author">Ana Agent</span>',
    );
  });
});

describe('emoji the app sends', () => {
  /** `:word:` in source that is a key or id format, not an emoji. */
  const NOT_EMOJI = new Set(['author', 'conversation', 'crisis', 'job', 'post']);

  it('every :shortcode: in the app’s own source shows as an emoji on the sandbox page', () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.startsWith('sandbox'),
    );
    const names = new Set<string>();
    for (const file of files) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/:([a-z][a-z0-9_+-]*):/g)) names.add(m[1]!);
    }
    const missing = [...names].filter((n) => !NOT_EMOJI.has(n) && emojify(`:${n}:`) === `:${n}:`);
    expect(missing, 'add them to EMOJI in src/sandbox/page/assets/render.js').toEqual([]);
    expect(names.size).toBeGreaterThan(20);
  });
});
