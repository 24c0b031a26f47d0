/**
 * Customer text is data. Slack's mrkdwn treats `<…>` as control sequences (`<!channel>`, `<@U…>`,
 * `<!subteam^…>`, masked links `<https://evil|bank.com>`), so all untrusted text goes through here:
 * truncate first (never cut an escape in half), then escape `&`, `<`, `>` — and nothing else.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts to at most `max` characters (by code point, so emoji stay whole), marking the cut with `…`. */
export function truncate(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Truncated, then escaped, for a mrkdwn field whose escaped length must stay under `max`. */
export function safeMrkdwn(text: string, max: number): string {
  // Escaping can grow the text up to five times (`&` → `&amp;`); shrink until it fits.
  let limit = max;
  for (;;) {
    const escaped = escapeMrkdwn(truncate(text, limit));
    if (escaped.length <= max || limit <= 1) return escaped;
    limit = Math.floor(limit * (max / escaped.length)) - 1;
  }
}
