// The sandbox page: fetches the workspace as one person sees it, re-renders on every change the
// server streams, and sends clicks, selections, submissions and commands back to the sandbox,
// which signs them and delivers them to the app's /slack/events.
import { escapeHtml, plainToHtml, renderMessage, renderViewBody } from './render.js';

const $ = (id) => document.getElementById(id);
const USER_KEY = 'earshot-sandbox-user';

const local = {
  user: null,
  /** A channel id, 'home' (App Home) or 'dm' (the app's Messages tab). */
  nav: null,
  /** The open thread: { channel, ts }. */
  thread: null,
  highlightTs: null,
  snapshot: null,
  /** Per channel, the latest top-level ts the person has seen (for unread badges). */
  seen: {},
  modalKey: null,
  problemsShown: new Set(),
  rendered: {},
};

// --- talking to the sandbox ---

function toast(message, kind = 'info') {
  const node = document.createElement('div');
  node.className = `toast ${kind}`;
  node.textContent = message;
  $('toasts').append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 8000 : 4000);
}

async function post(path, body) {
  try {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: local.user, ...body }),
    });
    const result = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    if (!result.ok) toast(result.error ?? 'Something went wrong', 'error');
    else if (result.warning) toast(result.warning);
    return result;
  } catch (err) {
    toast(`The sandbox could not be reached: ${err.message}`, 'error');
    return { ok: false };
  }
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 60);
}

async function refresh() {
  if (!local.user) return;
  const response = await fetch(`/sandbox/api/state?user=${encodeURIComponent(local.user)}`);
  if (!response.ok) return;
  local.snapshot = await response.json();
  render();
}

// --- what the renderer needs to name things ---

function renderContext() {
  const snapshot = local.snapshot;
  const users = {};
  for (const user of snapshot.users)
    users[user.id] = { name: user.name, real_name: user.real_name, is_bot: user.is_bot };
  const channels = {};
  for (const channel of snapshot.channels) if (!channel.is_im) channels[channel.id] = channel.name;
  const usergroups = {};
  for (const group of snapshot.usergroups) usergroups[group.id] = group.handle;
  return { users, channels, usergroups, botName: 'Earshot' };
}

function isTopLevel(message) {
  return !message.thread_ts || message.thread_ts === message.ts || message.reply_broadcast;
}

function currentChannelId() {
  if (local.nav === 'dm') return local.snapshot.dm;
  if (local.nav === 'home') return null;
  return local.nav;
}

function setHtml(element, key, html) {
  if (local.rendered[key] === html) return false;
  local.rendered[key] = html;
  element.innerHTML = html;
  return true;
}

// --- rendering ---

function renderSidebar() {
  const snapshot = local.snapshot;
  $('workspace-name').textContent = snapshot.team.name;
  const switcher = $('user-switcher');
  const options = snapshot.users
    .filter((user) => !user.is_bot)
    .map(
      (user) =>
        `<option value="${escapeHtml(user.id)}"${user.id === local.user ? ' selected' : ''}>${escapeHtml(user.real_name)} · ${escapeHtml(user.title)}${user.is_owner ? ' (owner)' : ''}</option>`,
    )
    .join('');
  setHtml(switcher, 'switcher', options);

  const items = snapshot.channels
    .filter((channel) => !channel.is_im)
    .map((channel) => {
      const messages = (snapshot.messages[channel.id] ?? []).filter(isTopLevel);
      const seen = local.seen[channel.id];
      const unread = channel.id === local.nav ? 0 : messages.filter((m) => seen === undefined || m.ts > seen).length;
      const badge = unread > 0 ? `<span class="unread">${unread}</span>` : '';
      const active = channel.id === local.nav ? ' active' : '';
      const icon = channel.is_private ? '🔒' : '#';
      return `<li><button type="button" class="nav-item${active}" data-nav="${escapeHtml(channel.id)}">${icon} ${escapeHtml(channel.name)}${badge}</button></li>`;
    })
    .join('');
  setHtml($('channel-list'), 'channels', items);
  for (const button of document.querySelectorAll('#app-list [data-nav]'))
    button.classList.toggle('active', button.dataset.nav === local.nav);
}

function renderMain() {
  const snapshot = local.snapshot;
  const ctx = renderContext();
  const onHome = local.nav === 'home';
  $('messages').hidden = onHome;
  $('home').hidden = !onHome;
  $('composer').hidden = onHome;

  if (onHome) {
    $('channel-title').textContent = 'Earshot · Home';
    $('channel-purpose').textContent =
      `Your App Home, as ${snapshot.users.find((u) => u.id === local.user)?.real_name}`;
    const home = snapshot.home;
    const html = home
      ? `<div data-view-id="${escapeHtml(home.id)}">${renderViewBody(home, ctx)}</div>`
      : '<div class="empty">Opening the App Home… (the app publishes it when it hears app_home_opened)</div>';
    setHtml($('home'), 'home', html);
    return;
  }

  const channelId = currentChannelId();
  const channel = snapshot.channels.find((candidate) => candidate.id === channelId);
  $('channel-title').textContent = local.nav === 'dm' ? 'Earshot · Messages' : `# ${channel?.name ?? ''}`;
  $('channel-purpose').textContent = local.nav === 'dm' ? 'Direct messages with the app' : (channel?.purpose ?? '');
  $('composer-input').placeholder =
    local.nav === 'dm' ? 'Message Earshot, or /earshot help' : `Message #${channel?.name ?? ''}, or /earshot help`;

  const messages = (snapshot.messages[channelId] ?? []).filter(isTopLevel).map((message) => ({ message }));
  const ephemerals = snapshot.ephemerals
    .filter((item) => item.channel === channelId && !item.thread_ts)
    .map((message) => ({ message, ephemeral: true }));
  const all = [...messages, ...ephemerals].sort((a, b) => Number(a.message.ts) - Number(b.message.ts));
  const latest = messages.at(-1)?.message.ts;
  if (latest) local.seen[channelId] = latest;

  const container = $('messages');
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const html = all.length
    ? all
        .map(({ message, ephemeral }) =>
          renderMessage(message, ctx, {
            ephemeral,
            channel: channelId,
            highlight: message.ts === local.highlightTs,
          }),
        )
        .join('')
    : `<div class="empty">No messages in this conversation yet. Try <code>/earshot help</code>.</div>`;
  if (setHtml(container, `messages:${channelId}`, html) && (atBottom || local.highlightTs)) {
    const target = local.highlightTs ? container.querySelector(`[data-ts="${CSS.escape(local.highlightTs)}"]`) : null;
    if (target) target.scrollIntoView({ block: 'center' });
    else container.scrollTop = container.scrollHeight;
  }
}

function renderThread() {
  const panel = $('thread-panel');
  if (!local.thread) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const { channel, ts } = local.thread;
  const ctx = renderContext();
  const all = local.snapshot.messages[channel] ?? [];
  const parent = all.find((message) => message.ts === ts);
  const replies = all
    .filter((message) => message.thread_ts === ts && message.ts !== ts)
    .map((message) => ({ message }));
  const ephemerals = local.snapshot.ephemerals
    .filter((item) => item.channel === channel && item.thread_ts === ts)
    .map((message) => ({ message, ephemeral: true }));
  const list = [...replies, ...ephemerals].sort((a, b) => Number(a.message.ts) - Number(b.message.ts));
  const head = parent
    ? renderMessage(parent, ctx, { channel, showThreadSummary: false })
    : '<div class="empty">This message is gone.</div>';
  const divider = `<div class="thread-divider">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>`;
  const body = list
    .map(({ message, ephemeral }) => renderMessage(message, ctx, { ephemeral, channel, showThreadSummary: false }))
    .join('');
  const container = $('thread-messages');
  if (setHtml(container, 'thread', head + divider + body)) container.scrollTop = container.scrollHeight;
}

/** What the person has typed or chosen in a modal or Home, as `{ block_id: { action_id: value } }`. */
function readValues(root) {
  const values = {};
  for (const element of root.querySelectorAll('[data-kind][data-action-id]')) {
    const kind = element.dataset.kind;
    if (kind === 'button' || kind === 'overflow') continue;
    values[element.dataset.blockId] ??= {};
    values[element.dataset.blockId][element.dataset.actionId] = readElementValue(element);
  }
  return values;
}

function readElementValue(element) {
  switch (element.dataset.kind) {
    case 'multiselect':
      return [...element.selectedOptions].map((option) => option.value);
    case 'checkboxes':
      return [...element.querySelectorAll('input:checked')].map((input) => input.value);
    case 'radio':
      return element.querySelector('input:checked')?.value ?? null;
    case 'select':
      return element.value || null;
    default:
      return element.value === '' ? null : element.value;
  }
}

function findInput(root, blockId, actionId) {
  return root.querySelector(
    `[data-kind][data-block-id="${CSS.escape(blockId)}"][data-action-id="${CSS.escape(actionId)}"]`,
  );
}

function restoreValue(element, value) {
  const list = Array.isArray(value) ? value.map(String) : value == null ? [] : [String(value)];
  switch (element.dataset.kind) {
    case 'multiselect':
      for (const option of element.options) option.selected = list.includes(option.value);
      break;
    case 'checkboxes':
    case 'radio':
      for (const input of element.querySelectorAll('input')) input.checked = list.includes(input.value);
      break;
    default:
      element.value = list[0] ?? '';
  }
}

function renderModal() {
  const modal = local.snapshot.modal;
  const backdrop = $('modal-backdrop');
  if (!modal) {
    backdrop.hidden = true;
    local.modalKey = null;
    return;
  }
  const key = `${modal.id}:${modal.hash}:${JSON.stringify(modal.errors)}`;
  backdrop.hidden = false;
  if (key === local.modalKey) return;
  const form = $('modal-body');
  // Slack keeps what the person typed across views.update when the block_id is unchanged.
  const sameView = local.modalKey?.startsWith(`${modal.id}:`);
  const typed = sameView ? readValues(form) : {};
  const focused = document.activeElement?.closest?.('#modal-body [data-kind]');
  const focus = focused
    ? {
        blockId: focused.dataset.blockId,
        actionId: focused.dataset.actionId,
        start: focused.selectionStart,
        end: focused.selectionEnd,
      }
    : null;
  local.modalKey = key;
  $('modal-title').innerHTML = plainToHtml(modal.title);
  form.dataset.viewId = modal.id;
  form.innerHTML = renderViewBody(modal, renderContext());
  for (const [blockId, actions] of Object.entries(typed)) {
    for (const [actionId, value] of Object.entries(actions)) {
      const element = findInput(form, blockId, actionId);
      if (element) restoreValue(element, value);
    }
  }
  if (focus) {
    const element = findInput(form, focus.blockId, focus.actionId);
    if (element) {
      element.focus();
      if (typeof focus.start === 'number' && element.setSelectionRange)
        element.setSelectionRange(focus.start, focus.end);
    }
  }
  $('modal-close').textContent = modal.close?.text ?? 'Cancel';
  $('modal-submit').hidden = !modal.submit;
  $('modal-submit').textContent = modal.submit?.text ?? 'Submit';
  $('modal-x').title = modal.depth > 1 ? 'Back' : 'Close';
}

function renderProblems() {
  for (const problem of local.snapshot.problems ?? []) {
    const key = `${problem.time}:${problem.kind}`;
    if (local.problemsShown.has(key)) continue;
    local.problemsShown.add(key);
    if (problem.error) toast(`${problem.kind}: ${problem.error}`, 'error');
  }
}

function render() {
  if (!local.snapshot) return;
  if (local.nav === null) local.nav = local.snapshot.channels.find((channel) => !channel.is_im)?.id ?? 'home';
  renderSidebar();
  renderMain();
  renderThread();
  renderModal();
  renderProblems();
}

// --- navigation ---

function navigate(nav) {
  local.nav = nav;
  local.highlightTs = null;
  if (local.thread && local.thread.channel !== currentChannelId()) local.thread = null;
  render();
  if (nav === 'home') post('/sandbox/api/home', {});
}

function switchUser(userId) {
  local.user = userId;
  localStorage.setItem(USER_KEY, userId);
  local.modalKey = null;
  local.rendered = {};
  refresh().then(() => {
    if (local.nav === 'home') post('/sandbox/api/home', {});
  });
}

// --- interactions ---

/** Where an element sits: a modal or Home (by view id) or a message (channel and ts). */
function targetOf(element) {
  const view = element.closest('[data-view-id]');
  if (view) return { target: { viewId: view.dataset.viewId }, root: view };
  const message = element.closest('.msg');
  if (message) return { target: { channel: message.dataset.channel, ts: message.dataset.ts }, root: null };
  return null;
}

async function sendAction(element, kind, value) {
  const where = targetOf(element);
  if (!where) return;
  const body = {
    target: where.target,
    kind,
    actionId: element.dataset.actionId,
    blockId: element.dataset.blockId,
    value,
    ...(where.root ? { values: readValues(where.root) } : {}),
  };
  const disable = kind === 'button' ? element : null;
  if (disable) disable.disabled = true;
  try {
    await post('/sandbox/api/action', body);
  } finally {
    if (disable) disable.disabled = false;
  }
}

/** In a modal, inputs inside input blocks dispatch only when the block asks (dispatch_action). */
function dispatches(element) {
  const inputBlock = element.closest('.bk-input-block');
  if (!inputBlock) return true;
  return inputBlock.dataset.dispatch === 'true';
}

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const nav = target.closest('[data-nav]');
  if (nav) return navigate(nav.dataset.nav);
  const thread = target.closest('[data-open-thread]');
  if (thread) {
    const channel = thread.closest('.msg')?.dataset.channel;
    local.thread = { channel, ts: thread.dataset.openThread };
    return render();
  }
  const dismiss = target.closest('[data-dismiss]');
  if (dismiss) return post('/sandbox/api/ephemeral/dismiss', { ts: dismiss.dataset.dismiss });
  const button = target.closest('[data-kind="button"]');
  if (button) {
    if (button.dataset.url) window.open(button.dataset.url, '_blank', 'noopener');
    return sendAction(button, 'button');
  }
  const item = target.closest('[data-kind="overflow"]');
  if (item) {
    item.closest('details')?.removeAttribute('open');
    return sendAction(item, 'overflow', item.dataset.value);
  }
  // Clicking elsewhere closes open overflow menus, as Slack's do.
  for (const open of document.querySelectorAll('details.bk-overflow[open]'))
    if (!open.contains(target)) open.removeAttribute('open');
});

document.addEventListener('change', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const element = target?.closest('[data-kind]');
  if (!element || element.dataset.kind === 'text' || element.dataset.kind === 'button') return;
  if (!dispatches(element)) return;
  sendAction(element, element.dataset.kind, readElementValue(element));
});

const typingTimers = new Map();
document.addEventListener('input', (event) => {
  const element = event.target instanceof Element ? event.target.closest('[data-kind="text"]') : null;
  if (!element || !dispatches(element)) return;
  if (!(element.dataset.dispatchOn ?? '').includes('on_character_entered')) return;
  const key = `${element.dataset.blockId}:${element.dataset.actionId}`;
  clearTimeout(typingTimers.get(key));
  typingTimers.set(
    key,
    setTimeout(() => sendAction(element, 'text', readElementValue(element)), 400),
  );
});

document.addEventListener('keydown', (event) => {
  const element = event.target instanceof Element ? event.target.closest('[data-kind="text"]') : null;
  if (!element || event.key !== 'Enter') return;
  const isTextarea = element.tagName === 'TEXTAREA';
  if (isTextarea && !(event.metaKey || event.ctrlKey)) return;
  event.preventDefault();
  if (dispatches(element) && (element.dataset.dispatchOn ?? 'on_enter_pressed').includes('on_enter_pressed'))
    sendAction(element, 'text', readElementValue(element));
});

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('composer-input');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  const result = await post('/sandbox/api/command', { channel: currentChannelId(), text });
  if (!result.ok) input.value = text;
});

$('thread-composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('thread-input');
  const text = input.value.trim();
  if (!text || !local.thread) return;
  input.value = '';
  await post('/sandbox/api/command', { channel: local.thread.channel, text, threadTs: local.thread.ts });
});

$('thread-close').addEventListener('click', () => {
  local.thread = null;
  render();
});

$('modal-submit').addEventListener('click', async () => {
  const form = $('modal-body');
  const button = $('modal-submit');
  button.disabled = true;
  try {
    await post('/sandbox/api/view/submit', { viewId: form.dataset.viewId, values: readValues(form) });
  } finally {
    button.disabled = false;
  }
});

for (const id of ['modal-close', 'modal-x'])
  $(id).addEventListener('click', () => post('/sandbox/api/view/close', { viewId: $('modal-body').dataset.viewId }));

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !$('modal-backdrop').hidden)
    post('/sandbox/api/view/close', { viewId: $('modal-body').dataset.viewId });
});

$('user-switcher').addEventListener('change', (event) => switchUser(event.target.value));

// --- start ---

async function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  // A first snapshot as anyone tells us who exists; then act as the remembered person or the lead.
  const wanted = hash.get('user') ?? localStorage.getItem(USER_KEY);
  const probe = await fetch(`/sandbox/api/state?user=${encodeURIComponent(wanted ?? '')}`);
  if (probe.ok) {
    local.user = wanted;
    local.snapshot = await probe.json();
  } else {
    const team = await fetch('/sandbox/api/people').then((response) => (response.ok ? response.json() : null));
    const people = team?.users ?? [];
    local.user = (people.find((user) => user.title === 'lead') ?? people.find((user) => !user.is_bot))?.id ?? null;
    await refresh();
  }
  if (hash.get('channel')) {
    local.nav = hash.get('channel');
    local.highlightTs = hash.get('ts');
    if (hash.get('thread_ts')) local.thread = { channel: local.nav, ts: hash.get('thread_ts') };
  }
  render();
  const events = new EventSource('/sandbox/api/events');
  events.onmessage = scheduleRefresh;
  events.onopen = scheduleRefresh;
}

start();
