// The entry point of each extra worker of `serve(url, { workers })`: it
// imports the app module and serves on the shared port until told to stop.

/// <reference lib="deno.worker" />

import type { HttpServer } from "./http_server.ts";
import { checkOptions, serveHere } from "./_server.ts";
import type { ServeOptions } from "./serve.ts";

let server: HttpServer | undefined;

self.onmessage = (event: MessageEvent) => {
  const message = event.data as {
    type: string;
    moduleUrl?: string;
    options?: ServeOptions;
  };
  if (message.type === "start") {
    try {
      const config = checkOptions(message.options ?? {});
      server = serveHere(message.moduleUrl!, message.moduleUrl, config, true);
    } catch (error) {
      self.postMessage({ type: "error", error: describe(error) });
      return;
    }
    self.postMessage({ type: "listening" });
    server.finished.then(
      () => self.postMessage({ type: "finished" }),
      (error) => self.postMessage({ type: "error", error: describe(error) }),
    );
  } else if (message.type === "shutdown") {
    if (server === undefined) self.postMessage({ type: "finished" });
    else server.shutdown().catch(() => {});
  }
};

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? error.message)
    : String(error);
}
