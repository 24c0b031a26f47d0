import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readBody, sendJson } from '../../src/http/router.js';
import { type HttpServer, startHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';

const LIMIT = 1024;

/** Posts `chunks` one write each, chunked (no content-length) unless `length` is given; answers status and body. */
function post(url: string, chunks: (string | Buffer)[], length?: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/echo`,
      { method: 'POST', headers: length === undefined ? {} : { 'content-length': length } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('readBody', () => {
  let http: HttpServer;
  beforeAll(async () => {
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent' }),
      routes: [
        {
          method: 'POST',
          path: '/echo',
          handler: async (req, res) => {
            try {
              const body = await readBody(req, LIMIT);
              sendJson(res, 200, { bytes: body.length, text: body.toString('utf8') });
            } catch (err) {
              if (!(err instanceof BodyTooLargeError)) throw err;
              sendJson(res, 413, { error: 'payload_too_large' }, { connection: 'close' });
            }
          },
        },
      ],
    });
  });
  afterAll(() => http.close());

  it('reads a body sent in several chunks, multi-byte characters split across them', async () => {
    const text = 'é'.repeat(300);
    const bytes = Buffer.from(text);
    // Each 'é' is two bytes: the first and second chunks end half-way through one.
    const res = await post(http.url, [bytes.subarray(0, 1), bytes.subarray(1, 301), bytes.subarray(301)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ bytes: 600, text });
  });

  it('reads an empty body', async () => {
    const res = await post(http.url, [], 0);
    expect(JSON.parse(res.body)).toEqual({ bytes: 0, text: '' });
  });

  it('refuses a declared length over the limit before reading', async () => {
    const res = await post(http.url, ['x'.repeat(LIMIT + 1)], LIMIT + 1);
    expect(res.status).toBe(413);
  });

  it('refuses a chunked body once it passes the limit, and still answers', async () => {
    const res = await post(http.url, ['x'.repeat(600), 'y'.repeat(600), 'z'.repeat(600)]);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: 'payload_too_large' });
  });

  it('takes a body of exactly the limit', async () => {
    const res = await post(http.url, ['a'.repeat(LIMIT)]);
    expect(JSON.parse(res.body)).toMatchObject({ bytes: LIMIT });
  });
});
