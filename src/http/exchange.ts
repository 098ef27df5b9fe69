import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * One request on a raw route (a hot path served outside Fastify), whichever HTTP front end parsed
 * it: node:http (`NodeExchange`) or the ingest fast path (`fast-http.ts`). The route sees the same
 * request either way, so its answers do not depend on which one read the bytes.
 */
export interface Exchange {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly url: string;
  /** Names lower-cased, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  /**
   * The body, when it is at most `limit` bytes; null when it is larger (and then the rest is not
   * read: answer with `connection: close`). Synchronous when the bytes are already in.
   */
  readBody(limit: number): Buffer | null | Promise<Buffer | null>;
  /** Whether the answer has been sent. */
  readonly replied: boolean;
  /**
   * Sends the whole answer. `content-length` is added from `body`; a HEAD request gets the headers
   * only; `connection: close` in `headers` closes the connection after it. A second call does nothing.
   */
  reply(status: number, headers: Readonly<Record<string, string>>, body: string): void;
}

/** A hot path served outside Fastify, tried before it on the real socket. */
export interface RawRoute {
  /** Whether a request target (path and query) belongs to this route. */
  owns(url: string): boolean;
  handle(exchange: Exchange): void;
}

/** An `Exchange` over node:http's request and response. */
export class NodeExchange implements Exchange {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get url(): string {
    return this.req.url ?? '/';
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get remoteAddress(): string | undefined {
    return this.req.socket.remoteAddress;
  }

  get replied(): boolean {
    return this.res.headersSent;
  }

  readBody(limit: number): Promise<Buffer | null> {
    const req = this.req;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          req.removeAllListeners('data');
          req.pause();
          resolve(null);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
      req.on('error', reject);
    });
  }

  reply(status: number, headers: Readonly<Record<string, string>>, body: string): void {
    if (this.res.headersSent) return;
    // node:http sends no body for HEAD by itself.
    this.res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    this.res.end(body);
  }
}
