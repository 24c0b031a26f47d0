import { AppError } from '../errors.js';

const TAG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * Normalises tags typed by people ("Refund ", "#Checkout") to the stored form (`refund`, `checkout`),
 * refusing anything that is not a short word, so a tag can never carry markup into a card.
 */
export function normalizeTags(raw: readonly string[]): string[] {
  const tags = new Set<string>();
  for (const value of raw) {
    const tag = value.trim().replace(/^#/, '').toLowerCase().replace(/\s+/g, '-');
    if (!tag) continue;
    if (!TAG_PATTERN.test(tag)) {
      throw new AppError(
        'invalid_input',
        `"${tag.slice(0, 40)}" is not a valid tag: use letters, digits, - and _, at most 40 characters.`,
        { details: { field: 'tags' } },
      );
    }
    tags.add(tag);
  }
  return [...tags];
}
