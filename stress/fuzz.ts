// The long fuzz runs: 1M request heads and 1M chunk-size lines through the
// pure parsers, 100k WebSocket client streams in memory, 10k NbFile model
// scripts, and (smaller, real sockets) 20k HTTP requests and 10k WebSocket
// streams. Same checks as tests/reliability/, more cases, another seed.
//
//   deno run -A --unstable-net stress/fuzz.ts [scale]   (scale 1 = the counts above)

import { runChunkFuzz, runHeadFuzz } from "../tests/reliability/_http_check.ts";
import { runNbFileModel } from "../tests/reliability/_nb_file_model.ts";
import {
  fuzzServer,
  runSocketFuzz,
} from "../tests/reliability/_socket_fuzz.ts";
import {
  runWsFuzzInMemory,
  runWsFuzzOverSockets,
} from "../tests/reliability/_ws_fuzz.ts";

/** One fuzz part's figures. */
export interface FuzzPart {
  name: string;
  cases: number;
  seconds: number;
  detail: unknown;
}

/** Runs every fuzz part with seed `seed`, counts times `scale`. */
export async function fuzz(
  seed = 7,
  scale = 1,
  log: (line: string) => void = console.error,
): Promise<FuzzPart[]> {
  const parts: FuzzPart[] = [];
  const timed = async (
    name: string,
    cases: number,
    run: () => unknown | Promise<unknown>,
  ) => {
    const started = performance.now();
    const detail = await run();
    const seconds = (performance.now() - started) / 1000;
    parts.push({ name, cases, seconds, detail });
    log(
      `fuzz: ${name}: ${cases} cases in ${seconds.toFixed(1)} s ${
        JSON.stringify(detail)
      }`,
    );
  };
  const n = (count: number) => Math.max(1, Math.round(count * scale));

  await timed("request-head parser", n(1_000_000), () => {
    // In slices of 100k, so that progress shows.
    const total = {
      cases: 0,
      accepted: 0,
      incomplete: 0,
      rejectedEarly: 0,
      byStatus: {} as Record<number, number>,
    };
    for (let first = 0; first < n(1_000_000); first += 100_000) {
      const stats = runHeadFuzz(
        seed,
        Math.min(100_000, n(1_000_000) - first),
        first,
      );
      total.cases += stats.cases;
      total.accepted += stats.accepted;
      total.incomplete += stats.incomplete;
      total.rejectedEarly += stats.rejectedEarly;
      for (const [status, count] of Object.entries(stats.byStatus)) {
        total.byStatus[Number(status)] = (total.byStatus[Number(status)] ?? 0) +
          count;
      }
      log(`fuzz: request heads: ${total.cases}`);
    }
    return total;
  });
  await timed(
    "chunk-size lines and trailers",
    n(1_000_000),
    () => runChunkFuzz(seed, n(1_000_000)),
  );
  await timed(
    "WebSocket frames, in memory",
    n(100_000),
    () => runWsFuzzInMemory(seed, n(100_000)),
  );
  await timed(
    "NbFile model scripts",
    n(10_000),
    () => runNbFileModel(seed, n(10_000)),
  );
  await timed("HTTP requests over sockets", n(20_000), async () => {
    const errors: unknown[] = [];
    const server = fuzzServer(errors);
    try {
      const stats = await runSocketFuzz(server.addr.port!, seed, n(20_000));
      if (errors.length > 0) throw new Error(`server errors: ${errors}`);
      return stats;
    } finally {
      await server.shutdown();
    }
  });
  await timed(
    "WebSocket frames over sockets",
    n(10_000),
    () => runWsFuzzOverSockets(seed, n(10_000)),
  );
  return parts;
}

if (import.meta.main) {
  const parts = await fuzz(7, Number(Deno.args[0] ?? 1));
  console.log(JSON.stringify(parts, null, 2));
}
