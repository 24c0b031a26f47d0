import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** One kept-alive connection: a request at a time, its answer read for the status and a content-length body. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (status: number) => void; reject: (err: Error) => void } | undefined;
  /** False once the server said `connection: close` or the socket went away. */
  reusable = true;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const gone = (err?: Error) => {
      this.reusable = false;
      this.fail(err ?? new Error('the server closed the connection before answering'));
    };
    socket.on('error', gone);
    socket.on('close', () => gone());
  }

  send(request: Buffer): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  destroy(): void {
    this.reusable = false;
    this.socket.destroy();
  }

  private fail(err: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(err);
  }

  private parse(): void {
    const end = this.buffer.indexOf(HEAD_END);
    if (end < 0 || !this.waiting) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    if (lower.includes('\r\ntransfer-encoding:')) {
      this.destroy();
      this.fail(new Error('a chunked answer: the bench client reads content-length bodies only'));
      return;
    }
    const length = Number(/\r\ncontent-length:\s*(\d+)/.exec(lower)?.[1] ?? 0);
    const total = end + HEAD_END.length + length;
    if (this.buffer.length < total) return;
    this.buffer = this.buffer.subarray(total);
    if (/\r\nconnection:\s*close/.test(lower)) this.destroy();
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve(status);
  }
}

/**
 * The least an HTTP/1.1 sender does, for load generators that share the machine with the server
 * under test: each request one pre-built buffer on a kept-alive connection, each answer read for
 * its status line and content-length. node:http's client spends several times that CPU per request
 * (headers validated and built, response objects and streams), and on 2 cores it comes out of what
 * Earshot and PostgreSQL can use. Answers only what Earshot's routes send: no chunked bodies.
 */
export class RawHttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
  }

  /** `POST path` with these headers and body; answers the response's status. */
  async post(path: string, headers: Record<string, string>, body: string): Promise<number> {
    const lines = [`POST ${path} HTTP/1.1`, `host: ${this.host}:${this.port}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    lines.push(`content-length: ${Buffer.byteLength(body)}`, '', '');
    const request = Buffer.from(lines.join('\r\n') + body);
    const connection = this.idle.pop() ?? (await this.open());
    try {
      return await connection.send(request);
    } finally {
      if (connection.reusable) this.idle.push(connection);
      else this.all.delete(connection);
    }
  }

  close(): void {
    for (const connection of this.all) connection.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      socket.once('connect', () => {
        socket.off('error', reject);
        const connection = new Connection(socket);
        this.all.add(connection);
        resolve(connection);
      });
      socket.once('error', reject);
    });
  }
}
