import type { Json } from './types.js';

/**
 * The Block Kit rules Slack enforces when it receives blocks, as numbers. Slack refuses the whole
 * message (`invalid_blocks`) or view (`invalid_arguments`) when one is broken, so the sandbox does too.
 */
export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  header: 150,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  id: 255,
  actionsElements: 25,
  contextElements: 10,
  overflowOptions: 5,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  label: 2000,
  placeholder: 150,
  altText: 2000,
  messageText: 40_000,
  /**
   * Characters of text across a message's blocks: past this Slack answers `msg_blocks_too_long`.
   * Slack does not document the number; about 13k is where it has been seen.
   */
  messageBlocksText: 13_000,
  viewTitle: 24,
  privateMetadata: 3000,
} as const;

const KNOWN_BLOCKS = new Set([
  'section',
  'header',
  'divider',
  'context',
  'actions',
  'image',
  'input',
  'rich_text',
  'file',
  'video',
  'markdown',
  'context_actions',
  'table',
]);

const INTERACTIVE = new Set([
  'button',
  'overflow',
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
  'checkboxes',
  'radio_buttons',
  'datepicker',
  'timepicker',
  'datetimepicker',
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
  'file_input',
  'image',
  'workflow_button',
]);

type Surface = 'message' | 'modal' | 'home';

class Checker {
  readonly problems: string[] = [];

  fail(path: string, message: string): void {
    this.problems.push(`[ERROR] ${message} [json-pointer:${path}]`);
  }

  text(value: unknown, path: string, max: number, options: { plainOnly?: boolean; required?: boolean } = {}): void {
    if (value === undefined || value === null) {
      if (options.required !== false) this.fail(path, 'missing required field: text');
      return;
    }
    if (typeof value !== 'object') {
      this.fail(path, 'must be a text object');
      return;
    }
    const text = value as Json;
    if (text.type !== 'plain_text' && text.type !== 'mrkdwn') {
      this.fail(`${path}/type`, 'must be a valid enum value');
      return;
    }
    if (options.plainOnly && text.type !== 'plain_text') {
      this.fail(`${path}/type`, 'must be plain_text');
      return;
    }
    if (typeof text.text !== 'string') {
      this.fail(`${path}/text`, 'must be a string');
      return;
    }
    if (text.text.length === 0) {
      this.fail(`${path}/text`, 'must be more than 0 characters');
      return;
    }
    if (text.text.length > max) this.fail(`${path}/text`, `must be less than ${max + 1} characters`);
  }

  id(value: unknown, path: string): void {
    if (value === undefined) return;
    if (typeof value !== 'string' || value.length === 0) {
      this.fail(path, 'must be a non-empty string');
      return;
    }
    if (value.length > BLOCK_KIT_LIMITS.id) this.fail(path, `must be less than ${BLOCK_KIT_LIMITS.id + 1} characters`);
  }

  option(value: unknown, path: string): void {
    const option = (value ?? {}) as Json;
    this.text(option.text, `${path}/text`, BLOCK_KIT_LIMITS.optionText);
    if (typeof option.value === 'string' && option.value.length > BLOCK_KIT_LIMITS.optionValue)
      this.fail(`${path}/value`, `must be less than ${BLOCK_KIT_LIMITS.optionValue + 1} characters`);
  }

  options(value: unknown, path: string, max: number, min = 1): void {
    if (value === undefined) return;
    if (!Array.isArray(value)) {
      this.fail(path, 'must be an array');
      return;
    }
    if (value.length < min) this.fail(path, `must provide at least ${min} items`);
    if (value.length > max) this.fail(path, `must provide no more than ${max} items`);
    value.forEach((option, index) => {
      this.option(option, `${path}/${index}`);
    });
  }

  element(value: unknown, path: string, seenActionIds: Set<string>): void {
    if (!value || typeof value !== 'object') {
      this.fail(path, 'must be an object');
      return;
    }
    const element = value as Json;
    const type = element.type;
    if (typeof type !== 'string' || !INTERACTIVE.has(type)) {
      this.fail(`${path}/type`, 'must be a valid enum value');
      return;
    }
    this.id(element.action_id, `${path}/action_id`);
    if (typeof element.action_id === 'string') {
      if (seenActionIds.has(element.action_id)) this.fail(`${path}/action_id`, 'duplicate action_id');
      seenActionIds.add(element.action_id);
    }
    if (element.placeholder !== undefined)
      this.text(element.placeholder, `${path}/placeholder`, BLOCK_KIT_LIMITS.placeholder, { plainOnly: true });
    switch (type) {
      case 'button':
        this.text(element.text, `${path}/text`, BLOCK_KIT_LIMITS.buttonText, { plainOnly: true });
        if (typeof element.value === 'string' && element.value.length > BLOCK_KIT_LIMITS.buttonValue)
          this.fail(`${path}/value`, `must be less than ${BLOCK_KIT_LIMITS.buttonValue + 1} characters`);
        if (typeof element.url === 'string' && element.url.length > BLOCK_KIT_LIMITS.url)
          this.fail(`${path}/url`, `must be less than ${BLOCK_KIT_LIMITS.url + 1} characters`);
        if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger')
          this.fail(`${path}/style`, 'must be a valid enum value');
        break;
      case 'overflow':
        if (element.options === undefined) this.fail(`${path}/options`, 'missing required field: options');
        this.options(element.options, `${path}/options`, BLOCK_KIT_LIMITS.overflowOptions);
        break;
      case 'static_select':
      case 'multi_static_select':
        if (element.options === undefined && element.option_groups === undefined)
          this.fail(`${path}/options`, 'missing required field: options');
        this.options(element.options, `${path}/options`, BLOCK_KIT_LIMITS.selectOptions);
        break;
      case 'checkboxes':
      case 'radio_buttons':
        if (element.options === undefined) this.fail(`${path}/options`, 'missing required field: options');
        this.options(element.options, `${path}/options`, 10);
        break;
      case 'image':
        if (typeof element.alt_text !== 'string') this.fail(`${path}/alt_text`, 'missing required field: alt_text');
        break;
    }
  }

  block(value: unknown, path: string, seenBlockIds: Set<string>): void {
    if (!value || typeof value !== 'object') {
      this.fail(path, 'must be an object');
      return;
    }
    const block = value as Json;
    const type = block.type;
    if (typeof type !== 'string' || !KNOWN_BLOCKS.has(type)) {
      this.fail(`${path}/type`, 'must be a valid enum value');
      return;
    }
    this.id(block.block_id, `${path}/block_id`);
    if (typeof block.block_id === 'string') {
      if (seenBlockIds.has(block.block_id)) this.fail(`${path}/block_id`, 'duplicate block_id');
      seenBlockIds.add(block.block_id);
    }
    const actionIds = new Set<string>();
    switch (type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined)
          this.fail(path, 'must provide either text or fields');
        if (block.text !== undefined) this.text(block.text, `${path}/text`, BLOCK_KIT_LIMITS.sectionText);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) this.fail(`${path}/fields`, 'must be an array');
          else {
            if (block.fields.length > BLOCK_KIT_LIMITS.fields)
              this.fail(`${path}/fields`, `must provide no more than ${BLOCK_KIT_LIMITS.fields} items`);
            block.fields.forEach((field, index) => {
              this.text(field, `${path}/fields/${index}`, BLOCK_KIT_LIMITS.fieldText);
            });
          }
        }
        if (block.accessory !== undefined) this.element(block.accessory, `${path}/accessory`, actionIds);
        break;
      }
      case 'header':
        this.text(block.text, `${path}/text`, BLOCK_KIT_LIMITS.header, { plainOnly: true });
        break;
      case 'context': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) {
          this.fail(`${path}/elements`, 'must provide at least 1 items');
          return;
        }
        if (elements.length > BLOCK_KIT_LIMITS.contextElements)
          this.fail(`${path}/elements`, `must provide no more than ${BLOCK_KIT_LIMITS.contextElements} items`);
        elements.forEach((element, index) => {
          const item = (element ?? {}) as Json;
          if (item.type === 'image') {
            if (typeof item.alt_text !== 'string')
              this.fail(`${path}/elements/${index}/alt_text`, 'missing required field');
          } else this.text(item, `${path}/elements/${index}`, BLOCK_KIT_LIMITS.sectionText);
        });
        break;
      }
      case 'actions': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) {
          this.fail(`${path}/elements`, 'must provide at least 1 items');
          return;
        }
        if (elements.length > BLOCK_KIT_LIMITS.actionsElements)
          this.fail(`${path}/elements`, `must provide no more than ${BLOCK_KIT_LIMITS.actionsElements} items`);
        elements.forEach((element, index) => {
          this.element(element, `${path}/elements/${index}`, actionIds);
        });
        break;
      }
      case 'image':
        if (typeof block.image_url !== 'string' && block.slack_file === undefined)
          this.fail(`${path}/image_url`, 'missing required field: image_url');
        if (typeof block.alt_text !== 'string') this.fail(`${path}/alt_text`, 'missing required field: alt_text');
        else if (block.alt_text.length > BLOCK_KIT_LIMITS.altText)
          this.fail(`${path}/alt_text`, `must be less than ${BLOCK_KIT_LIMITS.altText + 1} characters`);
        if (block.title !== undefined) this.text(block.title, `${path}/title`, 2000, { plainOnly: true });
        break;
      case 'input':
        this.text(block.label, `${path}/label`, BLOCK_KIT_LIMITS.label, { plainOnly: true });
        if (block.hint !== undefined)
          this.text(block.hint, `${path}/hint`, BLOCK_KIT_LIMITS.label, { plainOnly: true });
        if (block.element === undefined) this.fail(`${path}/element`, 'missing required field: element');
        else this.element(block.element, `${path}/element`, actionIds);
        break;
      case 'rich_text':
        if (!Array.isArray(block.elements)) this.fail(`${path}/elements`, 'must be an array');
        break;
    }
  }
}

/**
 * Checks blocks the way Slack does on receipt. Returns Slack-style problem lines
 * (`[ERROR] … [json-pointer:/blocks/3/text/text]`); an empty list means Slack would accept them.
 */
export function checkBlocks(blocks: unknown, surface: Surface, pointer = '/blocks'): string[] {
  const checker = new Checker();
  if (!Array.isArray(blocks)) {
    checker.fail(pointer, 'must be an array');
    return checker.problems;
  }
  const max = surface === 'message' ? BLOCK_KIT_LIMITS.messageBlocks : BLOCK_KIT_LIMITS.viewBlocks;
  if (blocks.length > max) checker.fail(pointer, `must provide no more than ${max} items`);
  const seen = new Set<string>();
  blocks.forEach((block, index) => {
    checker.block(block, `${pointer}/${index}`, seen);
  });
  return checker.problems;
}

/** The characters of every text object (`mrkdwn`, `plain_text`) in a list of blocks, summed. */
export function blocksTextLength(blocks: unknown): number {
  let total = 0;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const object = value as Json;
    if ((object.type === 'mrkdwn' || object.type === 'plain_text') && typeof object.text === 'string')
      total += object.text.length;
    for (const child of Object.values(object)) if (child && typeof child === 'object') walk(child);
  };
  walk(blocks);
  return total;
}

/** Checks a modal or Home view the way views.open/update/push/publish do (problems answer `invalid_arguments`). */
export function checkView(view: unknown): string[] {
  const checker = new Checker();
  if (!view || typeof view !== 'object') {
    checker.fail('/view', 'must be an object');
    return checker.problems;
  }
  const v = view as Json;
  if (v.type !== 'modal' && v.type !== 'home') {
    checker.fail('/view/type', 'must be a valid enum value');
    return checker.problems;
  }
  if (v.type === 'modal') {
    checker.text(v.title, '/view/title', BLOCK_KIT_LIMITS.viewTitle, { plainOnly: true });
    if (v.submit !== undefined) checker.text(v.submit, '/view/submit', BLOCK_KIT_LIMITS.viewTitle, { plainOnly: true });
    if (v.close !== undefined) checker.text(v.close, '/view/close', BLOCK_KIT_LIMITS.viewTitle, { plainOnly: true });
    const hasInput = Array.isArray(v.blocks) && v.blocks.some((block) => (block as Json)?.type === 'input');
    if (hasInput && v.submit === undefined)
      checker.fail('/view/submit', 'must provide submit when the view has input blocks');
  }
  if (typeof v.private_metadata === 'string' && v.private_metadata.length > BLOCK_KIT_LIMITS.privateMetadata)
    checker.fail('/view/private_metadata', `must be less than ${BLOCK_KIT_LIMITS.privateMetadata + 1} characters`);
  checker.id(v.callback_id, '/view/callback_id');
  checker.problems.push(...checkBlocks(v.blocks ?? [], v.type === 'modal' ? 'modal' : 'home', '/view/blocks'));
  return checker.problems;
}
