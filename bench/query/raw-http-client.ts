import net from 'node:net';
import type { GraphqlAnswer } from './graphql-client.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CONNECTION_CLOSE = /\r\nconnection:\s*close/i;

interface Waiting {
  resolve(answer: GraphqlAnswer): void;
  reject(error: Error): void;
}

/**
 * One keep-alive HTTP/1.1 connection carrying one request at a time. Only
 * what a load generator needs: the status, and the body delimited by
 * Content-Length (Fastify sets it on every JSON answer; anything else is
 * refused as an error rather than guessed at).
 */
class Connection {
  private socket?: net.Socket;
  private waiting?: Waiting;
  private chunks: Buffer[] = [];
  private received = 0;

  constructor(private readonly host: string, private readonly port: number) {}

  send(request: Buffer): Promise<GraphqlAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.chunks = [];
      this.received = 0;
      (this.socket ?? this.connect()).write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    const socket = net.connect(this.port, this.host);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    const fail = (error: Error) => {
      if (this.socket === socket) this.socket = undefined;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed before the answer was complete')));
    this.socket = socket;
    return socket;
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.received);
    this.chunks = [data];
    const headerEnd = data.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = data.toString('latin1', 0, headerEnd);
    const length = CONTENT_LENGTH.exec(head);
    const waiting = this.waiting;
    if (!length) {
      this.waiting = undefined;
      this.close();
      waiting?.reject(new Error(`answer without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    const bodyStart = headerEnd + HEADER_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (data.length < bodyEnd) return;
    this.waiting = undefined;
    if (CONNECTION_CLOSE.test(head)) this.close();
    waiting?.resolve({ status: Number(head.slice(9, 12)), body: data.subarray(bodyStart, bodyEnd) });
  }
}

/**
 * POSTs JSON over raw keep-alive sockets, for bench:query's load generator
 * (`--generator raw`). node:http's client costs the bench process about
 * 0.3 ms of CPU per request, on the same 2 cores as the system it measures;
 * writing the request bytes and slicing the answer by Content-Length costs
 * a fraction of that. The answers are checked as with GraphqlHttpClient.
 */
export class RawHttpClient {
  private readonly free: Connection[] = [];
  private readonly queue: Array<() => void> = [];
  private readonly all: Connection[] = [];
  private readonly prefix: string;

  constructor(baseUrl: string, sockets: number, path = '/graphql') {
    const url = new URL(baseUrl);
    for (let i = 0; i < sockets; i++) {
      const connection = new Connection(url.hostname, Number(url.port));
      this.all.push(connection);
      this.free.push(connection);
    }
    this.prefix = `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n`;
  }

  async post(body: string | Buffer, token: string): Promise<GraphqlAnswer> {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const head = Buffer.from(`${this.prefix}Authorization: Bearer ${token}\r\nContent-Length: ${payload.length}\r\n\r\n`, 'latin1');
    const connection = this.free.pop() ?? (await new Promise<Connection>((resolve) => this.queue.push(() => resolve(this.free.pop()!))));
    try {
      return await connection.send(Buffer.concat([head, payload]));
    } finally {
      this.free.push(connection);
      this.queue.shift()?.();
    }
  }

  close(): void {
    for (const connection of this.all) connection.close();
  }
}
