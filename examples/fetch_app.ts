/**
 * A fetch-style app (`{ fetch(request, info) }`, as `Deno.serve` handlers and
 * Hono apps are written) on our own HTTP engine: standard `Request` and
 * `Response` objects, bodies streamed both ways, and coio inside handlers
 * (each request runs in a tasklet, so `sleep`, channels and timeouts work).
 *
 *     deno run -A examples/fetch_app.ts [port]    # default 8008, env PORT
 *     curl http://127.0.0.1:8008/json
 *     curl -d 'hello' http://127.0.0.1:8008/echo
 *
 * @module
 */
import {
  type FetchApp,
  serve,
  sleep,
  TimeoutError,
  withTimeout,
} from "@syncless/syncless";
import { portArg, stopRequested } from "./_cli.ts";

let requests = 0;

const app: FetchApp = {
  async fetch(request, info) {
    requests++;
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/":
        return new Response(
          `Hello from a fetch-style app, ${info.remoteAddr.hostname}!\n`,
        );
      case "/json":
        return Response.json({ requests, method: request.method });
      case "/echo":
        // The request body streams in as the response streams out.
        return new Response(request.body, {
          headers: {
            "Content-Type": request.headers.get("Content-Type") ?? "",
          },
        });
      case "/countdown": {
        // A streamed response whose chunks are produced by coio sleeps.
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            for (let i = 3; i > 0; i--) {
              controller.enqueue(new TextEncoder().encode(`${i}...\n`));
              await sleep(100);
            }
            controller.enqueue(new TextEncoder().encode("liftoff\n"));
            controller.close();
          },
        });
        return new Response(body, {
          headers: { "Content-Type": "text/plain" },
        });
      }
      case "/slow": {
        // A handler with a deadline: a coio timeout scope around its work.
        const ms = Number(url.searchParams.get("ms") ?? 500);
        try {
          await withTimeout(200, () => sleep(ms));
          return new Response(`slept ${ms} ms\n`);
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
          return new Response("took too long\n", { status: 504 });
        }
      }
      default:
        return new Response("not found\n", { status: 404 });
    }
  },
};

const server = serve(app, { hostname: "127.0.0.1", port: portArg(8008) });
console.log(`fetch-style app on http://127.0.0.1:${server.addr.port}/`);

console.log(`stopping (${await stopRequested()})`);
await server.shutdown();
