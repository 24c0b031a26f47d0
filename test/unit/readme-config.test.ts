import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../../src/config.js';
import { SUBCOMMANDS } from '../../src/slack/commands/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

describe('documented configuration', () => {
  it('lists every setting of config.ts in the README table, and nothing else', () => {
    const section = readme.split('## Configuration')[1]?.split('\n## ')[0] ?? '';
    const documented = new Set(
      [...section.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((n) => n[1]!)),
    );
    expect([...documented].sort()).toEqual([...configKeys].sort());
  });

  it('mentions every setting in .env.example', () => {
    for (const key of configKeys) expect(envExample, key).toContain(key);
  });

  it('lists every /earshot subcommand in the README command table, and nothing else', () => {
    const section = readme.split('## Working tickets in Slack')[1]?.split('\n## ')[0] ?? '';
    const table = section.slice(section.indexOf('| Command |'));
    const documented = [...table.matchAll(/^\| `([a-z]+)[ `]/gm)].map((m) => m[1]!);
    expect(documented.sort()).toEqual(SUBCOMMANDS.map((s) => s.name).sort());
  });
});
