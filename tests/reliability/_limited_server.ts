// A serve() for the descriptor-exhaustion test, run in a child process with a
// low `ulimit -n`: prints its port, reports errors on stderr, and shuts down
// gracefully when its stdin closes.

import { serve } from "../../wsgi/mod.ts";

const server = serve((_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return "ok";
}, {
  port: 0,
  headersTimeout: 60_000,
  keepAliveTimeout: 60_000,
  onError: (error) => console.error("server error:", error),
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) {
  // Runs until the parent closes our stdin.
}
await server.shutdown();
