import type { WebClient } from '@slack/web-api';

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** Whether a routing target is already a Slack channel id rather than a name. */
export function isChannelId(channel: string): boolean {
  return CHANNEL_ID.test(channel);
}

/**
 * Routing names channels (`earshot-feedback`); `chat.update` needs ids. Names are resolved with
 * `conversations.list` and cached; a name Slack does not list is passed through unchanged, since
 * `chat.postMessage` accepts names and returns the id, which the worker then stores.
 */
export class ChannelDirectory {
  private readonly ids = new Map<string, string>();
  private loadedAt = 0;

  constructor(
    private readonly client: WebClient,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  /** The id for a name if known without a call (ids map to themselves). */
  cached(channel: string): string {
    if (isChannelId(channel)) return channel;
    return this.ids.get(normalize(channel)) ?? normalize(channel);
  }

  remember(name: string, id: string): void {
    if (!isChannelId(name)) this.ids.set(normalize(name), id);
  }

  async resolve(channel: string, now = Date.now()): Promise<string> {
    if (isChannelId(channel)) return channel;
    const name = normalize(channel);
    const known = this.ids.get(name);
    if (known) return known;
    if (now - this.loadedAt > this.ttlMs) {
      this.loadedAt = now;
      await this.load().catch(() => {
        // Listing needs channels:read/groups:read; without it, names still work for posting.
      });
    }
    return this.ids.get(name) ?? name;
  }

  private async load(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const result = await this.client.conversations.list({
        types: 'public_channel,private_channel',
        exclude_archived: true,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      for (const channel of result.channels ?? []) {
        if (channel.name && channel.id) this.ids.set(channel.name, channel.id);
      }
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) return;
    }
  }
}

function normalize(channel: string): string {
  return channel.replace(/^#/, '').toLowerCase();
}
