import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one request to POST /v1/chat/completions. */
export type FakeReply =
  /** A normal completion whose message content is this object as JSON (structured output). */
  | { kind: 'json'; content: unknown }
  /** A completion whose content is not JSON at all. */
  | { kind: 'malformed'; content?: string }
  /** The model declines: `message.refusal` set, content null. */
  | { kind: 'refusal'; refusal?: string }
  /** An HTTP error such as 429 or 500, with OpenAI's error body and optional headers. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; message?: string }
  /** Never answers, so the client's timeout fires. */
  | { kind: 'hang' };

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: unknown } };
  };
}

export interface FakeOpenAi {
  /** Base URL for the OpenAI client: `http://127.0.0.1:PORT/v1`. */
  url: string;
  requests: RecordedRequest[];
  /** Queues replies, used in order; when the queue is empty `fallback` answers. */
  enqueue(...replies: FakeReply[]): void;
  /** The reply given when nothing is queued (a 500 unless set). */
  fallback: FakeReply;
  close(): Promise<void>;
}

/**
 * A local server speaking the Chat Completions API closely enough for the real `openai` client:
 * the same paths, bodies, error shape and retry headers, on 127.0.0.1 only.
 */
export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const hanging = new Set<IncomingMessage>();
  const fake: FakeOpenAi = {
    url: '',
    requests,
    enqueue: (...replies) => queue.push(...replies),
    fallback: { kind: 'status', status: 500, message: 'no reply queued' },
    close: async () => {
      for (const req of hanging) req.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }),
      );
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
    requests.push({ path: req.url, authorization: req.headers.authorization, body });
    const reply = queue.shift() ?? fake.fallback;

    if (reply.kind === 'hang') {
      hanging.add(req);
      return;
    }
    if (reply.kind === 'status') {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify({
          error: { message: reply.message ?? `status ${reply.status}`, type: 'server_error', code: null, param: null },
        }),
      );
      return;
    }
    const message =
      reply.kind === 'refusal'
        ? { role: 'assistant', content: null, refusal: reply.refusal ?? "I'm sorry, I can't help with that." }
        : {
            role: 'assistant',
            content: reply.kind === 'json' ? JSON.stringify(reply.content) : (reply.content ?? '{"category": "compl'),
            refusal: null,
          };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `chatcmpl-fake-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
