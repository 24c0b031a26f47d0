import { describe, expect, it } from 'vitest';
import { planReply, replyRulesFor } from '../../src/replies/channel-rules.js';
import { splitReply, weighCharacters, weighX } from '../../src/replies/split.js';

describe('weighX', () => {
  it('counts Latin text one per character', () => {
    expect(weighX('Hello, world!')).toBe(13);
  });

  it('counts every URL as 23 whatever its length, keeping surrounding punctuation', () => {
    expect(weighX('https://example.com/a/very/long/path?with=query&and=more')).toBe(23);
    expect(weighX('see https://t.co/x')).toBe(4 + 23);
    expect(weighX('(https://example.com).')).toBe(1 + 23 + 2);
    expect(weighX('www.example.com')).toBe(23);
    expect(weighX('go to example.com/help now')).toBe(6 + 23 + 4);
  });

  it('counts CJK characters and emoji as 2', () => {
    expect(weighX('日本語')).toBe(6);
    expect(weighX('😀')).toBe(2);
    expect(weighX('👍🏽')).toBe(2); // emoji with a skin tone modifier
    expect(weighX('👨‍👩‍👧')).toBe(2); // ZWJ family sequence
    expect(weighX('🇫🇷')).toBe(2);
  });

  it('normalizes to NFC before counting', () => {
    expect(weighX('e\u0301')).toBe(1);
  });
});

describe('splitReply', () => {
  const x = { limit: 280, weigh: weighX };

  it('returns a reply that fits whole and trimmed, and nothing for blank text', () => {
    expect(splitReply('  Thanks, we are on it.  ', x)).toEqual(['Thanks, we are on it.']);
    expect(splitReply('   ', x)).toEqual([]);
  });

  it('keeps a 280-weight reply in one post even when it is longer in characters, thanks to URLs', () => {
    const text = `${'a'.repeat(250)} https://example.com/${'p'.repeat(200)}`;
    expect(text.length).toBeGreaterThan(280);
    expect(splitReply(text, x)).toEqual([text]);
  });

  it('splits long replies at word boundaries with numbering, each post within the limit', () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`);
    const text = words.join(' ');
    const posts = splitReply(text, x);
    expect(posts.length).toBeGreaterThan(1);
    posts.forEach((post, i) => {
      expect(weighX(post)).toBeLessThanOrEqual(280);
      expect(post.endsWith(` (${i + 1}/${posts.length})`)).toBe(true);
    });
    // Nothing lost, nothing cut: the posts without numbering rebuild the words in order.
    const rebuilt = posts.map((post) => post.replace(/ \(\d+\/\d+\)$/, '')).join(' ');
    expect(rebuilt.split(' ')).toEqual(words);
  });

  it('counts weighted characters when splitting CJK and emoji text', () => {
    const text = Array.from({ length: 60 }, () => '日本語のテキスト😀').join(' ');
    const posts = splitReply(text, x);
    for (const post of posts) expect(weighX(post)).toBeLessThanOrEqual(280);
    expect(posts.map((p) => p.replace(/ \(\d+\/\d+\)$/, '')).join(' ')).toBe(text);
  });

  it('breaks a single word only when it is longer than a post', () => {
    const long = 'x'.repeat(600);
    const posts = splitReply(`start ${long} end`, x);
    for (const post of posts) expect(weighX(post)).toBeLessThanOrEqual(280);
    const joined = posts.map((p) => p.replace(/ \(\d+\/\d+\)$/, '')).join('');
    expect(joined.replace(/\s/g, '')).toBe(`start${long}end`);
    expect(posts[0]).toMatch(/^start \(1\//);
  });

  it('never cuts a URL: it weighs 23 and moves whole to the next post', () => {
    const url = `https://example.com/${'z'.repeat(300)}`;
    const text = `${'b'.repeat(265)} ${url}`;
    const posts = splitReply(text, x);
    expect(posts).toHaveLength(2);
    expect(posts[1]).toBe(`${url} (2/2)`);
  });

  it('ends a well-filled post at a sentence rather than mid-sentence', () => {
    const first = `${'Sentence one is here and it is long enough. '.repeat(4).trim()}`;
    const text = `${first} ${'then another sentence that runs on and on '.repeat(6).trim()}.`;
    const posts = splitReply(text, x);
    expect(posts[0]).toBe(`${first} (1/${posts.length})`);
  });

  it('widens the numbering when a reply needs ten or more posts', () => {
    const text = Array.from({ length: 800 }, (_, i) => `w${i}`).join(' ');
    const posts = splitReply(text, { limit: 60, weigh: weighCharacters });
    expect(posts.length).toBeGreaterThanOrEqual(10);
    for (const post of posts) expect(weighCharacters(post)).toBeLessThanOrEqual(60);
    expect(posts.at(-1)).toMatch(new RegExp(` \\(${posts.length}/${posts.length}\\)$`));
  });

  it('keeps line breaks inside a post', () => {
    const text = `Hi Dana,\n\nthanks for writing. ${'more words '.repeat(40).trim()}`;
    const posts = splitReply(text, x);
    expect(posts[0]?.startsWith('Hi Dana,\n\nthanks')).toBe(true);
  });
});

describe('planReply', () => {
  it('threads long replies on X and refuses them on a webhook channel that does not thread', () => {
    const long = 'word '.repeat(100);
    const onX = planReply(long, replyRulesFor({ kind: 'x', settings: {} }));
    expect(onX.problem).toBeNull();
    expect(onX.parts.length).toBeGreaterThan(1);
    const hook = replyRulesFor({ kind: 'webhook', settings: { replyMaxLength: 100 } });
    expect(planReply(long, hook).problem).toBe('too_long');
    expect(planReply('ok', hook)).toMatchObject({ problem: null, parts: ['ok'] });
    expect(planReply('  ', hook).problem).toBe('empty');
  });

  it('uses a default webhook limit when the source sets none', () => {
    const rules = replyRulesFor({ kind: 'webhook', settings: {} });
    expect(rules).toMatchObject({ limit: 5000, threads: false });
  });
});
