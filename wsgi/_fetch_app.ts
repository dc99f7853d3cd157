// Fetch-style apps (`{ fetch(request, info) }`, as Hono and Deno.serve
// handlers are written) on the WSGI-style engine: the environ becomes a
// `Request` whose body streams from `wsgi.input`, and the `Response` becomes
// a status, headers and a body (fixed when it is all there at once,
// streamed chunk by chunk otherwise).

import type { Environ, FetchApp, ServeInfo, WsgiApp } from "./environ.ts";
import { reasonPhrase } from "./_response.ts";

const BODYLESS = new Set(["GET", "HEAD"]);

/** Builds the URL of a request from its environ. */
export function requestUrl(environ: Environ): string {
  const host = typeof environ.HTTP_HOST === "string" && environ.HTTP_HOST !== ""
    ? environ.HTTP_HOST
    : environ.SERVER_PORT === ""
    ? "localhost"
    : `${environ.SERVER_NAME}:${environ.SERVER_PORT}`;
  let target = environ.REQUEST_URI;
  if (target.charCodeAt(0) !== 0x2f) {
    // absolute-form: the parser gave its path and query; others map to "/".
    const query = environ.QUERY_STRING;
    target = environ.REQUEST_METHOD === "CONNECT" || target === "*"
      ? "/"
      : encodePath(environ.PATH_INFO) + (query === "" ? "" : `?${query}`);
  }
  return `${environ["wsgi.url_scheme"]}://${host}${target}`;
}

function encodePath(latin1: string): string {
  let out = "";
  for (let i = 0; i < latin1.length; i++) {
    const c = latin1.charCodeAt(i);
    out += c > 0x20 && c < 0x7f && c !== 0x25
      ? latin1[i]
      : `%${c.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The request headers of an environ, as a `Headers` object. */
export function requestHeaders(environ: Environ): Headers {
  const headers = new Headers();
  for (const key in environ) {
    let name: string;
    if (key.startsWith("HTTP_")) name = key.slice(5);
    else if (key === "CONTENT_TYPE" || key === "CONTENT_LENGTH") name = key;
    else continue;
    const value = environ[key];
    if (typeof value !== "string") continue;
    headers.append(name.toLowerCase().replaceAll("_", "-"), value);
  }
  return headers;
}

/** A `Request` for the environ; its body streams from `wsgi.input`. */
export function environToRequest(environ: Environ): Request {
  const method = environ.REQUEST_METHOD;
  const input = environ["wsgi.input"];
  let body: ReadableStream<Uint8Array> | null = null;
  if (!BODYLESS.has(method) && input.remaining !== 0) {
    body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = await input.readAtMost(65536);
        if (chunk.length === 0) controller.close();
        else controller.enqueue(chunk);
      },
    });
  }
  return new Request(requestUrl(environ), {
    method,
    headers: requestHeaders(environ),
    body,
    // @ts-ignore: a streamed request body needs `duplex` (not in every lib.d.ts)
    duplex: "half",
  });
}

/** Runs a fetch-style app as a WSGI-style one. */
export function fetchAppToWsgi(app: FetchApp): WsgiApp {
  return async (environ, startResponse) => {
    const info: ServeInfo = {
      remoteAddr: {
        hostname: environ.REMOTE_ADDR,
        port: Number(environ.REMOTE_PORT) || 0,
        transport: environ.REMOTE_PORT === "" ? "unix" : "tcp",
      },
      environ,
    };
    const response = await app.fetch(environToRequest(environ), info);
    if (!(response instanceof Response)) {
      throw new TypeError(
        `fetch() must return a Response, got ${
          response === null ? "null" : typeof response
        }`,
      );
    }
    const headers: [string, string][] = [];
    for (const [name, value] of response.headers) {
      if (name !== "set-cookie") headers.push([name, value]);
    }
    for (const cookie of response.headers.getSetCookie()) {
      headers.push(["set-cookie", cookie]);
    }
    startResponse(
      `${response.status} ${
        response.statusText || reasonPhrase(response.status)
      }`,
      headers,
    );
    const stream = response.body;
    if (stream === null) return "";
    return await responseBody(stream);
  };
}

/**
 * The body of a Response: the bytes themselves when the stream had them all
 * at once (so they go out with a Content-Length), else an async iterable of
 * its chunks, sent as they come.
 */
async function responseBody(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
  const reader = stream.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch (error) {
    reader.releaseLock();
    throw error;
  }
  if (first.done) return new Uint8Array(0);
  const next = reader.read();
  const settled = await settledSoon(next);
  if (settled?.done) return first.value;
  return chunks(reader, first.value, next);
}

async function* chunks(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  next: Promise<ReadableStreamReadResult<Uint8Array>>,
): AsyncGenerator<Uint8Array> {
  let finished = false;
  try {
    yield first;
    for (;;) {
      const result = await next;
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
      next = reader.read();
    }
  } finally {
    // The client went away or the server stopped sending: stop the source.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** The result of `promise` if it settles within a few microtasks, else undefined. */
async function settledSoon<T>(promise: Promise<T>): Promise<T | undefined> {
  let settled = false;
  let value: T | undefined;
  promise.then((v) => {
    settled = true;
    value = v;
  }, () => {
    settled = true;
  });
  // A body made from a string or bytes is done within a hop or two; a real
  // stream that is still producing is left to stream.
  for (let i = 0; i < 8 && !settled; i++) await null;
  return value;
}
