// One client connection, served by a tasklet running one loop (the shape
// of Go's `conn.serve`): read a head straight out of the buffer, call the
// app, send the response, repeat while the connection stays alive. Answers
// to pipelined requests are buffered and written together when the loop has
// to wait for input, so a batch of requests costs one write. Between
// requests the connection parks: its tasklet ends, and only a read op with
// a small buffer stays behind; the next bytes start a new tasklet. That
// keeps thousands of idle keep-alive connections cheap.

import {
  type NbFile,
  type NbSocket,
  SocketError,
  type Tasklet,
  TaskletExit,
  TimeoutError,
} from "../coio/mod.ts";
import {
  flushInBackground,
  releaseWriteBuffer,
  watchReadable,
} from "../coio/nb_file.ts";
import { EMPTY_BODY, RequestBody } from "./_body_reader.ts";
import { ConnectionInput } from "./_input.ts";
import { PipelineSlot } from "./_pipeline.ts";
import {
  checkIncompleteHead,
  decodePath,
  findHeadEnd,
  parseRequestHead,
  RequestHead,
  resumeScanAt,
  skipEmptyLines,
} from "./_request_head.ts";
import {
  CONTINUE_RESPONSE,
  errorResponse,
  ResponseWriter,
} from "./_response.ts";
import type { BodyLimits } from "./_body_reader.ts";
import type { HeadLimits } from "./_request_head.ts";
import type { BodyReader, Environ, ErrorStream, WsgiApp } from "./environ.ts";
import { HttpError } from "./errors.ts";

// Unread body bytes the server reads and drops to keep a connection alive;
// beyond this it closes the connection instead.
const MAX_DRAIN = 256 * 1024;
// Responses collect in the output buffer up to this size before a write.
const OUTPUT_BUFFER = 65536;
// The first reads of a connection ask for this much.
const READ_SIZE = 1024;
// How long, and how much, a closing connection keeps reading so that the
// peer sees the last response rather than a reset.
const LINGER_MS = 1000;
const LINGER_BYTES = 1 << 20;

// What #readHead returns when the connection parked to wait without a
// tasklet: an idle keep-alive connection holds only its socket, its read and
// this object; the first bytes start a new tasklet.
const PARKED = Symbol("parked");

const WSGI_VERSION: [number, number] = [1, 0];
const EMPTY_BYTES = new Uint8Array(0);
const NO_WORDS = new Int32Array(0);
const ERRORS: ErrorStream = {
  write(text: string) {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  },
  writelines(lines: Iterable<string>) {
    for (const line of lines) this.write(line);
  },
  flush() {},
};

/** What every connection of a server shares: the app, limits, timeouts. */
export interface ServerState {
  /** The app (fetch-style apps arrive adapted). */
  app: WsgiApp;
  /** Most pipelined requests of one connection served at the same time. */
  pipelineConcurrency: number;
  /** Head objects given back by idle connections, for reuse. */
  heads: RequestHead[];
  /** Limits on request heads. */
  limits: HeadLimits;
  /** Limits and timeout of request bodies. */
  bodyLimits: BodyLimits;
  /** Total time for a head from its first byte (and before a first request), ms. */
  headersTimeout: number;
  /** Idle time allowed between requests, ms. */
  keepAliveTimeout: number;
  /** The time (Date.now() ms) as of the last sweep; deadlines are set from it. */
  now: number;
  /** Milliseconds between sweeps (added to deadlines so that none ends early). */
  tick: number;
  /** Longest wait for the client to accept bytes, ms (`null`: forever). */
  writeTimeout: number | null;
  /** True for TLS connections. */
  secure: boolean;
  /** `"http"` or `"https"`. */
  scheme: string;
  /** `SERVER_NAME`. */
  serverName: string;
  /** `SERVER_PORT`. */
  serverPort: string;
  /** `wsgi.multiprocess`. */
  multiprocess: boolean;
  /** Set by a graceful shutdown: finish what runs, take no new requests. */
  closing: boolean;
  /** Aborted when the shutdown starts (`environ["syncless.shutdown"]`). */
  shutdownSignal: AbortSignal;
  /** Receives one Common Log Format line per request, if set. */
  accessLog: ((line: string) => void) | undefined;
  /** Reports an app or connection error (never a client disconnect). */
  reportError(error: unknown, environ: Environ | undefined): void;
  /** Runs the `serve()` of a parked connection that woke, in a new tasklet. */
  startServing(connection: Connection): void;
}

/** The server's connection to one client. */
export class Connection {
  readonly socket: NbSocket;
  /**
   * The socket's file: requests are read from it and responses written to
   * it (the server's sweeper, not the file, enforces the timeouts).
   */
  readonly output: NbFile;
  readonly input: ConnectionInput;
  /** True while waiting for the first byte of a request (safe to close at shutdown). */
  idle = true;
  /** True once an app took the socket over (the server lets go of it). */
  taken = false;
  #state: ServerState;
  #response: ResponseWriter;
  #remoteAddr: string;
  #remotePort: string;
  #head: RequestHead | undefined = undefined;
  #body: RequestBody | typeof EMPTY_BODY = EMPTY_BODY;
  #linger = false;
  #requests = 0;
  // The head being parsed or served: taken from the server's pool, given
  // back while the connection idles.
  #reusableHead: RequestHead | undefined = undefined;
  // A head parsed while serving requests concurrently, to be served next.
  #waitingHead: RequestHead | undefined = undefined;
  #onClosed: (connection: Connection) => void;
  // Where the search for the end of an incomplete head resumes; -1: none.
  #scanFrom = -1;
  // The deadline (Date.now() ms) of the current wait for request bytes,
  // enforced by the server's sweeper while #waiting is set.
  #deadline = Infinity;
  #waiting = false;
  // True while idle with no tasklet: a read runs and #wake starts serving.
  #parked = false;
  // Writes that may wait for the client, and when they must be done by.
  #writing = 0;
  #writeDeadline = Infinity;
  #closeWhenFlushed = false;
  #appended: Promise<void>;
  /** The tasklet serving the connection (the sweeper raises timeouts into it). */
  tasklet: Tasklet<void> | undefined = undefined;

  constructor(
    socket: NbSocket,
    state: ServerState,
    onClosed: (connection: Connection) => void,
  ) {
    this.#onClosed = onClosed;
    this.socket = socket;
    this.#state = state;
    // Heads are small: start with small reads (they grow for big bodies),
    // so that thousands of idle keep-alive connections stay cheap.
    // Responses accumulate until the loop waits for input (or 64 KiB pile up).
    socket.readBufferSize = READ_SIZE;
    const file = socket.makefile({ writeBufferLimit: OUTPUT_BUFFER });
    this.input = new ConnectionInput(file);
    this.output = file;
    // What the file returns for a write it completed at once.
    this.#appended = this.output.write(EMPTY_BYTES);
    this.#response = new ResponseWriter(this);
    const addr = socket.remoteAddr;
    if (addr.transport === "unix" || addr.transport === "unixpacket") {
      this.#remoteAddr = (addr as Deno.UnixAddr).path ?? "";
      this.#remotePort = "";
    } else {
      this.#remoteAddr = (addr as Deno.NetAddr).hostname;
      this.#remotePort = String((addr as Deno.NetAddr).port);
    }
  }

  /** The client's address, for `info.remoteAddr`. */
  get remoteAddr(): string {
    return this.#remoteAddr;
  }

  /**
   * Serves requests until the connection ends or parks (idle, waiting for
   * the next request without a tasklet); never throws. A busy spell that
   * never has to wait (requests buffered, answers that fit the output
   * buffer, then nothing more to read) runs synchronously and returns
   * `undefined`: its tasklet ends without a promise.
   */
  serve(): Promise<void> | undefined {
    let head: RequestHead | undefined;
    try {
      for (;;) {
        head = this.#waitingHead ?? this.#parseBuffered();
        this.#waitingHead = undefined;
        if (head === undefined) {
          if (this.#parkNow()) return undefined;
          break;
        }
        if (this.#servesConcurrently(head)) break;
        const keepAlive = this.#handle(head);
        head = undefined;
        if (keepAlive !== true || this.taken) {
          return this.#serveAsync(undefined, keepAlive);
        }
      }
    } catch (error) {
      return this.#serveAsync(undefined, Promise.reject(error));
    }
    return this.#serveAsync(head, undefined);
  }

  /**
   * The general loop of {@linkcode serve}, taking over where the
   * synchronous part had to wait: `first` is a head still to serve,
   * `handled` what serving the last one returned (or its error).
   */
  async #serveAsync(
    first: RequestHead | undefined,
    handled: boolean | Promise<boolean> | undefined,
  ): Promise<void> {
    // Local, not a field: once parked, the connection may wake (and a new
    // tasklet serve it) before this call has returned.
    let parked = false;
    try {
      if (handled !== undefined) {
        if (typeof handled !== "boolean") handled = await handled;
        if (!handled || this.taken) return;
      }
      for (;;) {
        // A pipelined head is often buffered already: no wait at all then.
        const head = first ?? this.#waitingHead ?? this.#parseBuffered() ??
          await this.#readHead();
        first = this.#waitingHead = undefined;
        if (head === PARKED) {
          parked = true;
          return;
        }
        if (head === null) break;
        if (this.#servesConcurrently(head)) {
          // More requests are buffered behind this one: run them together.
          if (!await this.#serveConcurrently(head)) break;
          continue;
        }
        let keepAlive = this.#handle(head);
        if (typeof keepAlive !== "boolean") keepAlive = await keepAlive;
        if (!keepAlive || this.taken) break;
      }
    } catch (error) {
      await this.#onConnectionError(error);
    } finally {
      if (!parked) {
        if (!this.taken) await this.#close();
        this.#releaseHead();
        this.#onClosed(this);
      }
    }
  }

  /** True when `head` and the bodiless requests behind it are served together. */
  #servesConcurrently(head: RequestHead): boolean {
    return this.#state.pipelineConcurrency > 1 && this.input.length > 0 &&
      head.contentLength === 0 && head.keepAlive && !head.upgrade;
  }

  // The read of a parked connection settled: serve it in a new tasklet.
  #wake = (): void => {
    this.#parked = false;
    this.#waiting = false;
    this.input.refresh(-1);
    this.#state.startServing(this);
  };

  /** Closes the socket; a parked connection (nothing runs for it) also ends here. */
  #closeSocket(): void {
    this.socket.close();
    if (this.#parked) {
      this.#parked = false;
      this.#onClosed(this);
    }
  }

  /** Gives the head object back to the server's pool (nothing is being parsed). */
  #releaseHead(): void {
    const head = this.#reusableHead;
    if (head === undefined) return;
    this.#reusableHead = this.#head = undefined;
    // The pool must not keep this connection's read buffer alive.
    head.inputBuffer = undefined;
    head.inputWords = NO_WORDS;
    const pool = this.#state.heads;
    if (pool.length < 1024) pool.push(head);
  }

  /**
   * Called by the server's sweeper: interrupts a wait for request bytes
   * whose deadline has passed (idle: quiet close; inside a head: 408).
   */
  expire(now: number): void {
    if (this.#waiting && now >= this.#deadline) {
      this.#waiting = false;
      if (!this.#parked) this.tasklet?.raise(new TimeoutError());
      else if (this.#writing > 0) this.#closeWhenFlushed = true;
      else this.#closeSocket();
    }
    // A client that does not take our bytes in time is cut off: closing
    // the socket fails the pending write.
    if (this.#writing > 0 && now >= this.#writeDeadline) this.#closeSocket();
    // Still parked a sweep later: the head object goes back to the pool and
    // the empty output buffer to the spares. (Not at every park: a busy
    // connection would give them back and take them again for each request,
    // and its next head compares with its last one.)
    else if (this.#parked) {
      this.#releaseHead();
      if (this.#writing === 0) releaseWriteBuffer(this.output);
    }
  }

  /**
   * Parses a complete head from the buffer: `undefined` when there is none
   * yet (`#scanFrom` remembers how far the search got).
   */
  #parseBuffered(into?: RequestHead): RequestHead | undefined {
    const input = this.input;
    const buf = input.buf;
    const end = buf.length;
    let start = input.start;
    if (start === end) return undefined;
    const first = skipEmptyLines(buf, start, end);
    if (first > start) {
      input.start = start = first;
      this.#scanFrom = -1;
      if (start === end) return undefined;
    }
    const state = this.#state;
    let headEnd = end;
    if (this.#scanFrom >= 0) {
      // An earlier try found the head incomplete: find its end first, so
      // that a head arriving byte by byte is scanned once, not once a byte.
      headEnd = findHeadEnd(buf, start, end, start + this.#scanFrom);
      if (headEnd === -1) {
        checkIncompleteHead(buf, start, end, state.limits);
        this.#scanFrom = resumeScanAt(buf, start, end) - start;
        return undefined;
      }
    }
    const head = parseRequestHead(
      buf,
      start,
      headEnd,
      state.limits,
      state.secure,
      into ?? (this.#reusableHead ??= state.heads.pop() ?? new RequestHead()),
    );
    if (head === null) {
      this.#scanFrom = resumeScanAt(buf, start, end) - start;
      return undefined;
    }
    this.#scanFrom = -1;
    input.start = start + head.length;
    this.idle = false;
    return head;
  }

  /**
   * Where {@linkcode serve} runs out of buffered requests: parks and sends
   * the answers so far, unless a head has begun, the server is closing or
   * the read cannot run without a reader (the tasklet then waits in
   * #readHead, which sends them). True when parked.
   */
  #parkNow(): boolean {
    if (this.input.length > 0 || this.#state.closing || !this.#goIdle()) {
      return false;
    }
    // (The read just started settles in a later turn: nothing wakes the
    // connection before these bytes are on their way.)
    this.#sendAnswers();
    return true;
  }

  /** Starts writing out the buffered answers, with no wait (a failure closes the socket). */
  #sendAnswers(): void {
    if (this.output.writeBufferLength === 0) return;
    const state = this.#state;
    this.#writing++;
    this.#writeDeadline = state.now + state.tick +
      (state.writeTimeout ?? Infinity);
    if (!flushInBackground(this.output, this.#flushed, this.#flushFailed)) {
      this.output.flush().then(this.#flushed, this.#flushFailed);
    }
  }

  /**
   * Between requests: holds no memory the wait does not need and parks if
   * the read can run without a reader (true), so the tasklet can end.
   */
  #goIdle(): boolean {
    const state = this.#state;
    // Consumed bytes go back to the file, so that the read lands at the
    // start of its small buffer instead of growing it. (The output buffer
    // goes at the next sweep, see expire().)
    this.input.release();
    this.#deadline = state.now + state.tick +
      (this.#requests === 0 ? state.headersTimeout : state.keepAliveTimeout);
    this.idle = true;
    if (!watchReadable(this.output, this.#wake)) return false;
    this.#parked = this.#waiting = true;
    this.tasklet = undefined;
    return true;
  }

  /**
   * Waits for the next request head: `null` when the connection should end
   * quietly (EOF or idle timeout between requests, or shutdown).
   */
  async #readHead(): Promise<RequestHead | null | typeof PARKED> {
    const state = this.#state;
    const input = this.input;
    // Whether bytes of this head have arrived: then headersTimeout runs.
    let started = input.length > 0;
    if (started) this.#deadline = state.now + state.tick + state.headersTimeout;
    for (;;) {
      // More bytes are needed: first send what earlier requests produced,
      // while the read starts (a failed write closes the socket).
      this.#sendAnswers();
      if (!started) {
        if (state.closing) {
          this.#releaseHead();
          return null;
        }
        if (this.#goIdle()) return PARKED;
      } else if (state.now >= this.#deadline) {
        throw new HttpError(408, "request head timed out");
      }
      let got: number;
      this.#waiting = true;
      try {
        got = await input.readMore();
        input.refresh(got);
      } catch (error) {
        input.refresh(-1);
        if (!(error instanceof TimeoutError)) throw error;
        if (!started) return null; // idle: close quietly
        throw new HttpError(408, "request head timed out");
      } finally {
        this.#waiting = false;
      }
      this.idle = false;
      if (got === 0) {
        if (input.length === 0) return null;
        throw new HttpError(400, "connection closed inside the request head");
      }
      const head = this.#parseBuffered();
      if (head !== undefined) return head;
      if (!started && input.length > 0) {
        started = true;
        this.#deadline = state.now + state.tick + state.headersTimeout;
      }
    }
  }

  /**
   * Serves one request; true when the connection may carry another. A
   * plain app answering at once is served without a single await.
   */
  #handle(head: RequestHead): boolean | Promise<boolean> {
    const state = this.#state;
    this.#requests++;
    this.#head = head;
    const body = head.contentLength === 0 ? EMPTY_BODY : new RequestBody(
      this.input,
      head.contentLength,
      state.bodyLimits,
      head.expectContinue ? () => this.#sendContinue() : undefined,
    );
    this.#body = body;
    const response = this.#response;
    response.reset(head.method === "HEAD", head.minor);
    let environ: Environ | undefined;
    try {
      environ = this.#environ(head, body);
      if (
        environ.HTTP_UPGRADE !== undefined && this.output.writeBufferLength > 0
      ) {
        // The app may take the socket over: earlier answers must be out first.
        return this.#handleAsync(head, environ, undefined, true);
      }
      const result = state.app(environ, response.startResponse);
      if (result !== null && typeof result === "object" && "then" in result) {
        return this.#handleAsync(head, environ, result, false);
      }
      if (this.taken) return false;
      const sending = response.finish(result);
      if (sending !== undefined) {
        return this.#finishAsync(head, environ, sending);
      }
    } catch (error) {
      return this.#fail(head, environ, error);
    }
    if (state.accessLog !== undefined) this.#logAccess(head, response);
    return response.keepAlive;
  }

  /** The rest of #handle when the app (or the socket) makes it wait. */
  async #handleAsync(
    head: RequestHead,
    environ: Environ,
    pending: PromiseLike<unknown> | undefined,
    flushFirst: boolean,
  ): Promise<boolean> {
    const response = this.#response;
    try {
      let result: unknown;
      if (flushFirst) {
        await this.#flush();
        result = this.#state.app(environ, response.startResponse);
        if (result !== null && typeof result === "object" && "then" in result) {
          pending = result as PromiseLike<unknown>;
        }
      }
      if (pending !== undefined) {
        // The app waits for something: let the client have earlier answers.
        if (this.output.writeBufferLength > 0) await this.#flush();
        result = await pending;
      }
      if (this.taken) return false;
      await response.finish(result);
    } catch (error) {
      return this.#fail(head, environ, error);
    }
    if (this.#state.accessLog !== undefined) this.#logAccess(head, response);
    return response.keepAlive;
  }

  async #finishAsync(
    head: RequestHead,
    environ: Environ,
    sending: Promise<void>,
  ): Promise<boolean> {
    try {
      await sending;
    } catch (error) {
      return this.#fail(head, environ, error);
    }
    if (this.#state.accessLog !== undefined) {
      this.#logAccess(head, this.#response);
    }
    return this.#response.keepAlive;
  }

  /** Answers a failed request (500, or the HttpError's status) and ends the connection. */
  async #fail(
    head: RequestHead,
    environ: Environ | undefined,
    error: unknown,
  ): Promise<boolean> {
    if (this.taken) return false;
    const state = this.#state;
    const response = this.#response;
    if (error instanceof HttpError) {
      if (environ === undefined) this.#linger = true;
    } else if (!isDisconnect(error)) {
      state.reportError(error, environ);
    }
    if (!response.headSent) this.#linger = true;
    await response.fail(error);
    if (state.accessLog !== undefined) this.#logAccess(head, response);
    return false;
  }

  /**
   * Serves `first` and the bodiless requests buffered behind it at the same
   * time, up to `pipelineConcurrency` of them; their answers go out in
   * request order. A request that has a body (or asks to switch protocols)
   * waits for them, as it reads from the connection. False when the
   * connection must close.
   */
  async #serveConcurrently(first: RequestHead): Promise<boolean> {
    const state = this.#state;
    const slots: PipelineSlot[] = [];
    let head = first;
    for (;;) {
      const keepAlive = head.keepAlive;
      const slot = new PipelineSlot(
        this,
        () => keepAlive && !state.closing,
        slots.length === 0,
      );
      slots.push(slot);
      slot.run = this.#runSlot(slot, head);
      if (!head.keepAlive) break; // nothing is served after it
      while (slots.length >= state.pipelineConcurrency) {
        if (!await this.#retire(slots)) return false;
      }
      const next = this.#parseBuffered(new RequestHead());
      if (next === undefined) break;
      if (next.contentLength !== 0 || next.upgrade) {
        this.#waitingHead = next;
        break;
      }
      head = next;
    }
    while (slots.length > 0) {
      if (!await this.#retire(slots)) return false;
    }
    return true;
  }

  /** Runs the app for one concurrently served request; never rejects. */
  async #runSlot(slot: PipelineSlot, head: RequestHead): Promise<void> {
    const state = this.#state;
    const writer = slot.writer;
    writer.reset(head.method === "HEAD", head.minor);
    this.#requests++;
    let environ: Environ | undefined;
    try {
      environ = this.#environ(head, EMPTY_BODY, false);
      let result = state.app(environ, writer.startResponse);
      if (result !== null && typeof result === "object" && "then" in result) {
        result = await result;
      }
      await writer.finish(result);
    } catch (error) {
      if (!(error instanceof HttpError) && !isDisconnect(error)) {
        state.reportError(error, environ);
      }
      try {
        await writer.fail(error);
      } catch {
        // The client is gone: the connection notices on its own.
      }
    } finally {
      slot.done = true;
      if (state.accessLog !== undefined) this.#logAccess(head, writer);
    }
  }

  /** Waits for the first request in line, then lets the next one write. */
  async #retire(slots: PipelineSlot[]): Promise<boolean> {
    const slot = slots[0];
    if (!slot.done && this.output.writeBufferLength > 0) {
      // It takes its time: let the client have the answers so far.
      await this.#flush();
    }
    await slot.run;
    slots.shift();
    if (!slot.writer.keepAlive) {
      for (const later of slots) later.discard();
      slots.length = 0;
      return false;
    }
    if (slots.length > 0) await slots[0].promote();
    return true;
  }

  /** Decides, just before the head goes out, whether the connection stays open. */
  beforeHead(): boolean | Promise<boolean> {
    const head = this.#head!;
    if (!head.keepAlive || this.#state.closing) return false;
    const body = this.#body;
    if (body.done) return true;
    // The client still waits for 100 Continue: its body may never come.
    if (head.expectContinue && !(body as RequestBody).touched) return false;
    return (body as RequestBody).drain(MAX_DRAIN);
  }

  async #sendContinue(): Promise<void> {
    if (this.#response.headSent) return;
    await this.write(CONTINUE_RESPONSE);
    await this.#flush();
  }

  /** Hands the socket to the app (`environ["syncless.takeover"]`). */
  #takeover = (): NbSocket => {
    if (this.taken) throw new Error("the connection was already taken over");
    if (this.#response.headSent) {
      throw new Error("cannot take over a connection after the response head");
    }
    this.taken = true;
    this.input.release();
    return this.socket;
  };

  #environ(head: RequestHead, body: BodyReader, takeover = true): Environ {
    const template = head.environ;
    if (template !== undefined) {
      // The same head as last time: copy what was built for it (one fast
      // clone instead of a property store per field), then what differs.
      const environ = { ...template } as Environ;
      environ.REMOTE_ADDR = this.#remoteAddr;
      environ.REMOTE_PORT = this.#remotePort;
      environ["wsgi.input"] = body;
      environ["syncless.takeover"] = takeover ? this.#takeover : undefined;
      return environ;
    }
    const state = this.#state;
    const environ: Environ = {
      REQUEST_METHOD: head.method,
      SCRIPT_NAME: "",
      PATH_INFO: decodePath(head.path),
      QUERY_STRING: head.query,
      REQUEST_URI: head.target,
      SERVER_PROTOCOL: head.minor === 1 ? "HTTP/1.1" : "HTTP/1.0",
      SERVER_NAME: state.serverName,
      SERVER_PORT: state.serverPort,
      REMOTE_ADDR: this.#remoteAddr,
      REMOTE_PORT: this.#remotePort,
      "wsgi.input": body,
      "wsgi.errors": ERRORS,
      "wsgi.url_scheme": state.scheme,
      "wsgi.version": WSGI_VERSION,
      "wsgi.multithread": true,
      "wsgi.multiprocess": state.multiprocess,
      "wsgi.run_once": false,
      "wsgi.input_terminated": true,
      "syncless.takeover": takeover ? this.#takeover : undefined,
      "syncless.shutdown": state.shutdownSignal,
    };
    const fields = head.fields;
    const values = head.values;
    for (let i = 0; i < head.count; i++) {
      const key = fields[i].key;
      if (key === null) continue;
      const previous = environ[key];
      environ[key] = previous === undefined
        ? values[i]
        : `${previous}, ${values[i]}`;
    }
    if (head.scheme !== "") environ.HTTP_HOST = head.host;
    // A client that repeats a head tends to go on doing so: keep a copy
    // (the app may change its environ) for the next time, without what
    // belongs to this request and connection (a pooled head must not keep
    // a closed connection alive).
    if (head.repeated) {
      const template = { ...environ };
      template["wsgi.input"] = EMPTY_BODY;
      template["syncless.takeover"] = undefined;
      head.environ = template;
    }
    return environ;
  }

  #flush(): Promise<void> {
    return this.#guard(this.output.flush());
  }

  /**
   * The response writer's sink: appends that fit the output buffer never
   * wait; anything that may wait is bounded by writeTimeout.
   */
  write(data: Uint8Array | string): Promise<void> | undefined {
    const output = this.output;
    const size = typeof data === "string" ? data.length * 3 : data.length;
    if (
      this.#writing === 0 && output.writeBufferLength + size < OUTPUT_BUFFER
    ) {
      // Nothing in flight and room left: the file appends at once.
      const done = output.write(data);
      if (done === this.#appended) return undefined;
      return this.#guard(done);
    }
    return this.#guard(output.write(data));
  }

  /** Writes out the output buffer (bounded by writeTimeout). */
  flush(): Promise<void> {
    return this.#flush();
  }

  #flushed = (): void => {
    this.#writing--;
    if (this.#closeWhenFlushed && this.#writing === 0 && this.idle) {
      this.#closeSocket();
    }
  };

  /**
   * At shutdown: closes the connection if it waits for a request (once its
   * last answers are out). A busy one closes after its current request.
   */
  closeIfIdle(): void {
    if (!this.idle) return;
    if (this.#writing > 0) this.#closeWhenFlushed = true;
    else this.#closeSocket();
  }

  #flushFailed = (): void => {
    // The client is gone (or too slow): the read that waits meanwhile fails.
    this.#writing--;
    this.#closeSocket();
  };

  /** Awaits a write that may wait for the client; the sweeper ends it after writeTimeout. */
  async #guard(op: Promise<void>): Promise<void> {
    this.#writing++;
    const state = this.#state;
    this.#writeDeadline = state.now + state.tick +
      (state.writeTimeout ?? Infinity);
    try {
      await op;
    } finally {
      this.#writing--;
    }
  }

  async #sendError(error: unknown): Promise<void> {
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof HttpError ? error.message : "";
    const extra = error instanceof HttpError ? error.headers : [];
    await this.write(errorResponse(status, message, extra));
  }

  async #onConnectionError(error: unknown): Promise<void> {
    if (error instanceof HttpError) {
      // A bad request head: answer it, then close.
      this.#linger = true;
      try {
        await this.#sendError(error);
      } catch {
        // The client is gone.
      }
      if (this.#state.accessLog !== undefined) {
        this.#log(
          `${this.#remoteAddr} - - [${clfDate()}] "-" ${error.status} -`,
        );
      }
      return;
    }
    if (!isDisconnect(error)) this.#state.reportError(error, undefined);
  }

  #logAccess(head: RequestHead, response: ResponseWriter): void {
    const version = head.minor === 1 ? "HTTP/1.1" : "HTTP/1.0";
    this.#log(
      `${this.#remoteAddr} - - [${clfDate()}] "${head.method} ${head.target} ${version}" ${response.statusCode} ${
        response.bytesSent > 0 ? response.bytesSent : "-"
      }`,
    );
  }

  /** Writes an access log line; a log that throws is reported, never fatal. */
  #log(line: string): void {
    try {
      this.#state.accessLog!(line);
    } catch (error) {
      this.#state.reportError(error, undefined);
    }
  }

  async #close(): Promise<void> {
    const socket = this.socket;
    try {
      if (this.output.writeBufferLength > 0) await this.#flush();
      const unread = this.input.length > 0 || !this.#body.done;
      if (this.#linger || unread) await this.#lingerClose();
    } catch {
      // The client is gone; just close.
    } finally {
      socket.close();
    }
  }

  /** Half-closes, then reads and drops what the client still sends, briefly. */
  async #lingerClose(): Promise<void> {
    await this.socket.shutdown();
    const input = this.input;
    const deadline = performance.now() + LINGER_MS;
    let total = 0;
    while (total < LINGER_BYTES) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      input.consume(input.length);
      const n = await input.fill(left);
      if (n === 0) return;
      total += n;
    }
  }
}

/** Errors that only mean the client went away (or the server killed the connection). */
function isDisconnect(error: unknown): boolean {
  return error instanceof SocketError || error instanceof TaskletExit ||
    error instanceof TimeoutError;
}

let clfSecond = -1;
let clfText = "";
const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

/** The current time in Common Log Format (`10/Oct/2000:13:55:36 +0000`), cached per second. */
function clfDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== clfSecond) {
    clfSecond = second;
    const d = new Date(now);
    const pad = (n: number) => String(n).padStart(2, "0");
    clfText =
      `${pad(d.getUTCDate())}/${
        MONTHS[d.getUTCMonth()]
      }/${d.getUTCFullYear()}:` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${
        pad(d.getUTCSeconds())
      } +0000`;
  }
  return clfText;
}
