import http from 'node:http';

export interface GraphqlAnswer {
  status: number;
  body: Buffer;
}

const ERRORS = Buffer.from('"errors"');

/**
 * POSTs GraphQL requests (or, with another path, any JSON) over keep-alive node:http connections, one socket per
 * concurrent caller. Cheaper for the load generator than fetch (undici), so
 * more of the machine goes to the system under test. Answers are checked
 * without parsing: HTTP 200 and no "errors" key anywhere in the body (amounts
 * are strings of digits and ids are generated, so the bytes cannot occur in data).
 */
export class GraphqlHttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, sockets: number, private readonly path = '/graphql') {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  post(body: string | Buffer, token: string): Promise<GraphqlAnswer> {
    return new Promise((resolve, reject) => {
      const payload = typeof body === 'string' ? Buffer.from(body) : body;
      const request = http.request(
        {
          host: this.host,
          port: this.port,
          path: this.path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': String(payload.length), authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      request.setTimeout(60_000, () => request.destroy(new Error('request timed out after 60 s')));
      request.on('error', reject);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws unless the answer is HTTP 200 without GraphQL errors. */
export function checkAnswer(answer: GraphqlAnswer): void {
  if (answer.status !== 200 || answer.body.includes(ERRORS)) {
    throw new Error(`HTTP ${answer.status}: ${answer.body.toString('utf8', 0, 400)}`);
  }
}
