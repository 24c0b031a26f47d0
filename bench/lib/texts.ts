/** Customer-support-like texts, composed from parts by a seeded generator (written for Earshot's benchmarks). */
const OPENERS = ['@acme', 'Hey @acme', 'Dear Acme support,', '@AcmeHelp', 'Honestly @acme'];
const BODIES = [
  'my order #{n} never arrived and nobody answers',
  'the app crashes every time I open checkout',
  'how do I change the email on my account?',
  'I was charged twice for the same subscription, I want a refund',
  'love the new dashboard, great work team',
  'it would be great if you added dark mode',
  'your site has been down for an hour, is there an outage?',
  'still waiting for my refund after {n} days',
  'I am cancelling my plan if this is not fixed today',
  'the parcel tracking page shows an error',
];
const CLOSERS = ['', ' 😡', ' 🙏', ' thanks!', ' #fail', ' #checkout', ' please help', '!!!'];

export function sampleText(random: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  return `${pick(OPENERS)} ${pick(BODIES).replace('{n}', String(1000 + Math.floor(random() * 9000)))}${pick(CLOSERS)}`;
}
