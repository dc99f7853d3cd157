/**
 * A Hono app served by our `serve()` unchanged: Hono apps are fetch-style
 * (`app.fetch(request)`), which `serve()` accepts as they are. Handlers run
 * in tasklets, so coio waits and timeouts work inside them.
 *
 *     deno run -A examples/hono_app.ts [port]    # default 8009, env PORT
 *     curl http://127.0.0.1:8009/users/42
 *
 * @module
 */
// A framework we did not write, used unchanged, is the point here.
// deno-lint-ignore no-import-prefix
import { Hono } from "npm:hono@4";
import { current, serve, sleep } from "@syncless/syncless";
import { portArg, stopRequested } from "./_cli.ts";

const app = new Hono();

app.get("/", (c) => c.text("Hello from Hono on Syncless!\n"));

app.get(
  "/users/:id",
  (c) => c.json({ id: c.req.param("id"), tasklet: current().name }),
);

app.post("/echo", async (c) => c.text(await c.req.text()));

// A coio sleep inside a Hono handler: only this request's tasklet waits.
app.get("/sleep/:ms", async (c) => {
  const ms = Number(c.req.param("ms"));
  if (!(ms >= 0 && ms <= 10_000)) return c.text("0-10000 ms please\n", 400);
  await sleep(ms);
  return c.text(`slept ${ms} ms\n`);
});

app.notFound((c) => c.text("no such page\n", 404));

const server = serve(app, { hostname: "127.0.0.1", port: portArg(8009) });
console.log(`Hono app on http://127.0.0.1:${server.addr.port}/`);

console.log(`stopping (${await stopRequested()})`);
await server.shutdown();
