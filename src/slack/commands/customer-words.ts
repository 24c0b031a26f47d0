/**
 * Slash commands arrive with Slack's escaping on (the manifest's `should_escape`): `@dana` becomes
 * `<@U123|dana>` when the name matches a workspace member, and an e-mail address becomes
 * `<mailto:jo@example.com|jo@example.com>`. Where the words name a customer (a handle to find or to
 * list as a VIP), what the user typed is what they meant, so the label and the address win.
 */
export function unescapeCustomerWords(args: string): string {
  return args
    .replace(/<@[UW][A-Z0-9]+\|([^>]+)>/g, '@$1')
    .replace(/<mailto:([^|>]+)(?:\|[^>]*)?>/g, '$1')
    .trim();
}
