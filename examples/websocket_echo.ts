/**
 * A WebSocket echo server with a browser page, on Syncless's own HTTP
 * server. Open http://127.0.0.1:8080/ and type: every message comes back.
 *
 * Run: `deno run -A examples/websocket_echo.ts [port]`
 *
 * @module
 */
import {
  type Environ,
  serve,
  type StartResponse,
  upgradeWebSocket,
  type WsgiApp,
} from "../wsgi/mod.ts";

// The page is read once, at start-up.
const page = await Deno.readTextFile(
  new URL("./websocket_echo.html", import.meta.url),
);

/**
 * The app: `/` is the page, `/ws` the WebSocket that echoes, anything else
 * a 404. A plain WSGI-style function, so any Syncless server can run it.
 */
export const echoApp: WsgiApp = async (
  environ: Environ,
  startResponse: StartResponse,
) => {
  if (environ.PATH_INFO === "/ws") {
    // Throws an HttpError (answered with 400 or 426) for a bad upgrade.
    const ws = await upgradeWebSocket(environ);
    // Each message is sent back as it is: text as text, bytes as bytes.
    // The loop ends when the client closes (the close handshake is done
    // for us) or breaks the protocol (we answer with a close frame).
    for await (const message of ws) await ws.send(message);
    // Nothing to return: the connection now belongs to the WebSocket.
    return;
  }
  if (environ.PATH_INFO === "/") {
    startResponse("200 OK", [["Content-Type", "text/html; charset=utf-8"]]);
    return page;
  }
  startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
  return "not found\n";
};

if (import.meta.main) {
  const port = Number(Deno.args[0] ?? 8080);
  const server = serve(echoApp, { port });
  console.log(`open http://127.0.0.1:${server.addr.port}/`);
  // Ctrl-C: stop taking connections, let the open ones finish.
  Deno.addSignalListener("SIGINT", () => server.shutdown());
  await server.finished;
}
