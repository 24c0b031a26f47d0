import { randomBytes } from 'node:crypto';
import type { Json } from './types.js';

/** What a test or the page types into a modal input: text, a value, a list of values, or nothing. */
export type InputValue = string | readonly string[] | null;

/** Friendly modal values: `{ [block_id]: value }` or `{ [block_id]: { [action_id]: value } }`. */
export type FriendlyValues = Record<string, InputValue | Record<string, InputValue>>;

type StateValues = Record<string, Record<string, Json>>;

const NOT_STATEFUL = new Set(['button', 'overflow', 'image', 'workflow_button']);

function shortId(): string {
  return randomBytes(4).toString('base64url').slice(0, 5);
}

/**
 * Slack gives every block a `block_id` and every interactive element an `action_id` when the app
 * leaves them out; payloads and state refer to blocks by those ids, so the sandbox does the same.
 */
export function assignIds(blocks: readonly Json[]): Json[] {
  return blocks.map((block) => {
    const out: Json = { ...block, block_id: typeof block.block_id === 'string' ? block.block_id : shortId() };
    const withActionId = (element: unknown): unknown => {
      if (!element || typeof element !== 'object') return element;
      const el = element as Json;
      if (el.type === 'image' || typeof el.action_id === 'string') return el;
      if (!['actions', 'section', 'input'].includes(String(block.type))) return el;
      return { ...el, action_id: shortId() };
    };
    if (block.type === 'actions' && Array.isArray(block.elements)) out.elements = block.elements.map(withActionId);
    if (block.type === 'section' && block.accessory) out.accessory = withActionId(block.accessory);
    if (block.type === 'input' && block.element) out.element = withActionId(block.element);
    return out;
  });
}

/** Every element in the blocks with the block it sits in, in order: actions elements, accessories, inputs. */
export function listElements(blocks: readonly Json[]): { block: Json; element: Json }[] {
  const found: { block: Json; element: Json }[] = [];
  for (const block of blocks) {
    if (block.type === 'actions' && Array.isArray(block.elements))
      for (const element of block.elements) found.push({ block, element: element as Json });
    if (block.type === 'section' && block.accessory) found.push({ block, element: block.accessory as Json });
    if (block.type === 'input' && block.element) found.push({ block, element: block.element as Json });
  }
  return found;
}

function allOptions(element: Json): Json[] {
  const options = Array.isArray(element.options) ? (element.options as Json[]) : [];
  const groups = Array.isArray(element.option_groups) ? (element.option_groups as Json[]) : [];
  return [...options, ...groups.flatMap((group) => (Array.isArray(group.options) ? (group.options as Json[]) : []))];
}

/** Finds an element's option by its value; an unknown value is a bug in the caller, so it throws. */
export function findOption(element: Json, value: string): Json {
  const option = allOptions(element).find((candidate) => candidate.value === value);
  if (!option) {
    const known = allOptions(element)
      .map((candidate) => String(candidate.value))
      .join(', ');
    throw new Error(`No option with value "${value}" in ${String(element.action_id)} (options: ${known})`);
  }
  return option;
}

function asList(value: InputValue): string[] {
  if (value === null) return [];
  return typeof value === 'string' ? [value] : [...value];
}

function single(value: InputValue): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value : (value[0] ?? null);
}

/** The state entry Slack reports for an element holding `value`. */
export function stateEntry(element: Json, value: InputValue): Json {
  const type = String(element.type);
  switch (type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons': {
      const chosen = single(value);
      return { type, selected_option: chosen === null ? null : findOption(element, chosen) };
    }
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return { type, selected_options: asList(value).map((item) => findOption(element, item)) };
    case 'users_select':
      return { type, selected_user: single(value) };
    case 'multi_users_select':
      return { type, selected_users: asList(value) };
    case 'conversations_select':
      return { type, selected_conversation: single(value) };
    case 'multi_conversations_select':
      return { type, selected_conversations: asList(value) };
    case 'channels_select':
      return { type, selected_channel: single(value) };
    case 'multi_channels_select':
      return { type, selected_channels: asList(value) };
    case 'datepicker':
      return { type, selected_date: single(value) };
    case 'timepicker':
      return { type, selected_time: single(value) };
    case 'datetimepicker': {
      const chosen = single(value);
      return { type, selected_date_time: chosen === null ? null : Number(chosen) };
    }
    default: {
      const text = single(value);
      return { type, value: text === null || text === '' ? null : text };
    }
  }
}

/** The value an element starts with (`initial_value`, `initial_option`, …), in friendly form. */
export function initialValue(element: Json): InputValue {
  if (typeof element.initial_value === 'string') return element.initial_value;
  const option = element.initial_option as Json | undefined;
  if (option) return String(option.value);
  const options = element.initial_options as Json[] | undefined;
  if (options) return options.map((item) => String(item.value));
  for (const key of ['initial_user', 'initial_conversation', 'initial_channel', 'initial_date', 'initial_time']) {
    if (typeof element[key] === 'string') return element[key] as string;
  }
  if (typeof element.initial_date_time === 'number') return String(element.initial_date_time);
  for (const key of ['initial_users', 'initial_conversations', 'initial_channels']) {
    if (Array.isArray(element[key])) return element[key] as string[];
  }
  return null;
}

/** Reads a state entry back into friendly form (what the page shows in the input). */
export function friendlyValue(entry: Json | undefined): InputValue {
  if (!entry) return null;
  if ('value' in entry) return (entry.value as string | null) ?? null;
  if ('selected_option' in entry) return ((entry.selected_option as Json | null)?.value as string) ?? null;
  if ('selected_options' in entry) return ((entry.selected_options as Json[]) ?? []).map((o) => String(o.value));
  for (const key of ['selected_user', 'selected_conversation', 'selected_channel', 'selected_date', 'selected_time']) {
    if (key in entry) return (entry[key] as string | null) ?? null;
  }
  if ('selected_date_time' in entry) return entry.selected_date_time == null ? null : String(entry.selected_date_time);
  for (const key of ['selected_users', 'selected_conversations', 'selected_channels']) {
    if (key in entry) return (entry[key] as string[]) ?? [];
  }
  return null;
}

/**
 * The state of a view's stateful elements after a `views.open/update/push`: what the user had
 * already entered survives where the block_id and action_id are unchanged (as in Slack); new
 * inputs start from their initial values.
 */
export function carryState(blocks: readonly Json[], previous: StateValues = {}): StateValues {
  const values: StateValues = {};
  for (const { block, element } of listElements(blocks)) {
    if (NOT_STATEFUL.has(String(element.type))) continue;
    const blockId = String(block.block_id);
    const actionId = String(element.action_id);
    const kept = previous[blockId]?.[actionId];
    let entry: Json;
    try {
      entry = kept && kept.type === element.type ? kept : stateEntry(element, initialValue(element));
    } catch {
      entry = stateEntry(element, null);
    }
    values[blockId] = { ...(values[blockId] ?? {}), [actionId]: entry };
  }
  return values;
}

/** Applies friendly values onto a view's state, by block_id (and action_id when a block holds several). */
export function applyValues(blocks: readonly Json[], state: StateValues, input: FriendlyValues): StateValues {
  const next: StateValues = structuredClone(state);
  const elements = listElements(blocks);
  for (const [blockId, given] of Object.entries(input)) {
    const inBlock = elements.filter(({ block }) => block.block_id === blockId);
    if (inBlock.length === 0) {
      const known = [...new Set(elements.map(({ block }) => String(block.block_id)))].join(', ');
      throw new Error(`No block "${blockId}" with an input in this view (blocks: ${known})`);
    }
    const perAction: Record<string, InputValue> =
      given !== null && typeof given === 'object' && !Array.isArray(given)
        ? (given as Record<string, InputValue>)
        : { [String(inBlock[0]!.element.action_id)]: given as InputValue };
    for (const [actionId, value] of Object.entries(perAction)) {
      const match = inBlock.find(({ element }) => element.action_id === actionId);
      if (!match) throw new Error(`No element "${actionId}" in block "${blockId}"`);
      next[blockId] = { ...(next[blockId] ?? {}), [actionId]: stateEntry(match.element, value) };
    }
  }
  return next;
}
