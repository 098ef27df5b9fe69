import { type IncomingHttpHeaders, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Exchange, RawRoute } from './exchange.ts';

/**
 * The fast path for raw routes (the ingest route, `/in/…`): a small HTTP/1.1 reader in front of
 * node:http on the same listening socket. node:http's JavaScript layers (IncomingMessage,
 * ServerResponse, their streams and events) cost about as much event-loop time per request as the
 * rest of receiving an event; on a webhook receiver that is most of its CPU.
 *
 * It takes only the plain, unambiguous shape that webhook senders use, and hands everything else,
 * byte for byte, to node:http, which answers it as it always would (errors included):
 * - a request line `METHOD SP /target SP HTTP/1.1` with a common method, an origin-form target of
 *   visible ASCII that a raw route owns;
 * - header lines `name: value` with a token name and a value of visible characters, space or tab,
 *   no name twice, at most MAX_HEADER_LINES of them, the head within `maxHeaderBytes`;
 * - a `host` header; no `transfer-encoding`, `expect` or `upgrade`; `content-length` as digits, or
 *   absent (no body).
 * So a request is framed here only when its framing has one reading, and node:http's stricter
 * parser decides every other case (chunked bodies, `Expect: 100-continue`, HTTP/1.0, bad syntax,
 * oversized heads). Once a connection has been handed over it stays with node:http. A head with
 * bare-LF line endings is handed over as soon as the LF arrives (node:http refuses it at once), and
 * a request cut short by the client's end of stream (a partial head, a body shorter than its
 * Content-Length) is answered 400 and closed, as node:http answers it: the same raw request gets
 * the same status and framing from both (test/http/fast-http-differential.test.ts holds them to it).
 * Requests read whole before the client's end of stream are answered, then the connection closes
 * (node:http ends its side at the FIN and those answers are lost: the one shape they differ on).
 *
 * Requests on a connection are answered in order, one at a time: the next one is read only after
 * the answer to the last has been written. Timeouts follow node:http's defaults: an idle
 * connection closes after `keepAliveTimeoutMs`, a head must arrive within `headersTimeoutMs` and a
 * whole request within `requestTimeoutMs` of its first byte (else 408 and close).
 */
export interface FastHttpOptions {
  routes: readonly RawRoute[];
  keepAliveTimeoutMs: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxHeaderBytes?: number;
  /** How often deadlines are checked. */
  sweepMs?: number;
  /** While true, every answer closes its connection (so clients move to another instance). */
  isShuttingDown?: () => boolean;
}

/** What `installFastHttp` gives back to the server's owner. */
export interface FastHttp {
  /** Closes the connections that wait for a request; the others close after their answer. */
  closeIdle(): void;
  /** Connections currently served by the fast path (for tests and metrics). */
  readonly connectionCount: number;
}

const FAST_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const TARGET = /^\/[\x21-\x7e]*$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// `name: value`: a token name, no space before the colon, and a value (captured without the
// whitespace around it) of visible characters (obs-text too, as node:http allows) with inner
// spaces and tabs. A line with a bare CR or LF, or any other control byte, does not match.
const FIELD_LINE =
  /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*((?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?)[\t ]*$/;
const DIGITS = /^\d{1,15}$/;
const MAX_HEADER_LINES = 100;
// Bytes of the next requests buffered while one is answered before the socket is paused.
const MAX_BUFFERED_BYTES = 64 * 1024;
// An unread body up to this size is skipped to keep the connection; a larger one closes it.
const MAX_DISCARD_BYTES = 1024 * 1024;
const SWEEP_MS = 5000;
const EMPTY = Buffer.alloc(0);
const INTERNAL_HEADERS = Object.freeze({ 'content-type': 'application/json; charset=utf-8' });
const SAFE_HEADER_TEXT = /^[\t\x20-\x7e]*$/;

let dateSecond = 0;
let dateText = '';
/** The `date` header's value, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** Whether the bytes hold an LF not preceded by CR. */
function hasBareLf(buffer: Buffer): boolean {
  for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) {
    if (i === 0 || buffer[i - 1] !== 13) return true;
  }
  return false;
}

interface Head {
  route: RawRoute;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  contentLength: number;
  close: boolean;
}

/**
 * Parses one request head (without its blank line) when it has the plain shape this path takes;
 * undefined when node:http should read it instead.
 */
export function parseFastHead(
  text: string,
  routeFor: (url: string) => RawRoute | undefined,
): Head | undefined {
  const lines = text.split('\r\n');
  if (lines.length > MAX_HEADER_LINES + 1) return undefined;
  const line = lines[0] as string;
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp2 === -1) return undefined;
  const method = line.slice(0, sp1);
  const url = line.slice(sp1 + 1, sp2);
  if (!FAST_METHODS.has(method) || line.slice(sp2 + 1) !== 'HTTP/1.1') return undefined;
  if (!TARGET.test(url)) return undefined;
  const route = routeFor(url);
  if (route === undefined) return undefined;

  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const field = FIELD_LINE.exec(lines[i] as string);
    if (field === null) return undefined;
    const key = (field[1] as string).toLowerCase();
    // node:http joins, keeps the first of or lists repeated names by rules of its own; leave them
    // to it. `__proto__` would not be an own key of a plain object.
    if (headers[key] !== undefined || key === '__proto__') return undefined;
    headers[key] = field[2] as string;
  }
  if (
    headers.host === undefined ||
    headers['transfer-encoding'] !== undefined ||
    headers.expect !== undefined ||
    headers.upgrade !== undefined
  ) {
    return undefined;
  }
  let close = false;
  const connection = headers.connection;
  if (connection !== undefined) {
    const tokens = connection.toLowerCase();
    if (tokens.includes('upgrade')) return undefined;
    close = tokens.includes('close');
  }
  const length = headers['content-length'];
  if (length !== undefined && !DIGITS.test(length)) return undefined;
  return { route, method, url, headers, contentLength: length === undefined ? 0 : Number(length), close };
}

/**
 * Puts the fast path in front of `server`'s own connection handling: each new connection is read
 * here first and handed to node:http when a request is not one this path takes.
 */
export function installFastHttp(server: Server, options: FastHttpOptions): FastHttp {
  const nodeListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  if (nodeListeners.length !== 1)
    throw new Error('installFastHttp: expected node:http as the only connection listener');
  const nodeListener = nodeListeners[0] as (socket: Socket) => void;
  server.removeListener('connection', nodeListener);

  const settings: Settings = {
    routeFor: (url) => options.routes.find((r) => r.owns(url)),
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    keepAliveHeader: `timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}`,
    headersTimeoutMs: options.headersTimeoutMs ?? 60_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    isShuttingDown: options.isShuttingDown ?? (() => false),
    closing: false,
    handOff: (socket) => {
      nodeListener.call(server, socket);
      // The bytes put back with unshift are delivered on the next tick, before any new read.
      socket.resume();
    },
    connections: new Set(),
  };
  server.on('connection', (socket: Socket) => {
    const connection = new FastConnection(socket, settings);
    settings.connections.add(connection);
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of settings.connections) c.checkDeadline(now);
  }, options.sweepMs ?? SWEEP_MS);
  sweep.unref();
  server.on('close', () => clearInterval(sweep));
  return {
    closeIdle() {
      settings.closing = true;
      for (const c of settings.connections) c.closeIfIdle();
    },
    get connectionCount() {
      return settings.connections.size;
    },
  };
}

interface Settings {
  routeFor: (url: string) => RawRoute | undefined;
  keepAliveTimeoutMs: number;
  keepAliveHeader: string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderBytes: number;
  isShuttingDown: () => boolean;
  closing: boolean;
  handOff: (socket: Socket) => void;
  connections: Set<FastConnection>;
}

type State =
  /** Reading a request head (or waiting for one). */
  | 'head'
  /** A request is with its route; bytes that arrive wait in the buffer. */
  | 'busy'
  /** Skipping the rest of a body the route did not read. */
  | 'discard'
  | 'gone';

class FastConnection {
  private buffer: Buffer | null = null;
  private state: State = 'head';
  /** When the request being read began (its first byte), or 0 between requests. */
  private startedAt = 0;
  private exchange: FastExchange | null = null;
  private discardLeft = 0;
  private clientEnded = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.ended();
  private readonly onClose = () => this.closed();
  private readonly onError = () => this.socket.destroy();
  private readonly onTimeout = () => {
    // Only a connection that waits for its next request idles out; a slow head or body is the
    // sweep's to judge by its deadline.
    if (this.state === 'head' && this.buffer === null) this.socket.destroy();
  };

  constructor(
    readonly socket: Socket,
    private readonly settings: Settings,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(settings.keepAliveTimeoutMs);
    socket.on('timeout', this.onTimeout);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  private data(chunk: Buffer): void {
    if (this.state === 'gone') return;
    if (this.state === 'discard') {
      if (chunk.length <= this.discardLeft) {
        this.discardLeft -= chunk.length;
        if (this.discardLeft === 0) this.next();
        return;
      }
      chunk = chunk.subarray(this.discardLeft);
      this.discardLeft = 0;
      this.buffer = chunk;
      this.next();
      return;
    }
    if (this.startedAt === 0) this.startedAt = Date.now();
    this.buffer = this.buffer === null ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.state === 'head') this.readHead();
    else if (this.exchange?.wantsBody()) this.exchange.fill();
    else if (this.buffer.length > MAX_BUFFERED_BYTES) this.socket.pause();
  }

  /**
   * Goes on once an answer is written. A request already buffered (pipelined) is taken on the next
   * turn, not from inside this answer's call, so a long pipeline of requests answered at once
   * does not nest one call in another per request.
   */
  private advance(): void {
    if (this.buffer === null) {
      this.next();
      return;
    }
    setImmediate(() => {
      if (this.state !== 'gone') this.next();
    });
  }

  /** Takes buffered bytes (the next request) once the last request is done. */
  private next(): void {
    this.state = 'head';
    this.exchange = null;
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buffer === null && this.willClose()) {
      this.socket.end();
      return;
    }
    this.startedAt = this.buffer === null ? 0 : Date.now();
    if (this.buffer !== null) this.readHead();
  }

  private readHead(): void {
    const buffer = this.buffer as Buffer;
    const end = buffer.indexOf('\r\n\r\n');
    if (end === -1) {
      // A head with bare-LF line endings never has the CRLF CRLF end this path waits for, and
      // node:http refuses it (400) as soon as it sees the LF: hand it over now, not at the timeout.
      if (buffer.length > this.settings.maxHeaderBytes || hasBareLf(buffer)) this.handOff();
      else if (this.clientEnded) this.refuse('The connection ended in the middle of the request head.');
      return;
    }
    if (end > this.settings.maxHeaderBytes) {
      this.handOff();
      return;
    }
    const head = parseFastHead(buffer.toString('latin1', 0, end), this.settings.routeFor);
    if (head === undefined) {
      this.handOff();
      return;
    }
    const rest = buffer.length === end + 4 ? null : buffer.subarray(end + 4);
    this.buffer = rest;
    this.state = 'busy';
    const exchange = new FastExchange(this, head);
    this.exchange = exchange;
    try {
      head.route.handle(exchange);
    } catch {
      // A route's own failure: answered as node:http's would leave it, without taking the process.
      exchange.reply(500, INTERNAL_HEADERS, '{"code":"internal","detail":"The request failed."}');
    }
  }

  /** Bytes buffered after the head (the body, then perhaps the next request). */
  take(max: number): Buffer | null {
    const buffer = this.buffer;
    if (buffer === null) return null;
    if (buffer.length <= max) {
      this.buffer = null;
      return buffer;
    }
    this.buffer = buffer.subarray(max);
    return buffer.subarray(0, max);
  }

  resume(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  /**
   * Writes the answer, then goes on to the next request, or closes when the answer said so
   * (`close`, decided in `reply` so the header and the connection agree).
   */
  finish(text: string | Buffer, unreadBodyBytes: number, close: boolean): void {
    if (this.state === 'gone') return;
    if (close) {
      this.state = 'gone';
      this.socket.end(text);
      return;
    }
    this.socket.write(text);
    if (unreadBodyBytes === 0) {
      this.advance();
      return;
    }
    // The route answered without reading the body: skip it, buffered first, then as it arrives.
    const skipped = this.take(unreadBodyBytes);
    const left = unreadBodyBytes - (skipped === null ? 0 : skipped.length);
    if (left === 0) {
      this.advance();
      return;
    }
    this.state = 'discard';
    this.discardLeft = left;
    this.resume();
  }

  keepAliveHeader(): string {
    return this.settings.keepAliveHeader;
  }

  /**
   * Whether the connection closes after the answer being made, whatever the request asked. After
   * the client's end of stream, requests it sent before are still answered, then it closes.
   */
  willClose(): boolean {
    return (
      (this.clientEnded && this.buffer === null) || this.settings.closing || this.settings.isShuttingDown()
    );
  }

  checkDeadline(now: number): void {
    if (this.startedAt === 0 || this.state === 'gone') return;
    const limit = this.state === 'head' ? this.settings.headersTimeoutMs : this.settings.requestTimeoutMs;
    // A request with its route (its body all read) is not the client's delay.
    if (this.state === 'busy' && !this.exchange?.wantsBody()) return;
    if (now - this.startedAt <= limit) return;
    this.state = 'gone';
    const body = '{"code":"request_timeout","detail":"The request did not arrive in time."}';
    this.socket.end(
      `HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
  }

  closeIfIdle(): void {
    if (this.state === 'head' && this.buffer === null) {
      this.state = 'gone';
      this.socket.end();
    }
  }

  private handOff(): void {
    const socket = this.socket;
    this.state = 'gone';
    this.settings.connections.delete(this);
    socket.removeListener('data', this.onData);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('close', this.onClose);
    socket.removeListener('error', this.onError);
    socket.setTimeout(0);
    socket.removeListener('timeout', this.onTimeout);
    socket.pause();
    if (this.buffer !== null) socket.unshift(this.buffer);
    this.buffer = null;
    this.settings.handOff(socket);
  }

  private ended(): void {
    this.clientEnded = true;
    if (this.state === 'head') {
      // Between requests the client may simply stop; in the middle of a head, the request can
      // never be finished now, and node:http answers that with 400.
      if (this.buffer === null) {
        this.state = 'gone';
        this.socket.end();
      } else {
        this.refuse('The connection ended in the middle of the request head.');
      }
      return;
    }
    if (this.state === 'discard') {
      this.state = 'gone';
      this.socket.destroy();
      return;
    }
    // A body that has not all arrived will not come now: 400 (as node:http answers it), unless
    // the route already answered; a request being answered is, and the connection closes after.
    if (this.state === 'busy' && this.exchange?.missingBody()) {
      const exchange = this.exchange;
      if (exchange.replied) {
        this.state = 'gone';
        exchange.abort();
        this.socket.destroy();
        return;
      }
      exchange.replied = true;
      exchange.abort();
      this.refuse('The connection ended before the whole body (content-length) arrived.');
    }
  }

  /** Answers 400 and closes: the request cannot be read to its end. */
  private refuse(detail: string): void {
    this.state = 'gone';
    const body = JSON.stringify({ code: 'validation_failed', detail });
    this.socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  /** Bytes buffered and not yet taken. */
  get buffered(): number {
    return this.buffer === null ? 0 : this.buffer.length;
  }

  private closed(): void {
    this.state = 'gone';
    this.settings.connections.delete(this);
    this.exchange?.abort();
  }
}

interface RenderedFields {
  /** `name: value\r\n` lines (without connection and content-length, which the path writes). */
  text: string;
  /** Whether every value is printable ASCII (else the head is written as latin1 bytes). */
  plain: boolean;
}

// A frozen headers object (a route's constant answer headers) is checked and rendered once.
const renderedFields = new WeakMap<object, RenderedFields>();

function renderFields(headers: Readonly<Record<string, string>>): RenderedFields {
  const known = renderedFields.get(headers);
  if (known !== undefined) return known;
  let text = '';
  let plain = true;
  for (const name in headers) {
    const value = headers[name] as string;
    // The same refusal as node:http's writeHead: no line breaks in a header (response splitting).
    if (value.includes('\r') || value.includes('\n') || !TOKEN.test(name)) {
      throw new TypeError(`Invalid header ${name} in the answer`);
    }
    if (plain && !SAFE_HEADER_TEXT.test(value)) plain = false;
    if (name !== 'connection' && name !== 'content-length') text += `${name}: ${value}\r\n`;
  }
  const rendered = { text, plain };
  if (Object.isFrozen(headers)) renderedFields.set(headers, rendered);
  return rendered;
}

class FastExchange implements Exchange {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  replied = false;
  private readonly contentLength: number;
  private readonly close: boolean;
  /** Body bytes taken off the connection so far. */
  private received = 0;
  private body: Buffer | null = null;
  private aborted = false;
  private waiter: { resolve: (b: Buffer | null) => void; reject: (e: Error) => void } | null = null;

  constructor(
    private readonly connection: FastConnection,
    head: Head,
  ) {
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.contentLength = head.contentLength;
    this.close = head.close;
  }

  get remoteAddress(): string | undefined {
    return this.connection.socket.remoteAddress;
  }

  readBody(limit: number): Buffer | null | Promise<Buffer | null> {
    const length = this.contentLength;
    if (length > limit) return null;
    if (length === 0) {
      this.body = EMPTY;
      return EMPTY;
    }
    if (this.body === null) {
      const first = this.connection.take(length);
      // A body of its own, not a view of the socket's chunk (keeping it keeps nothing else alive),
      // on an ArrayBuffer of its own (so it can be moved to the writer thread without a copy).
      this.body = Buffer.allocUnsafeSlow(length);
      if (first !== null) {
        first.copy(this.body, 0);
        this.received = first.length;
      }
    }
    if (this.received === length) return this.body;
    if (this.aborted) return Promise.reject(new Error('the connection closed before the body arrived'));
    this.connection.resume();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Whether bytes of the body have yet to arrive. */
  missingBody(): boolean {
    return this.body === null
      ? this.connection.buffered < this.contentLength
      : this.received < this.contentLength;
  }

  wantsBody(): boolean {
    return this.waiter !== null;
  }

  /** Takes the body bytes that arrived. */
  fill(): void {
    const body = this.body as Buffer;
    const part = this.connection.take(this.contentLength - this.received);
    if (part === null) return;
    part.copy(body, this.received);
    this.received += part.length;
    if (this.received === this.contentLength) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter?.resolve(body);
    }
  }

  abort(): void {
    this.aborted = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(new Error('the connection closed before the body arrived'));
  }

  reply(status: number, headers: Readonly<Record<string, string>>, body: string): void {
    if (this.replied) return;
    const unreadBodyBytes = this.contentLength - this.received;
    const close =
      this.close ||
      headers.connection === 'close' ||
      this.connection.willClose() ||
      unreadBodyBytes > MAX_DISCARD_BYTES;
    const fields = renderFields(headers);
    this.replied = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${fields.text}`;
    const plain = fields.plain;
    head += `date: ${httpDate()}\r\n`;
    head += close
      ? 'connection: close\r\n'
      : `connection: keep-alive\r\nkeep-alive: ${this.connection.keepAliveHeader()}\r\n`;
    head += `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const withBody = this.method !== 'HEAD';
    // Header values are written as latin1, as node:http does; the body as UTF-8.
    const text: string | Buffer = plain
      ? withBody
        ? head + body
        : head
      : withBody
        ? Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)])
        : Buffer.from(head, 'latin1');
    this.connection.finish(text, unreadBodyBytes, close);
  }
}
