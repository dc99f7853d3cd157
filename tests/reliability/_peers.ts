// Other HTTP/1.1 servers to compare with: Deno.serve (hyper), Deno's
// node:http, and Node.js itself (llhttp) in a child process when `node` is
// installed. Each answers every request with its path, after reading the body.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A running peer server. */
export interface Peer {
  name: string;
  port: number;
  close(): Promise<void>;
}

/** Deno.serve on a free loopback port. */
export function startDenoServe(): Promise<Peer> {
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        resolve({ name: "Deno.serve", port, close: () => server.shutdown() }),
    }, async (request) => {
      await request.arrayBuffer();
      return new Response(new URL(request.url).pathname);
    });
  });
}

/** Deno's node:http server on a free loopback port. */
export function startNodeHttp(): Promise<Peer> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      req.on("data", () => {});
      req.on("end", () => res.end(req.url));
      req.on("error", () => {});
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        name: "node:http (Deno)",
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

const NODE_SCRIPT = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => res.end(req.url));
  req.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
`;

/** Node.js (llhttp) in a child process; `undefined` when `node` is missing. */
export async function startNodeJs(): Promise<Peer | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("node", {
      args: ["-e", NODE_SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const version = await nodeVersion();
  return {
    name: `Node.js ${version}`,
    port: Number(text.trim()),
    close: async () => {
      // Closing its stdin ends it (no signal needed).
      await child.stdin.close();
      await child.stdout.cancel();
      await child.status;
    },
  };
}

async function nodeVersion(): Promise<string> {
  const out = await new Deno.Command("node", { args: ["--version"] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}
