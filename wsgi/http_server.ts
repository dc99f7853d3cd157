/** The address a server listens on: TCP (`hostname`, `port`) or a Unix socket (`path`). */
export type ServerAddr =
  | { hostname: string; port: number; path?: undefined }
  | { path: string; hostname?: undefined; port?: undefined };

/**
 * A running HTTP server, as returned by {@linkcode serve}.
 *
 * @example Shut down when done
 * ```ts
 * import { serve } from "@syncless/syncless/wsgi";
 *
 * const server = serve((_environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return "Hello, World!";
 * }, { port: 0 });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.log(await response.text()); // "Hello, World!"
 * await server.shutdown();
 * ```
 */
export class HttpServer {
  /** The address the server listens on (the real port when `port: 0` was asked). */
  readonly addr: ServerAddr;
  /** Resolves once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  #shutdown: () => Promise<void>;

  /** @internal Use {@linkcode serve}. */
  constructor(
    addr: ServerAddr,
    finished: Promise<void>,
    shutdown: () => Promise<void>,
  ) {
    this.addr = addr;
    this.finished = finished;
    this.#shutdown = shutdown;
  }

  /**
   * Shuts down gracefully: stops accepting, lets requests in progress
   * finish (their responses say `Connection: close`), closes idle
   * connections, and resolves (like `finished`) once all are closed.
   */
  shutdown(): Promise<void> {
    return this.#shutdown();
  }

  /** Shuts down (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}
