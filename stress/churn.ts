// Connection churn: 100k short connections (one request each, Connection:
// close) against one server process, 50 at a time; every one answered, and
// the server's descriptors and RSS back to where they were.
//
//   deno run -A --unstable-net stress/churn.ts [connections]

import { exchangeRaw, pool, responsesOf } from "../tests/reliability/_net.ts";
import { startServerChild } from "./_child.ts";

/** What a churn run measured. */
export interface ChurnResult {
  connections: number;
  seconds: number;
  perSecond: number;
  idleFds: number;
  fdsAfter: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  heapBeforeKiB: number;
  heapAfterKiB: number;
  failures: string[];
}

const REQUEST = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
);

/** Runs the churn; `log` gets progress lines. */
export async function churn(
  connections = 100_000,
  log: (line: string) => void = console.error,
): Promise<ChurnResult> {
  const server = await startServerChild();
  // Deno opens a pipe of its own a moment after start: let it settle first.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idleFds = server.fds();
  const rssBeforeKiB = server.rss();
  const heapBeforeKiB = (await server.memory()).heapUsed >> 10;
  const failures: string[] = [];
  let done = 0;
  const every = Math.max(1, Math.floor(connections / 10));
  const started = performance.now();
  await pool(connections, 50, async () => {
    const result = await exchangeRaw(server.port, REQUEST, 10_000);
    const responses = responsesOf(result.data);
    if (
      responses.length !== 1 || responses[0].status !== 200 || result.timedOut
    ) {
      failures.push(`bad exchange: ${responses.map((r) => r.status)}`);
    }
    if (++done % every === 0) {
      log(
        `churn: ${done} connections, server ${server.fds()} fds, RSS ${
          (server.rss() / 1024).toFixed(1)
        } MiB`,
      );
    }
  });
  const seconds = (performance.now() - started) / 1000;
  let fdsAfter = server.fds();
  for (let i = 0; i < 500 && fdsAfter > idleFds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    fdsAfter = server.fds();
  }
  const rssAfterKiB = server.rss();
  const heapAfterKiB = (await server.memory()).heapUsed >> 10;
  if (fdsAfter !== idleFds) {
    failures.push(`descriptors ${fdsAfter}, idle ${idleFds}`);
  }
  const stopped = await server.stop();
  if (stopped.code !== 0 || stopped.stderr.trim() !== "") {
    failures.push(
      `server exit ${stopped.code}: ${stopped.stderr.slice(0, 500)}`,
    );
  }
  return {
    connections: done,
    seconds,
    perSecond: Math.round(done / seconds),
    idleFds,
    fdsAfter,
    rssBeforeKiB,
    rssAfterKiB,
    heapBeforeKiB,
    heapAfterKiB,
    failures,
  };
}

if (import.meta.main) {
  const result = await churn(Number(Deno.args[0] ?? 100_000));
  console.log(JSON.stringify(result, null, 2));
  if (result.failures.length > 0) Deno.exit(1);
}
