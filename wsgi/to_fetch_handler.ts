import { concat } from "./_bytes.ts";
import { checkHeader, checkStatus } from "./_response.ts";
import { StreamBody } from "./_stream_body.ts";
import { decodePath } from "./_request_head.ts";
import type {
  Environ,
  ErrorStream,
  StartResponse,
  WriteFunction,
  WsgiApp,
} from "./environ.ts";
import { HttpError } from "./errors.ts";

/** Options for {@linkcode toFetchHandler}. */
export interface ToFetchHandlerOptions {
  /**
   * Called with each error of the app and the request's `environ`; the
   * client then gets a 500. By default errors are printed with
   * `console.error`.
   */
  onError?: (error: unknown, environ: Environ) => void;
}

/** What `Deno.serve` passes with each request (only `remoteAddr` is used). */
export interface FetchHandlerInfo {
  /** The client's address. */
  remoteAddr?: { hostname?: string; port?: number };
}

const ERRORS: ErrorStream = {
  write(text: string) {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  },
  writelines(lines: Iterable<string>) {
    for (const line of lines) this.write(line);
  },
  flush() {},
};

// Hop-by-hop and framing headers: Deno.serve decides them.
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "upgrade",
  "proxy-connection",
]);

const encoder = new TextEncoder();

/**
 * Turns a WSGI-style app into a fetch handler for `Deno.serve` (the
 * "native" engine): the `Request` becomes an `environ` (its body is
 * `wsgi.input`), and what the app returns becomes a `Response` — a fixed
 * body as it is, an (async) iterable streamed item by item. Data passed to
 * `write()` goes out before the returned body.
 *
 * @example Run a WSGI app on Deno.serve
 * ```ts
 * import { toFetchHandler } from "@syncless/syncless/wsgi";
 *
 * const handler = toFetchHandler((environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return `Hello from ${environ.PATH_INFO}`;
 * });
 * const server = Deno.serve({ port: 0, onListen() {} }, handler);
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/x`);
 * console.log(await response.text()); // "Hello from /x"
 * await server.shutdown();
 * ```
 */
export function toFetchHandler(
  app: WsgiApp,
  options: ToFetchHandlerOptions = {},
): (request: Request, info?: FetchHandlerInfo) => Promise<Response> {
  if (typeof app !== "function") {
    throw new TypeError("toFetchHandler() needs a WSGI-style function");
  }
  const onError = options.onError ??
    ((error: unknown, environ: Environ) =>
      console.error(
        `syncless: error in the WSGI app (${environ.REQUEST_METHOD} ${environ.REQUEST_URI}):`,
        error,
      ));
  return async (request, info) => {
    const environ = requestToEnviron(request, info);
    const response = new PendingResponse();
    try {
      const body = await app(environ, response.startResponse);
      return await response.toResponse(body);
    } catch (error) {
      if (!(error instanceof HttpError)) onError(error, environ);
      const status = error instanceof HttpError ? error.status : 500;
      return new Response(
        status === 500
          ? "Internal Server Error\n"
          : `${(error as HttpError).message}\n`,
        {
          status,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        },
      );
    }
  };
}

function requestToEnviron(request: Request, info?: FetchHandlerInfo): Environ {
  const url = new URL(request.url);
  const https = url.protocol === "https:";
  const length = request.headers.get("content-length");
  const environ: Environ = {
    REQUEST_METHOD: request.method,
    SCRIPT_NAME: "",
    PATH_INFO: decodePath(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_URI: url.pathname + url.search,
    SERVER_PROTOCOL: "HTTP/1.1",
    SERVER_NAME: url.hostname,
    SERVER_PORT: url.port || (https ? "443" : "80"),
    REMOTE_ADDR: info?.remoteAddr?.hostname ?? "",
    REMOTE_PORT: String(info?.remoteAddr?.port ?? ""),
    "wsgi.input": new StreamBody(
      request.body,
      length !== null && /^[0-9]+$/.test(length) ? Number(length) : -1,
    ),
    "wsgi.errors": ERRORS,
    "wsgi.url_scheme": https ? "https" : "http",
    "wsgi.version": [1, 0],
    "wsgi.multithread": true,
    "wsgi.multiprocess": false,
    "wsgi.run_once": false,
    "wsgi.input_terminated": true,
  };
  for (const [name, value] of request.headers) {
    if (name.includes("_") || name === "proxy") continue;
    const key = name === "content-type"
      ? "CONTENT_TYPE"
      : name === "content-length"
      ? "CONTENT_LENGTH"
      : "HTTP_" + name.toUpperCase().replaceAll("-", "_");
    environ[key] = value;
  }
  environ.HTTP_HOST ??= url.host;
  return environ;
}

/** The status, headers and `write()` data an app gives, until it returns. */
class PendingResponse {
  #status = "";
  #headers: [string, string][] = [];
  #started = false;
  #sent = false;
  #written: Uint8Array[] = [];

  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (this.#sent) {
      if (excInfo !== undefined && excInfo !== null) throw excInfo;
      throw new Error(
        "startResponse() called after the response head was sent",
      );
    }
    checkStatus(status);
    if (!Array.isArray(headers)) {
      throw new TypeError("headers must be an array of [name, value] pairs");
    }
    const checked: [string, string][] = [];
    for (const pair of headers) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError("each header must be a [name, value] pair");
      }
      const value = checkHeader(pair[0], pair[1]);
      if (!DROPPED.has(pair[0].toLowerCase())) checked.push([pair[0], value]);
    }
    this.#status = status;
    this.#headers = checked;
    this.#started = true;
    return this.#write;
  };

  #write: WriteFunction = (chunk) => {
    if (!this.#started) {
      return Promise.reject(new Error("write() called before startResponse()"));
    }
    try {
      const bytes = toBytes(chunk);
      if (bytes.length > 0) this.#written.push(bytes);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  };

  #init(): ResponseInit {
    if (!this.#started) {
      throw new Error("the app returned without calling startResponse()");
    }
    this.#sent = true;
    const space = this.#status.indexOf(" ");
    const status = Number(this.#status.slice(0, space));
    return {
      status,
      statusText: this.#status.slice(space + 1),
      headers: this.#headers,
    };
  }

  async toResponse(body: unknown): Promise<Response> {
    const noBody = (status: number) => status === 204 || status === 304;
    if (
      body === null || body === undefined || typeof body === "string" ||
      body instanceof Uint8Array || Array.isArray(body)
    ) {
      const items = body === null || body === undefined
        ? []
        : Array.isArray(body)
        ? body
        : [body];
      for (const item of items) {
        const bytes = toBytes(item);
        if (bytes.length > 0) this.#written.push(bytes);
      }
      const init = this.#init();
      return new Response(
        noBody(init.status!)
          ? null
          : join(this.#written) as Uint8Array<ArrayBuffer>,
        init,
      );
    }
    if (
      typeof body !== "object" ||
      !(Symbol.asyncIterator in body || Symbol.iterator in body)
    ) {
      throw new TypeError(
        `the app returned ${typeof body}: expected a string, a Uint8Array, an array or an (async) iterable`,
      );
    }
    // Iterate up to the first non-empty item: startResponse may come late.
    const iterator = Symbol.asyncIterator in body
      ? (body as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : toAsync((body as Iterable<unknown>)[Symbol.iterator]());
    let first: Uint8Array | undefined;
    for (;;) {
      const step = await iterator.next();
      if (step.done) break;
      const bytes = toBytes(step.value);
      if (bytes.length > 0) {
        first = bytes;
        break;
      }
    }
    const init = this.#init();
    if (noBody(init.status!)) {
      await iterator.return?.();
      return new Response(null, init);
    }
    const pending = this.#written;
    if (first !== undefined) pending.push(first);
    let exhausted = first === undefined;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = pending.shift();
        if (chunk !== undefined) {
          controller.enqueue(chunk);
          return;
        }
        if (exhausted) {
          controller.close();
          return;
        }
        for (;;) {
          const step = await iterator.next();
          if (step.done) {
            exhausted = true;
            controller.close();
            return;
          }
          const bytes = toBytes(step.value);
          if (bytes.length > 0) {
            controller.enqueue(bytes);
            return;
          }
        }
      },
      async cancel() {
        exhausted = true;
        await iterator.return?.();
      },
    });
    return new Response(stream, init);
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === "string") return encoder.encode(chunk);
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(
    `a body chunk must be a string or a Uint8Array, got ${
      chunk === null ? "null" : typeof chunk
    }`,
  );
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const part of parts) total += part.length;
  return concat(parts, total);
}

function toAsync<T>(iterator: Iterator<T>): AsyncIterator<T> {
  return {
    next: () => Promise.resolve(iterator.next()),
    return: () =>
      Promise.resolve(iterator.return?.() ?? { done: true, value: undefined }),
  };
}
