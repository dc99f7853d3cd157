// Helpers for the HTTP server tests: raw sockets that send exact bytes, and a
// small independent response parser.

import assert from "node:assert/strict";
import { type HttpServer, serve, type ServeOptions } from "../../wsgi/mod.ts";
import type { FetchApp, WsgiApp } from "../../wsgi/mod.ts";

/** Bytes of a latin1 string (one byte per char). */
export function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** A latin1 string of bytes. */
export function text(data: Uint8Array): string {
  let out = "";
  for (let i = 0; i < data.length; i += 8192) {
    out += String.fromCharCode(...data.subarray(i, i + 8192));
  }
  return out;
}

/** Runs `fn` with a server on a free port, then shuts it down. */
export async function withServer<T>(
  app: WsgiApp | FetchApp,
  options: ServeOptions,
  fn: (server: HttpServer, port: number) => Promise<T>,
): Promise<T> {
  const server = serve(app, {
    hostname: "127.0.0.1",
    port: 0,
    ...options,
  });
  try {
    return await fn(server, server.addr.port!);
  } finally {
    await server.shutdown();
  }
}

/** A raw client connection for sending exact bytes. */
export class RawClient {
  #buffer = new Uint8Array(0);
  #eof = false;

  private constructor(readonly conn: Deno.Conn) {}

  /** Connects to the server on `port` (TCP) or at `path` (Unix). */
  static async connect(where: number | string): Promise<RawClient> {
    const conn = typeof where === "number"
      ? await Deno.connect({ hostname: "127.0.0.1", port: where })
      : await Deno.connect({ transport: "unix", path: where });
    return new RawClient(conn);
  }

  /** Sends `data` (a latin1 string or bytes). */
  async send(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? bytes(data) : data;
    let off = 0;
    while (off < b.length) off += await this.conn.write(b.subarray(off));
  }

  /** Half-closes: the server reads EOF. */
  async closeWrite(): Promise<void> {
    await this.conn.closeWrite();
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) n = null;
      else throw error;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  /** Everything until the server closes the connection. */
  async readAll(): Promise<string> {
    while (await this.#fill());
    const out = text(this.#buffer);
    this.#buffer = new Uint8Array(0);
    return out;
  }

  /** Reads one complete response (`head: true` for a response to HEAD). */
  async readResponse(head = false): Promise<ParsedResponse> {
    for (;;) {
      const parsed = parseResponse(text(this.#buffer), head);
      if (parsed !== null) {
        this.#buffer = this.#buffer.subarray(parsed.length);
        return parsed;
      }
      if (!await this.#fill()) {
        throw new Error(
          `connection closed before a complete response: ${
            JSON.stringify(text(this.#buffer))
          }`,
        );
      }
    }
  }

  /** True when the server closed the connection (after what was buffered). */
  async isClosed(): Promise<boolean> {
    if (this.#buffer.length > 0) return false;
    return !await this.#fill();
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A response as a client sees it. */
export interface ParsedResponse {
  /** The status line, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  status: number;
  /** Header fields in order, names as sent. */
  fields: [string, string][];
  /** Header values by lowercased name (repeated ones joined with `, `). */
  headers: Record<string, string>;
  /** The body, chunked framing removed. */
  body: string;
  /** The raw bytes of the whole response (as latin1). */
  raw: string;
  /** Bytes the response took. */
  length: number;
}

/** Parses one response at the start of `data`: null while incomplete. */
export function parseResponse(
  data: string,
  head = false,
): ParsedResponse | null {
  const end = data.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const lines = data.slice(0, end).split("\r\n");
  const statusLine = lines[0];
  const match = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
  if (match === null) {
    throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  }
  const status = Number(match[1]);
  const fields: [string, string][] = [];
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    fields.push([name, value]);
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  let p = end + 4;
  let body = "";
  if (head || status === 204 || status === 304 || status < 200) {
    // no body
  } else if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    for (;;) {
      const lineEnd = data.indexOf("\r\n", p);
      if (lineEnd === -1) return null;
      const size = parseInt(data.slice(p, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error("bad chunk size in response");
      p = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = data.indexOf("\r\n", p);
        if (trailerEnd === -1) return null;
        p = trailerEnd + 2;
        break;
      }
      if (data.length < p + size + 2) return null;
      body += data.slice(p, p + size);
      if (data.slice(p + size, p + size + 2) !== "\r\n") {
        throw new Error("chunk data not followed by CRLF");
      }
      p += size + 2;
    }
  } else if ("content-length" in headers) {
    const n = Number(headers["content-length"]);
    if (data.length < p + n) return null;
    body = data.slice(p, p + n);
    p += n;
  } else {
    // Close-delimited: everything that was received.
    body = data.slice(p);
    p = data.length;
  }
  return {
    statusLine,
    status,
    fields,
    headers,
    body,
    raw: data.slice(0, p),
    length: p,
  };
}

/** Splits a stream of fixed-length (or close-delimited last) responses. */
export function parseAll(
  data: string,
  heads: boolean[] = [],
): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let rest = data;
  while (rest.length > 0) {
    const parsed = parseResponse(rest, heads[out.length] ?? false);
    if (parsed === null) {
      throw new Error(`incomplete response: ${JSON.stringify(rest)}`);
    }
    out.push(parsed);
    rest = rest.slice(parsed.length);
  }
  return out;
}

/** Sends `request` on a new connection, half-closes, returns all the server sent. */
export async function exchange(
  port: number | string,
  request: string | Uint8Array,
  halfClose = true,
): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    await client.send(request);
    if (halfClose) await client.closeWrite();
    return await client.readAll();
  } finally {
    client.close();
  }
}

/** A promise with its resolve function (to sequence tests without sleeps). */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
} {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A closed listener: connecting is refused (or reset while it closes). */
export async function assertNotServed(port: number): Promise<void> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (error) {
    assert.ok(
      error instanceof Deno.errors.ConnectionRefused ||
        error instanceof Deno.errors.ConnectionReset,
      String(error),
    );
    return;
  }
  try {
    await conn.write(
      new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: t\r\n\r\n`),
    );
    const n = await conn.read(new Uint8Array(100));
    assert.equal(n, null);
  } catch (error) {
    assert.ok(
      error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe,
      String(error),
    );
  } finally {
    conn.close();
  }
}
