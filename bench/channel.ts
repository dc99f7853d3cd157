/**
 * Rendezvous ping-pong: two tasklets, two unbuffered channels; one round trip
 * is a send and a receive each way. Compares, side by side in one process:
 *
 * - coio `Channel` (default preference -1, and preference 1),
 * - coio `select` on the receiving side (one case per wait),
 * - `npm:ts-chan@0.6.0` `Chan` between two async functions,
 * - raw promise resolvers between two async functions (the practical limit).
 *
 * Trials of each alternate, and the median of each is reported, so that a
 * noisy shared machine skews all of them alike.
 *
 *     deno run -A bench/channel.ts [roundTrips=200000] [trials=7]
 *
 * @module
 */
// A benchmark peer, pinned here rather than in deno.json's imports.
// deno-lint-ignore no-import-prefix
import { Chan } from "npm:ts-chan@0.6.0";
import { Channel, select, spawn } from "../coio/mod.ts";

const roundTrips = Number(Deno.args[0] ?? 200_000);
const trials = Number(Deno.args[1] ?? 7);

async function coioPingPong(n: number, preference: number): Promise<void> {
  const ping = new Channel<number>({ preference });
  const pong = new Channel<number>({ preference });
  const a = spawn(async () => {
    for (let i = 0; i < n; i++) {
      await ping.send(i);
      await pong.receive();
    }
  });
  const b = spawn(async () => {
    for (let i = 0; i < n; i++) await pong.send(await ping.receive());
  });
  await a.join();
  await b.join();
}

async function coioSelectPingPong(n: number): Promise<void> {
  const ping = new Channel<number>();
  const pong = new Channel<number>();
  const cases = [{ receive: ping }];
  const a = spawn(async () => {
    for (let i = 0; i < n; i++) {
      await ping.send(i);
      await pong.receive();
    }
  });
  const b = spawn(async () => {
    for (let i = 0; i < n; i++) {
      const { value } = await select(cases);
      await pong.send(value!);
    }
  });
  await a.join();
  await b.join();
}

async function tsChanPingPong(n: number): Promise<void> {
  const ping = new Chan<number>(0);
  const pong = new Chan<number>(0);
  const a = (async () => {
    for (let i = 0; i < n; i++) {
      await ping.send(i);
      await pong.recv();
    }
  })();
  const b = (async () => {
    for (let i = 0; i < n; i++) {
      const { value } = await ping.recv();
      await pong.send(value!);
    }
  })();
  await Promise.all([a, b]);
}

async function rawPingPong(n: number): Promise<void> {
  let toB: (value: number) => void = () => {};
  let toA: (value: number) => void = () => {};
  const b = (async () => {
    for (let i = 0; i < n; i++) {
      const value = await new Promise<number>((resolve) => toB = resolve);
      toA(value);
    }
  })();
  const a = (async () => {
    for (let i = 0; i < n; i++) {
      const reply = new Promise<number>((resolve) => toA = resolve);
      toB(i);
      await reply;
    }
  })();
  await Promise.all([a, b]);
}

const contenders: [string, (n: number) => Promise<void>][] = [
  ["coio Channel (preference -1)", (n) => coioPingPong(n, -1)],
  ["coio Channel (preference 1)", (n) => coioPingPong(n, 1)],
  ["coio select (receiving side)", coioSelectPingPong],
  ["ts-chan@0.6.0 Chan", tsChanPingPong],
  ["raw promise resolvers", rawPingPong],
];

// Warm up the JIT on every path.
for (const [, run] of contenders) await run(20_000);

const rates = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
for (let t = 0; t < trials; t++) {
  for (const [name, run] of contenders) {
    const start = performance.now();
    await run(roundTrips);
    const seconds = (performance.now() - start) / 1000;
    rates.get(name)!.push(roundTrips / seconds / 1e6);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1];
}

const medians = new Map([...rates].map(([name, r]) => [name, median(r)]));
const ours = medians.get("coio Channel (preference -1)")!;
const tsChan = medians.get("ts-chan@0.6.0 Chan")!;
const raw = medians.get("raw promise resolvers")!;
console.log(
  `rendezvous ping-pong, ${roundTrips} round trips x ${trials} trials (median M round trips/s)`,
);
for (const [name, rate] of medians) {
  console.log(
    `${name.padEnd(32)} ${rate.toFixed(2).padStart(6)} M/s   ` +
      `${(rate / tsChan).toFixed(2)}x ts-chan   ${
        (rate / raw).toFixed(3)
      }x raw`,
  );
}
console.log(
  `coio Channel: ${ours.toFixed(2)} M/s = ${(ours / tsChan).toFixed(2)}x ` +
    `ts-chan, ${(ours / raw).toFixed(3)}x raw`,
);
