// Block Kit and mrkdwn to HTML for the sandbox page. Pure functions of their input (no DOM), so
// vitest imports this file as it is. Every piece of text goes through escapeHtml: nothing the app
// or a customer wrote can become markup.

const EMOJI = {
  white_check_mark: '✅',
  warning: '⚠️',
  rotating_light: '🚨',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  double_vertical_bar: '⏸️',
  eyes: '👀',
  new: '🆕',
  lock: '🔒',
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  white_circle: '⚪',
  large_green_circle: '🟢',
  large_blue_circle: '🔵',
  slightly_frowning_face: '🙁',
  neutral_face: '😐',
  slightly_smiling_face: '🙂',
  ballot_box_with_check: '☑️',
  star: '⭐',
  arrow_double_up: '⏫',
  grey_question: '❔',
  question: '❓',
  bulb: '💡',
  tada: '🎉',
  fire: '🔥',
  x: '❌',
  heavy_check_mark: '✔️',
  speech_balloon: '💬',
  bell: '🔔',
  no_bell: '🔕',
  mag: '🔍',
  link: '🔗',
  memo: '📝',
  label: '🏷️',
  bust_in_silhouette: '👤',
  busts_in_silhouette: '👥',
  clock3: '🕒',
  chart_with_upwards_trend: '📈',
  chart_with_downwards_trend: '📉',
  bar_chart: '📊',
  inbox_tray: '📥',
  outbox_tray: '📤',
  email: '📧',
  envelope: '✉️',
  pushpin: '📌',
  zzz: '💤',
  ocean: '🌊',
  zap: '⚡',
  ticket: '🎫',
  wastebasket: '🗑️',
  page_facing_up: '📄',
  fire_engine: '🚒',
  envelope_with_arrow: '📩',
  sos: '🆘',
  rocket: '🚀',
  wave: '👋',
  thumbsup: '👍',
  '+1': '👍',
  thumbsdown: '👎',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  information_source: 'ℹ️',
  heart: '❤️',
  bird: '🐦',
  globe_with_meridians: '🌐',
  repeat: '🔁',
  arrows_counterclockwise: '🔄',
  stopwatch: '⏱️',
  calendar: '📅',
  sparkles: '✨',
  robot_face: '🤖',
  construction: '🚧',
  checkered_flag: '🏁',
  money_with_wings: '💸',
  moneybag: '💰',
  package: '📦',
  wrench: '🔧',
  gear: '⚙️',
  clipboard: '📋',
  spiral_note_pad: '🗒️',
  point_right: '👉',
  trophy: '🏆',
  angry: '😠',
  rage: '😡',
  smile: '😄',
  cry: '😢',
  thinking_face: '🤔',
};

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Slack text escapes only these three; for display they become the characters again. */
export function unescapeSlack(text) {
  return String(text ?? '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Replaces :shortcodes: Slack knows with their emoji (in already-escaped text). */
export function emojify(escaped) {
  return escaped.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

/** Only these schemes become links; anything else (javascript:, data:) is shown as text. */
export function safeHref(url) {
  const trimmed = String(url ?? '').trim();
  return /^(https?:\/\/|mailto:)/i.test(trimmed) ? trimmed : null;
}

function nameOf(map, id, fallback) {
  const entry = map?.[id];
  if (!entry) return fallback;
  return typeof entry === 'string' ? entry : (entry.name ?? fallback);
}

const MONTHS = 'January February March April May June July August September October November December'.split(' ');

function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** The parts of an instant on the viewer's calendar (`ctx.timeZone`, else the browser's zone). */
function calendarOf(date, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'long',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: parts.weekday,
    time: `${parts.hour}:${parts.minute}`,
    seconds: parts.second,
  };
}

/**
 * Slack's `<!date^seconds^format|fallback>` as Slack shows it, in the viewer's time zone:
 * `{date_num}`, `{date}`, `{date_short}`, `{date_long}`, their `_pretty` forms (Today, Yesterday,
 * Tomorrow), `{time}`, `{time_secs}` and `{ago}`. Null when the token is malformed (the fallback shows).
 */
function formatSlackDate(command, fallback, ctx) {
  const [, seconds, format] = command.split('^');
  const date = new Date(Number(seconds) * 1000);
  if (!format || !/^\d+$/.test(seconds ?? '') || Number.isNaN(date.getTime())) return null;
  const now = new Date(ctx.now ?? Date.now());
  const at = calendarOf(date, ctx.timeZone);
  const today = calendarOf(now, ctx.timeZone);
  const dayNumber = (c) => Date.UTC(c.year, c.month - 1, c.day) / 86_400_000;
  const relative = { 0: 'Today', [-1]: 'Yesterday', 1: 'Tomorrow' }[dayNumber(at) - dayNumber(today)];
  const month = MONTHS[at.month - 1];
  const forms = {
    date_num: `${at.year}-${String(at.month).padStart(2, '0')}-${String(at.day).padStart(2, '0')}`,
    date: `${month} ${ordinal(at.day)}, ${at.year}`,
    date_short: `${month.slice(0, 3)} ${at.day}, ${at.year}`,
    date_long: `${at.weekday}, ${month} ${ordinal(at.day)}, ${at.year}`,
    time: at.time,
    time_secs: `${at.time}:${at.seconds}`,
    ago: agoText((now.getTime() - date.getTime()) / 1000),
  };
  for (const base of ['date', 'date_short', 'date_long']) forms[`${base}_pretty`] = relative ?? forms[base];
  let unknown = false;
  const text = format.replace(/\{(\w+)\}/g, (whole, name) => {
    if (name in forms) return forms[name];
    unknown = true;
    return whole;
  });
  return unknown ? (fallback ?? text) : text;
}

function agoText(seconds) {
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const [n, unit] =
    s < 60
      ? [0, '']
      : s < 3600
        ? [Math.floor(s / 60), 'minute']
        : s < 86_400
          ? [Math.floor(s / 3600), 'hour']
          : [Math.floor(s / 86_400), 'day'];
  if (n === 0) return 'just now';
  const span = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return future ? `in ${span}` : `${span} ago`;
}

/** Renders one `<…>` token of Slack text: a mention, a channel, a special mention, a date or a link. */
function renderToken(inner, ctx) {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : null;
  const show = (text) => escapeHtml(unescapeSlack(text));
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const name = label ?? nameOf(ctx.users, id, id);
    return `<span class="mention" data-user-id="${escapeHtml(id)}">@${show(name)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = label ?? nameOf(ctx.channels, id, id);
    return `<span class="mention channel-mention">#${show(name)}</span>`;
  }
  if (target.startsWith('!')) {
    const command = target.slice(1);
    if (command === 'here' || command === 'channel' || command === 'everyone')
      return `<span class="mention broadcast">@${command}</span>`;
    if (command.startsWith('subteam^')) {
      const id = command.slice('subteam^'.length);
      const handle = label ? label.replace(/^@/, '') : nameOf(ctx.usergroups, id, id);
      return `<span class="mention">@${show(handle)}</span>`;
    }
    if (command.startsWith('date^')) return show(formatSlackDate(command, label, ctx) ?? label ?? '');
    return show(label ?? '');
  }
  const href = safeHref(unescapeSlack(target));
  const text = label ?? target;
  if (!href) return show(text);
  return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${show(text)}</a>`;
}

/**
 * Slack mrkdwn to HTML: `*bold*`, `_italic_`, `~strike~`, `` `code` ``, ``` blocks, `> quotes`,
 * `<url|text>` links, `<@U…>` mentions as @name, `<!here>`, user groups, emoji; `&lt;` `&gt;`
 * `&amp;` shown as the characters. `ctx` maps ids to names: `{ users, channels, usergroups }`.
 */
export function mrkdwnToHtml(text, ctx = {}) {
  const held = [];
  const hold = (html) => {
    held.push(html);
    return `\uE000${held.length - 1}\uE000`;
  };
  let out = String(text ?? '').replace(/\uE000/g, '');
  out = out.replace(/```([\s\S]*?)```/g, (_, code) =>
    hold(`<pre class="code-block">${escapeHtml(unescapeSlack(code))}</pre>`),
  );
  out = out.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${escapeHtml(unescapeSlack(code))}</code>`));
  out = out.replace(/<([^<>\n]+)>/g, (_, inner) => hold(renderToken(inner, ctx)));
  out = escapeHtml(unescapeSlack(out));
  out = out
    .split('\n')
    .map((line) => (line.startsWith('&gt;') ? `<blockquote>${line.slice(4).replace(/^ /, '')}</blockquote>` : line))
    .join('\n');
  out = out.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1<b>$2</b>');
  out = out.replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, '$1<i>$2</i>');
  out = out.replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/g, '$1<s>$2</s>');
  out = emojify(out);
  out = out.replace(/<\/blockquote>\n/g, '</blockquote>').replace(/\n/g, '<br>');
  return out.replace(/\uE000(\d+)\uE000/g, (_, index) => held[Number(index)] ?? '');
}

/** A plain_text object (or string) as HTML: literal text, emoji codes expanded unless `emoji: false`. */
export function plainToHtml(text) {
  if (text == null) return '';
  const value = typeof text === 'string' ? text : text.text;
  const escaped = escapeHtml(value).replace(/\n/g, '<br>');
  return typeof text === 'object' && text.emoji === false ? escaped : emojify(escaped);
}

/** A text object of either type as HTML. */
export function textToHtml(text, ctx = {}) {
  if (text == null) return '';
  if (typeof text === 'string') return mrkdwnToHtml(text, ctx);
  return text.type === 'mrkdwn' ? mrkdwnToHtml(text.text, ctx) : plainToHtml(text);
}

/** Plain text of a text object, for placeholders and titles (escaped). */
function flatText(text) {
  if (text == null) return '';
  return escapeHtml(typeof text === 'string' ? text : text.text);
}

function attrs(block, element) {
  return `data-block-id="${escapeHtml(block.block_id ?? '')}" data-action-id="${escapeHtml(element.action_id ?? '')}"`;
}

function optionsOf(element) {
  const flat = (element.options ?? []).map((option) => ({ option, group: null }));
  for (const group of element.option_groups ?? [])
    for (const option of group.options ?? []) flat.push({ option, group: group.label });
  return flat;
}

function asList(value) {
  if (value == null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The element's current value: from the view state when the sandbox has one, else its initial value. */
function currentValue(element, ctx, block) {
  const fromState = ctx.values?.[block.block_id]?.[element.action_id];
  if (fromState !== undefined) return fromState;
  if (element.initial_value !== undefined) return element.initial_value;
  if (element.initial_option) return element.initial_option.value;
  if (element.initial_options) return element.initial_options.map((option) => option.value);
  for (const key of ['initial_user', 'initial_conversation', 'initial_channel', 'initial_date', 'initial_time'])
    if (element[key] !== undefined) return element[key];
  for (const key of ['initial_users', 'initial_conversations', 'initial_channels'])
    if (element[key] !== undefined) return element[key];
  return null;
}

function selectHtml(block, element, ctx, choices, multiple) {
  const chosen = new Set(asList(currentValue(element, ctx, block)).map(String));
  const placeholder = element.placeholder ? flatText(element.placeholder) : 'Select an option';
  let body = multiple ? '' : `<option value="">${placeholder}</option>`;
  let openGroup = null;
  for (const { value, label, group } of choices) {
    if (group !== openGroup) {
      if (openGroup !== null) body += '</optgroup>';
      if (group !== null) body += `<optgroup label="${flatText(group)}">`;
      openGroup = group;
    }
    const selected = chosen.has(String(value)) ? ' selected' : '';
    body += `<option value="${escapeHtml(value)}"${selected}>${label}</option>`;
  }
  if (openGroup !== null) body += '</optgroup>';
  const kind = multiple ? 'multiselect' : 'select';
  const title = multiple ? ` title="${placeholder}"` : '';
  return `<select class="bk-select${multiple ? ' bk-multi' : ''}"${multiple ? ' multiple' : ''}${title} data-kind="${kind}" data-element-type="${escapeHtml(element.type)}" ${attrs(block, element)}>${body}</select>`;
}

function userChoices(ctx) {
  return Object.entries(ctx.users ?? {})
    .filter(([, user]) => !(typeof user === 'object' && user.is_bot))
    .map(([id, user]) => {
      const realName = typeof user === 'object' && user.real_name ? ` (${escapeHtml(user.real_name)})` : '';
      return { value: id, label: `${escapeHtml(nameOf(ctx.users, id, id))}${realName}`, group: null };
    });
}

function channelChoices(ctx) {
  return Object.entries(ctx.channels ?? {}).map(([id]) => ({
    value: id,
    label: `#${escapeHtml(nameOf(ctx.channels, id, id))}`,
    group: null,
  }));
}

/** One interactive element (button, overflow, select, input…) as HTML with the ids the page sends back. */
export function renderElement(block, element, ctx = {}) {
  switch (element.type) {
    case 'button': {
      const style = element.style === 'primary' || element.style === 'danger' ? ` bk-btn-${element.style}` : '';
      const href = element.url ? safeHref(element.url) : null;
      const url = href ? ` data-url="${escapeHtml(href)}"` : '';
      return `<button type="button" class="bk-btn${style}" data-kind="button"${url} ${attrs(block, element)}>${plainToHtml(element.text)}</button>`;
    }
    case 'overflow': {
      const items = (element.options ?? [])
        .map(
          (option) =>
            `<button type="button" class="bk-menu-item" data-kind="overflow" data-value="${escapeHtml(option.value)}" ${attrs(block, element)}>${plainToHtml(option.text)}</button>`,
        )
        .join('');
      return `<details class="bk-overflow"><summary class="bk-btn bk-overflow-toggle" aria-label="More actions">⋯</summary><div class="bk-menu" role="menu">${items}</div></details>`;
    }
    case 'static_select':
    case 'external_select':
      return selectHtml(
        block,
        element,
        ctx,
        optionsOf(element).map(({ option, group }) => ({
          value: option.value,
          label: plainToHtml(option.text),
          group,
        })),
        false,
      );
    case 'multi_static_select':
    case 'multi_external_select':
      return selectHtml(
        block,
        element,
        ctx,
        optionsOf(element).map(({ option, group }) => ({
          value: option.value,
          label: plainToHtml(option.text),
          group,
        })),
        true,
      );
    case 'users_select':
      return selectHtml(block, element, ctx, userChoices(ctx), false);
    case 'multi_users_select':
      return selectHtml(block, element, ctx, userChoices(ctx), true);
    case 'conversations_select':
    case 'channels_select':
      return selectHtml(block, element, ctx, channelChoices(ctx), false);
    case 'multi_conversations_select':
    case 'multi_channels_select':
      return selectHtml(block, element, ctx, channelChoices(ctx), true);
    case 'checkboxes':
    case 'radio_buttons': {
      const chosen = new Set(asList(currentValue(element, ctx, block)).map(String));
      const kind = element.type === 'checkboxes' ? 'checkboxes' : 'radio';
      const inputType = kind === 'checkboxes' ? 'checkbox' : 'radio';
      const group = `${block.block_id}:${element.action_id}`;
      const items = (element.options ?? [])
        .map((option) => {
          const checked = chosen.has(String(option.value)) ? ' checked' : '';
          const description = option.description
            ? `<span class="bk-option-description">${textToHtml(option.description, ctx)}</span>`
            : '';
          return `<label class="bk-choice"><input type="${inputType}" name="${escapeHtml(group)}" value="${escapeHtml(option.value)}"${checked}> <span>${textToHtml(option.text, ctx)}</span>${description}</label>`;
        })
        .join('');
      return `<div class="bk-choices" data-kind="${kind}" data-element-type="${element.type}" ${attrs(block, element)}>${items}</div>`;
    }
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
    case 'rich_text_input': {
      const value = currentValue(element, ctx, block);
      const placeholder = element.placeholder ? ` placeholder="${flatText(element.placeholder)}"` : '';
      const max = element.max_length ? ` maxlength="${Number(element.max_length)}"` : '';
      const triggers = element.dispatch_action_config?.trigger_actions_on ?? ['on_enter_pressed'];
      const dispatch = ` data-dispatch-on="${escapeHtml(triggers.join(' '))}"`;
      const common = `class="bk-input" data-kind="text" data-element-type="${element.type}"${placeholder}${max}${dispatch} ${attrs(block, element)}`;
      if (element.multiline || element.type === 'rich_text_input')
        return `<textarea rows="4" ${common}>${escapeHtml(value ?? '')}</textarea>`;
      const type = { email_text_input: 'email', url_text_input: 'url', number_input: 'number' }[element.type] ?? 'text';
      return `<input type="${type}" value="${escapeHtml(value ?? '')}" ${common}>`;
    }
    case 'datepicker':
      return `<input type="date" class="bk-input" data-kind="text" data-element-type="datepicker" value="${escapeHtml(currentValue(element, ctx, block) ?? '')}" ${attrs(block, element)}>`;
    case 'timepicker':
      return `<input type="time" class="bk-input" data-kind="text" data-element-type="timepicker" value="${escapeHtml(currentValue(element, ctx, block) ?? '')}" ${attrs(block, element)}>`;
    case 'image':
      return imageHtml(element.image_url, element.alt_text, 'bk-accessory-image');
    default:
      return `<span class="bk-unsupported">[${escapeHtml(element.type)}]</span>`;
  }
}

function imageHtml(url, alt, className) {
  const href = safeHref(url) ?? (/^data:image\/(png|gif|jpeg|webp);/.test(String(url)) ? url : null);
  if (!href) return `<span class="bk-unsupported">[image: ${escapeHtml(alt)}]</span>`;
  return `<img class="${className}" src="${escapeHtml(href)}" alt="${escapeHtml(alt)}" loading="lazy" referrerpolicy="no-referrer">`;
}

function richTextElements(elements, ctx) {
  return (elements ?? [])
    .map((element) => {
      let html;
      switch (element.type) {
        case 'text':
          html = emojify(escapeHtml(element.text)).replace(/\n/g, '<br>');
          break;
        case 'link': {
          const href = safeHref(element.url);
          const label = escapeHtml(element.text ?? element.url);
          html = href ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${label}</a>` : label;
          break;
        }
        case 'user':
          html = `<span class="mention">@${escapeHtml(nameOf(ctx.users, element.user_id, element.user_id))}</span>`;
          break;
        case 'usergroup':
          html = `<span class="mention">@${escapeHtml(nameOf(ctx.usergroups, element.usergroup_id, element.usergroup_id))}</span>`;
          break;
        case 'channel':
          html = `<span class="mention channel-mention">#${escapeHtml(nameOf(ctx.channels, element.channel_id, element.channel_id))}</span>`;
          break;
        case 'broadcast':
          html = `<span class="mention broadcast">@${escapeHtml(element.range)}</span>`;
          break;
        case 'emoji':
          html = element.unicode
            ? escapeHtml(
                String.fromCodePoint(...element.unicode.split('-').map((code) => Number.parseInt(code, 16) || 0x3f)),
              )
            : emojify(`:${escapeHtml(element.name)}:`);
          break;
        default:
          html = '';
      }
      const style = element.style ?? {};
      if (style.code) html = `<code>${html}</code>`;
      if (style.bold) html = `<b>${html}</b>`;
      if (style.italic) html = `<i>${html}</i>`;
      if (style.strike) html = `<s>${html}</s>`;
      return html;
    })
    .join('');
}

function richTextHtml(block, ctx) {
  return (block.elements ?? [])
    .map((part) => {
      switch (part.type) {
        case 'rich_text_section':
          return `<div>${richTextElements(part.elements, ctx)}</div>`;
        case 'rich_text_preformatted':
          return `<pre class="code-block">${richTextElements(part.elements, ctx)}</pre>`;
        case 'rich_text_quote':
          return `<blockquote>${richTextElements(part.elements, ctx)}</blockquote>`;
        case 'rich_text_list': {
          const tag = part.style === 'ordered' ? 'ol' : 'ul';
          const items = (part.elements ?? [])
            .map((item) => `<li>${richTextElements(item.elements, ctx)}</li>`)
            .join('');
          return `<${tag}>${items}</${tag}>`;
        }
        default:
          return '';
      }
    })
    .join('');
}

/**
 * One block as HTML. `ctx.values` (view state, friendly: `{ block: { action: value } }`) fills
 * inputs; `ctx.errors` (`{ block_id: message }`) shows validation errors under inputs.
 */
export function renderBlock(block, ctx = {}) {
  const id = escapeHtml(block.block_id ?? '');
  switch (block.type) {
    case 'header':
      return `<div class="bk-block bk-header" data-block="${id}">${plainToHtml(block.text)}</div>`;
    case 'divider':
      return `<hr class="bk-block bk-divider">`;
    case 'section': {
      const text = block.text ? `<div class="bk-text">${textToHtml(block.text, ctx)}</div>` : '';
      const fields = block.fields?.length
        ? `<div class="bk-fields">${block.fields.map((field) => `<div class="bk-field">${textToHtml(field, ctx)}</div>`).join('')}</div>`
        : '';
      const accessory = block.accessory
        ? `<div class="bk-accessory">${renderElement(block, block.accessory, ctx)}</div>`
        : '';
      return `<div class="bk-block bk-section" data-block="${id}"><div class="bk-section-main">${text}${fields}</div>${accessory}</div>`;
    }
    case 'context': {
      const items = (block.elements ?? [])
        .map((element) =>
          element.type === 'image'
            ? imageHtml(element.image_url, element.alt_text, 'bk-context-image')
            : `<span class="bk-context-text">${textToHtml(element, ctx)}</span>`,
        )
        .join('');
      return `<div class="bk-block bk-context" data-block="${id}">${items}</div>`;
    }
    case 'actions':
      return `<div class="bk-block bk-actions" data-block="${id}">${(block.elements ?? []).map((element) => renderElement(block, element, ctx)).join('')}</div>`;
    case 'image': {
      const title = block.title ? `<figcaption>${plainToHtml(block.title)}</figcaption>` : '';
      return `<figure class="bk-block bk-image" data-block="${id}">${title}${imageHtml(block.image_url, block.alt_text, 'bk-image-img')}</figure>`;
    }
    case 'rich_text':
      return `<div class="bk-block bk-rich-text" data-block="${id}">${richTextHtml(block, ctx)}</div>`;
    case 'markdown':
      return `<div class="bk-block bk-markdown" data-block="${id}">${escapeHtml(block.text).replace(/\n/g, '<br>')}</div>`;
    case 'input': {
      const optional = block.optional ? ' <span class="bk-optional">(optional)</span>' : '';
      const hint = block.hint ? `<div class="bk-hint">${plainToHtml(block.hint)}</div>` : '';
      const error = ctx.errors?.[block.block_id]
        ? `<div class="bk-error" role="alert">${escapeHtml(ctx.errors[block.block_id])}</div>`
        : '';
      const dispatch = block.dispatch_action ? ' data-dispatch="true"' : '';
      const invalid = error ? ' bk-invalid' : '';
      return `<div class="bk-block bk-input-block${invalid}" data-block="${id}"${dispatch}><label class="bk-label">${plainToHtml(block.label)}${optional}</label>${renderElement(block, block.element ?? {}, ctx)}${hint}${error}</div>`;
    }
    case 'file':
      return `<div class="bk-block bk-file" data-block="${id}">📎 ${escapeHtml(block.external_id ?? 'file')}</div>`;
    default:
      return `<div class="bk-block bk-unsupported" data-block="${id}">[${escapeHtml(block.type)} block]</div>`;
  }
}

/** A list of blocks as HTML. */
export function renderBlocks(blocks, ctx = {}) {
  return (blocks ?? []).map((block) => renderBlock(block, ctx)).join('');
}

function attachmentHtml(attachment, ctx) {
  const color = /^#?[0-9a-f]{3,6}$/i.test(attachment.color ?? '')
    ? attachment.color.replace(/^(?!#)/, '#')
    : ({ good: '#2eb67d', warning: '#ecb22e', danger: '#e01e5a' }[attachment.color] ?? '#dddddd');
  const title = attachment.title ? `<div class="att-title">${mrkdwnToHtml(attachment.title, ctx)}</div>` : '';
  const text = attachment.text ? `<div>${mrkdwnToHtml(attachment.text, ctx)}</div>` : '';
  const fields = (attachment.fields ?? [])
    .map(
      (field) => `<div class="bk-field"><b>${escapeHtml(field.title)}</b><br>${mrkdwnToHtml(field.value, ctx)}</div>`,
    )
    .join('');
  const blocks = attachment.blocks ? renderBlocks(attachment.blocks, ctx) : '';
  const fallback = !title && !text && !fields && !blocks && attachment.fallback ? escapeHtml(attachment.fallback) : '';
  return `<div class="attachment" style="border-left-color:${escapeHtml(color)}">${title}${text}${fields ? `<div class="bk-fields">${fields}</div>` : ''}${blocks}${fallback}</div>`;
}

/** Formats a Slack ts as a local clock time. */
export function formatTs(ts) {
  const date = new Date(Number(ts) * 1000);
  if (Number.isNaN(date.getTime())) return '';
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * A message (or ephemeral) as Slack shows it: author, time, the command that produced it, its
 * blocks (or its text when it has none), attachments, files, thread summary, the ephemeral note.
 */
export function renderMessage(message, ctx = {}, options = {}) {
  const fromBot = Boolean(message.bot_id);
  const author = fromBot ? (ctx.botName ?? 'Earshot') : nameOf(ctx.users, message.user, message.user ?? 'someone');
  const realName = !fromBot && ctx.users?.[message.user]?.real_name ? ctx.users[message.user].real_name : author;
  const initial = escapeHtml((realName || '?').trim().charAt(0).toUpperCase());
  const badge = fromBot ? '<span class="app-badge">APP</span>' : '';
  const edited = message.edited ? '<span class="edited">(edited)</span>' : '';
  const echo = message.command_echo
    ? `<div class="command-echo"><code>${escapeHtml(message.command_echo)}</code></div>`
    : '';
  const body = message.blocks?.length
    ? renderBlocks(message.blocks, ctx)
    : `<div class="msg-text">${mrkdwnToHtml(message.text, ctx)}</div>`;
  const attachments = (message.attachments ?? []).map((attachment) => attachmentHtml(attachment, ctx)).join('');
  const files = (message.files ?? [])
    .map((file) => {
      const href = safeHref(file.url_private);
      const name = escapeHtml(file.title ?? file.name);
      return `<div class="file">📄 ${href ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener">${name}</a>` : name}</div>`;
    })
    .join('');
  const replies =
    options.showThreadSummary !== false && message.reply_count
      ? `<button type="button" class="thread-link" data-open-thread="${escapeHtml(message.ts)}">${message.reply_count} ${message.reply_count === 1 ? 'reply' : 'replies'}</button>`
      : '';
  const ephemeral = options.ephemeral
    ? `<div class="ephemeral-note">👁 Only visible to you · <button type="button" class="link-button" data-dismiss="${escapeHtml(message.ts)}">Dismiss</button></div>`
    : '';
  const classes = ['msg', options.ephemeral ? 'msg-ephemeral' : '', options.highlight ? 'msg-highlight' : '']
    .filter(Boolean)
    .join(' ');
  return `<div class="${classes}" data-ts="${escapeHtml(message.ts)}" data-channel="${escapeHtml(message.channel ?? options.channel ?? '')}"${options.ephemeral ? ' data-ephemeral="true"' : ''}><div class="avatar${fromBot ? ' avatar-bot' : ''}">${fromBot ? '👂' : initial}</div><div class="msg-body"><div class="msg-meta"><span class="author">${escapeHtml(realName)}</span>${badge}<span class="time" title="${escapeHtml(message.ts)}">${formatTs(message.ts)}</span>${edited}</div>${echo}${body}${attachments}${files}${replies}${ephemeral}</div></div>`;
}

/**
 * A modal's or App Home's blocks with their inputs filled from the view's state and the app's
 * validation errors under the offending fields.
 */
export function renderViewBody(view, ctx = {}) {
  const general = view.errors?.['']
    ? `<div class="bk-error view-error" role="alert">${escapeHtml(view.errors[''])}</div>`
    : '';
  return general + renderBlocks(view.blocks, { ...ctx, values: view.values ?? ctx.values, errors: view.errors });
}
