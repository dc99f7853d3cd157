/**
 * A WSGI-style app that walks through the server's normal and error paths
 * (Syncless's demo_wsgiapp); each route's comment says what the server does.
 * App errors go to `onError` and never stop the server.
 *
 *     deno run -A examples/wsgi_app.ts [port]    # default 8007, env PORT
 *
 * @module
 */
import { type Environ, HttpError, serve, sleep } from "@syncless/syncless";
import type { StartResponse } from "@syncless/syncless";
import { portArg, stopRequested } from "./_cli.ts";

const TEXT: [string, string] = ["Content-Type", "text/plain; charset=utf-8"];
type Route = (environ: Environ, startResponse: StartResponse) => unknown;

const routes: Record<string, Route> = {
  // A fixed body: sent with Content-Length, the connection is kept alive.
  "/hello": (environ, start) => {
    start("200 OK", [TEXT]);
    return `Hello, ${environ.QUERY_STRING || "World"}!\n`;
  },
  // An iterable body is streamed item by item (chunked on HTTP/1.1).
  "/generator": (_environ, start) => {
    start("200 OK", [TEXT]);
    return ["item 1\n", "item 2\n", "item 3\n"].values();
  },
  // The write() callable of WSGI: each call sends at once.
  "/write": async (_environ, start) => {
    const write = start("200 OK", [TEXT]);
    await write("written ");
    await write("by write()\n");
  },
  // The request body, read as a stream (curl -d text .../post).
  "/post": async (environ, start) => {
    let bytes = 0;
    for await (const chunk of environ["wsgi.input"]) bytes += chunk.length;
    start("200 OK", [TEXT]);
    return `read ${bytes} bytes\n`;
  },
  // An endless stream: when the client goes away, the server stops
  // iterating, and the generator's `finally` runs.
  "/infinite": (_environ, start) => {
    start("200 OK", [TEXT]);
    return (async function* () {
      let n = 0;
      try {
        for (;;) {
          yield `chunk ${++n}\n`;
          await sleep(10);
        }
      } finally {
        console.log(`/infinite: client went away after ${n} chunks`);
      }
    })();
  },
  // startResponse() again before the head is sent replaces the response.
  "/replace": (_environ, start) => {
    start("200 OK", [TEXT]);
    start("404 Not Found", [TEXT]);
    return "replaced by a 404\n";
  },
  // Errors before the head is sent: an HttpError's status, else 500.
  "/forbidden": () => Promise.reject(new HttpError(403, "no entry")),
  "/exception": () => Promise.reject(new Error("boom")),
  // A malformed status, or a header value with CR LF (no header
  // injection): startResponse throws a TypeError, so 500.
  "/bad-status": (_environ, start) => start("two hundred", [TEXT]),
  "/bad-header": (_environ, start) => start("200 OK", [["X-A", "1\r\nX-B: 2"]]),
  // A Content-Length that does not match a fixed body: 500.
  "/bad-length": (_environ, start) => {
    start("200 OK", [TEXT, ["Content-Length", "100"]]);
    return "short\n";
  },
  // An error after the head was sent: the connection is closed mid-body.
  "/midway": (_environ, start) => {
    start("200 OK", [TEXT]);
    return (function* () {
      yield "first part\n";
      throw new Error("failed midway");
    })();
  },
};

const server = serve((environ, startResponse) => {
  const route = routes[environ.PATH_INFO];
  if (route !== undefined) return route(environ, startResponse) as string;
  startResponse("200 OK", [["Content-Type", "text/html"]]);
  return Object.keys(routes).map((p) => `<a href="${p}">${p}</a><br>\n`);
}, {
  hostname: "127.0.0.1",
  port: portArg(8007),
  onError: (error, environ) =>
    console.log(`app error on ${environ?.PATH_INFO}: ${error}`),
});
console.log(`WSGI app on http://127.0.0.1:${server.addr.port}/ (open it)`);

console.log(`stopping (${await stopRequested()})`);
await server.shutdown();
