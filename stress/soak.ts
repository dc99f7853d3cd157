// Soak: 1M keep-alive HTTP requests and 100k WebSocket echo messages against
// one server process, sampling its RSS and open descriptors as it goes; they
// must stay flat after warm-up, and the descriptors return to the idle count.
//
//   deno run -A --unstable-net stress/soak.ts [requests] [wsMessages]

import { connectWebSocket } from "../wsgi/mod.ts";
import { startServerChild } from "./_child.ts";

/** One sample of the server process. */
export interface Sample {
  requests: number;
  rssKiB: number;
  fds: number;
  /** V8 heap in use, KiB (filled in a moment after the sample). */
  heapKiB?: number;
}

/** What a soak run measured. */
export interface SoakResult {
  requests: number;
  wsMessages: number;
  seconds: number;
  idleFds: number;
  warmup: Sample;
  last: Sample;
  samples: Sample[];
  maxRssAfterWarmup: number;
  minRssAfterWarmup: number;
  fdsAfterWarmup: number[];
  fdsAfterClose: number;
  /** RSS within 10% of its warm-up value after it, descriptors back to idle. */
  flat: boolean;
  failures: string[];
}

const HTTP_CONNECTIONS = 64;
const WS_CONNECTIONS = 10;
const REQUEST = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: h\r\n\r\n");

/** Runs the soak; `log` gets progress lines. */
export async function soak(
  requests = 1_000_000,
  wsMessages = 100_000,
  log: (line: string) => void = console.error,
): Promise<SoakResult> {
  const server = await startServerChild();
  // Deno opens a pipe of its own a moment after start: let it settle first.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idleFds = server.fds();
  const samples: Sample[] = [];
  const heapQueries: Promise<unknown>[] = [];
  const failures: string[] = [];
  let done = 0;
  const every = Math.max(1, Math.floor(requests / 20));
  const started = performance.now();

  const httpClient = async (count: number) => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    const buf = new Uint8Array(65536);
    let responseLength = 0;
    let have = 0;
    try {
      for (let i = 0; i < count; i++) {
        await conn.write(REQUEST);
        if (responseLength === 0) {
          // The first response tells the (fixed) size of every response.
          let text = "";
          while (!/\r\n\r\nok$/.test(text)) {
            const n = await conn.read(buf);
            if (n === null) throw new Error("closed");
            text += new TextDecoder().decode(buf.subarray(0, n));
          }
          responseLength = text.length;
          if (!text.startsWith("HTTP/1.1 200 ")) {
            failures.push(text.slice(0, 40));
          }
        } else {
          while (have < responseLength) {
            const n = await conn.read(buf.subarray(have));
            if (n === null) throw new Error("closed mid-response");
            have += n;
          }
          if (
            have !== responseLength || buf[9] !== 0x32 || buf[have - 1] !== 0x6b
          ) {
            failures.push(`bad response of ${have} bytes`);
          }
          have = 0;
        }
        if (++done % every === 0) {
          const sample: Sample = {
            requests: done,
            rssKiB: server.rss(),
            fds: server.fds(),
          };
          samples.push(sample);
          heapQueries.push(
            server.memory().then((m) => (sample.heapKiB = m.heapUsed >> 10)),
          );
          log(
            `soak: ${done} requests, server RSS ${
              (sample.rssKiB / 1024).toFixed(1)
            } MiB, ${sample.fds} fds`,
          );
        }
      }
    } finally {
      conn.close();
    }
  };

  let echoed = 0;
  const wsClient = async (count: number, seed: number) => {
    const ws = await connectWebSocket(`ws://127.0.0.1:${server.port}/ws`, {
      compression: false,
    });
    try {
      for (let i = 0; i < count; i++) {
        const size = (seed * 7919 + i * 104729) % 1000;
        const message = i % 2 === 0
          ? "m".repeat(size)
          : new Uint8Array(size).fill(i & 0xff);
        await ws.send(message);
        const back = await ws.receive();
        const same = typeof message === "string"
          ? back === message
          : back instanceof Uint8Array && back.length === size &&
            (size === 0 || back[0] === (i & 0xff));
        if (!same) failures.push(`ws echo ${seed}/${i} differs`);
        echoed++;
      }
    } finally {
      await ws.close();
    }
  };

  const perHttp = Math.ceil(requests / HTTP_CONNECTIONS);
  const perWs = Math.ceil(wsMessages / WS_CONNECTIONS);
  await Promise.all([
    ...Array.from({ length: HTTP_CONNECTIONS }, () => httpClient(perHttp)),
    ...Array.from({ length: WS_CONNECTIONS }, (_, i) => wsClient(perWs, i + 1)),
  ]);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(heapQueries);
  // Once every client has gone, the server is back to its idle descriptors.
  let fdsAfterClose = server.fds();
  for (let i = 0; i < 500 && fdsAfterClose > idleFds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    fdsAfterClose = server.fds();
  }
  const stopped = await server.stop();
  if (stopped.code !== 0 || stopped.stderr.trim() !== "") {
    failures.push(
      `server exit ${stopped.code}: ${stopped.stderr.slice(0, 500)}`,
    );
  }
  // Warm-up: the first half (V8 and the allocator grow their pools to the
  // working size meanwhile); a leak would go on growing in the second half.
  const warmupIndex = samples.findIndex((s) => s.requests >= requests / 2);
  const warmup = samples[warmupIndex];
  const after = samples.slice(warmupIndex);
  const maxRss = Math.max(...after.map((s) => s.rssKiB));
  const minRss = Math.min(...after.map((s) => s.rssKiB));
  const flat = maxRss <= warmup.rssKiB * 1.1 && fdsAfterClose === idleFds;
  if (!flat) failures.push("RSS or descriptors not flat after warm-up");
  return {
    requests: done,
    wsMessages: echoed,
    seconds,
    idleFds,
    warmup,
    last: samples.at(-1)!,
    samples,
    maxRssAfterWarmup: maxRss,
    minRssAfterWarmup: minRss,
    fdsAfterWarmup: [...new Set(after.map((s) => s.fds))],
    fdsAfterClose,
    flat,
    failures,
  };
}

if (import.meta.main) {
  const result = await soak(
    Number(Deno.args[0] ?? 1_000_000),
    Number(Deno.args[1] ?? 100_000),
  );
  console.log(JSON.stringify(result, null, 2));
  if (result.failures.length > 0) Deno.exit(1);
}
