/**
 * The error classes of the HTTP server.
 *
 * @module
 */

/**
 * A request the server cannot accept: a malformed head, a bad chunked body, a
 * body over `maxBodySize`, a timeout while reading it. `status` is the HTTP
 * status the server answers with (400, 408, 413, 414, 421, 431, 501 or 505)
 * before it closes the connection. Apps see it when reading `wsgi.input`
 * fails; letting it escape makes the server send that status.
 *
 * @example Read a body that may be too large
 * ```ts
 * import { HttpError, serve } from "@syncless/syncless/wsgi";
 *
 * const server = serve(async (environ, startResponse) => {
 *   try {
 *     const body = await environ["wsgi.input"].read();
 *     startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *     return `${body.length} bytes`;
 *   } catch (error) {
 *     if (error instanceof HttpError) console.log(error.status); // e.g. 413
 *     throw error; // the server answers with that status
 *   }
 * }, { port: 0, maxBodySize: 1024 });
 * await server.shutdown();
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status code the server answers with. */
  readonly status: number;
  /** Extra response headers, e.g. `Sec-WebSocket-Version` with a 426. */
  readonly headers: readonly [string, string][];
  /** Creates an `HttpError` for `status` with a short explanation. */
  constructor(
    status: number,
    message: string,
    options?: ErrorOptions & { headers?: [string, string][] },
  ) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
    this.headers = options?.headers ?? [];
  }
}
