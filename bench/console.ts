// Console benchmarks: what the per-session scope costs.
//
//   deno run -A bench/console.ts [--reps=5]
//
// 1. One small input, evaluated: our evaluator (rewrite, compile with an
//    indirect eval inside `with (scope)`, run) against a bare indirect eval
//    of the same text at global scope, and a bare `new AsyncFunction` (what
//    top-level await needs at least); every call compiles a new text.
// 2. A loop over a session variable (every access is a `with` lookup)
//    against the same loop in a bare indirect eval (global `var`); and the
//    loop inside a function typed into the console (its locals are plain).
// 3. A remote console round trip over loopback TCP (send `1 + 1\n`, read up
//    to the next prompt) against a bare line echo server on coio sockets.
// Ours and the alternatives alternate within each rep; medians are printed.

import { Evaluator } from "../console/_evaluator.ts";
import { startRemoteConsole } from "../console/remote_console.ts";
import { listen } from "../coio/nb_listener.ts";
import { spawn } from "../coio/spawn.ts";

const reps = Number(
  Deno.args.find((a) => a.startsWith("--reps="))?.slice(7) ?? 5,
);
const AsyncFunction = Object.getPrototypeOf(async function () {})
  .constructor as new (...args: string[]) => () => Promise<unknown>;

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `fn` `n` times; returns microseconds per call. */
async function time(n: number, fn: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - start) * 1000 / n;
}

const results = new Map<string, number[]>();
function record(name: string, value: number): void {
  if (!results.has(name)) results.set(name, []);
  results.get(name)!.push(value);
}

// 1 and 2
const evaluator = new Evaluator([{ answer: 40 }]);
await evaluator.evaluate("let x = 2");
await evaluator.evaluate(
  "function sum() { let s = 0; for (let i = 0; i < 100000; i++) s += i; return s }",
);
(globalThis as Record<string, unknown>).benchX = 2;
const loop = "let s = 0; for (let i = 0; i < 100000; i++) s += i; s";
const globalLoop =
  "var benchS = 0; for (let i = 0; i < 100000; i++) benchS += i; benchS";
let unique = 0;
for (let rep = 0; rep < reps; rep++) {
  record("input: ours", await time(2000, () => evaluator.evaluate("x * 21")));
  // Each alternative compiles a new text too (V8 caches identical ones).
  record(
    "input: indirect eval",
    await time(2000, () => (0, eval)(`benchX * 21 // ${++unique}`)),
  );
  record(
    "input: new AsyncFunction",
    await time(
      2000,
      () => new AsyncFunction(`return benchX * 21 // ${++unique}`)(),
    ),
  );
  record("loop: ours", await time(20, () => evaluator.evaluate(loop)));
  record(
    "function loop: ours",
    await time(20, () => evaluator.evaluate("sum()")),
  );
  record("loop: indirect eval", await time(20, () => (0, eval)(globalLoop)));
}

// 3
const encoder = new TextEncoder();
async function roundTrips(port: number, prompt: string, n: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(65536);
  const decoder = new TextDecoder();
  let text = "";
  const readUntil = async (marker: string) => {
    while (!text.includes(marker)) {
      const got = await conn.read(buffer);
      if (got === null) throw new Error("EOF");
      text += decoder.decode(buffer.subarray(0, got));
    }
    text = text.slice(text.indexOf(marker) + marker.length);
  };
  if (prompt !== "") await readUntil(prompt);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await conn.write(encoder.encode("1 + 1\n"));
    await readUntil(prompt === "" ? "\n" : prompt);
  }
  const perTrip = (performance.now() - start) * 1000 / n;
  conn.close();
  return perTrip;
}

const server = startRemoteConsole({ port: 0, log: () => {} });
const echo = listen({ hostname: "127.0.0.1", port: 0 });
const echoing = spawn(async () => {
  for await (const socket of echo) {
    spawn(async () => {
      const file = socket.makefile({ writeBufferLimit: 0 });
      for (let line; (line = await file.readline()).length > 0;) {
        await file.write(line);
      }
      socket.close();
    });
  }
});
for (let rep = 0; rep < reps; rep++) {
  record(
    "round trip: remote console",
    await roundTrips(server.addr.port, "\0\r\0\r\r> \0", 500),
  );
  record("round trip: line echo", await roundTrips(echo.addr.port, "", 500));
}
await server.close();
echo.close();
await echoing.join().catch(() => {});

const rows: [string, string, string][] = [
  ["one input `x * 21`", "input: ours", "input: indirect eval"],
  ["", "input: ours", "input: new AsyncFunction"],
  [
    "loop of 100 000 `s += i` on a session variable",
    "loop: ours",
    "loop: indirect eval",
  ],
  [
    "the same loop in a function typed into the console (locals)",
    "function loop: ours",
    "loop: indirect eval",
  ],
  [
    "remote console round trip (`1 + 1`)",
    "round trip: remote console",
    "round trip: line echo",
  ],
];
console.log(`reps: ${reps}; medians in microseconds per operation\n`);
console.log("| case | ours | alternative | alternative µs | ratio |");
console.log("| --- | ---: | --- | ---: | ---: |");
for (const [label, ours, other] of rows) {
  const a = median(results.get(ours)!);
  const b = median(results.get(other)!);
  console.log(
    `| ${label} | ${a.toFixed(1)} | ${other.split(": ")[1]} | ${
      b.toFixed(1)
    } | ${(a / b).toFixed(1)} |`,
  );
}
