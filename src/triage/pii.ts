import type { PiiSpan } from './types.js';

const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/gi;
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
const ORDER_LABELLED =
  /\b(?:order|ord|booking|reference|ref|pedido|commande|bestellung|ordine|encomenda)\s*(?:#|no\.?|number|num|nr\.?|n°|id|:)?\s*:?\s*#?([A-Z0-9][A-Z0-9-]{3,})\b/gi;
const ORDER_HASH = /#[A-Z]{0,3}-?\d{4,}\b/g;
const PHONE = /(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){2,4}/g;

/** Finds emails, card numbers (Luhn-checked), order numbers and phone numbers; spans never overlap. */
export function findPii(text: string): PiiSpan[] {
  const spans: PiiSpan[] = [];
  const free = (start: number, end: number) => spans.every((s) => end <= s.start || start >= s.end);
  const push = (kind: PiiSpan['kind'], start: number, end: number) => {
    if (free(start, end)) spans.push({ kind, start, end });
  };
  for (const m of text.matchAll(EMAIL)) push('email', m.index, m.index + m[0].length);
  for (const m of text.matchAll(CARD)) {
    const digits = m[0].replace(/\D/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) push('card', m.index, m.index + m[0].length);
  }
  for (const m of text.matchAll(ORDER_LABELLED)) {
    const id = m[1]!;
    if (!/\d/.test(id)) continue;
    const start = m.index + m[0].lastIndexOf(id);
    push('order', start, start + id.length);
  }
  for (const m of text.matchAll(ORDER_HASH)) push('order', m.index, m.index + m[0].length);
  for (const m of text.matchAll(PHONE)) {
    const digits = m[0].replace(/\D/g, '');
    if (digits.length >= 9 && digits.length <= 15) push('phone', m.index, m.index + m[0].length);
  }
  return spans.sort((a, b) => a.start - b.start);
}

/**
 * The text with personal data masked for the Slack card: emails keep their first letter and domain,
 * the rest keep their last four characters, which is what agents match on.
 */
export function maskPii(text: string, spans: readonly PiiSpan[] = findPii(text)): string {
  let out = '';
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    out += text.slice(at, span.start) + maskValue(span.kind, text.slice(span.start, span.end));
    at = span.end;
  }
  return out + text.slice(at);
}

function maskValue(kind: PiiSpan['kind'], value: string): string {
  if (kind === 'email') {
    const at = value.indexOf('@');
    return `${value[0]}•••${value.slice(at)}`;
  }
  const compact = value.replace(/[\s.-]/g, '');
  const label = kind === 'card' ? 'card' : kind === 'phone' ? 'phone' : 'order';
  return `[${label} ••${compact.slice(-4)}]`;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
