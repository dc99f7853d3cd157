// The server the soak and churn runs measure, in its own process so that its
// RSS and descriptors are its own: `/` answers "ok", `/ws` echoes WebSocket
// messages, `/mem` tells Deno.memoryUsage(). Prints its port; shuts down
// gracefully when its stdin closes.

import { serve, upgradeWebSocket } from "../wsgi/mod.ts";

const server = serve(async (environ, startResponse) => {
  if (environ.PATH_INFO === "/ws") {
    const ws = await upgradeWebSocket(environ, { compression: false });
    for await (const message of ws) await ws.send(message);
    return;
  }
  if (environ.PATH_INFO === "/mem") {
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return JSON.stringify(Deno.memoryUsage());
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return "ok";
}, {
  port: 0,
  keepAliveTimeout: 60_000,
  onError: (error) => console.error("server error:", error),
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) {
  // Runs until the parent closes our stdin.
}
await server.shutdown();
