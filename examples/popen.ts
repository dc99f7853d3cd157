/**
 * Subprocesses through `popen` (Syncless's demo_popen): an `NbFile` over a
 * child's pipes, so reading its output or waiting for it blocks only the
 * calling tasklet; `close()` waits for the child and resolves to its exit
 * code (Syncless returned `0xa00` for exit 10; we return 10).
 *
 *     deno run -A examples/popen.ts
 *
 * @module
 */
import { popen, sleep, spawn } from "@syncless/syncless";

const decoder = new TextDecoder();

// A ticker shows that the program goes on while children run.
let ticks = 0;
const ticker = spawn(async () => {
  for (;;) {
    await sleep(100);
    ticks++;
  }
});

// 1. Read a command's output line by line (a string runs through `sh -c`).
const slow = await popen("for i in 1 2 3; do echo step $i; sleep 0.2; done");
for await (const line of slow) {
  console.log(`child says: ${decoder.decode(line).trimEnd()}`);
}
console.log(`exit code ${await slow.close()}; ${ticks} ticks meanwhile`);

// 2. Both ways ("r+"): write to the child's stdin, close it, read the result.
const upper = await popen(["tr", "a-z", "A-Z"], { mode: "r+" });
await upper.write("hello from a tasklet\n");
await upper.closeWrite(); // flushes, and the child sees EOF
console.log(`tr answered: ${decoder.decode(await upper.read()).trimEnd()}`);
console.log(`exit code ${await upper.close()}`);

// 3. Exit codes come back from close().
const failing = await popen("echo about to fail; exit 10");
console.log(`output: ${decoder.decode(await failing.read()).trimEnd()}`);
console.log(`exit code ${await failing.close()}`);

// 4. Several children at once, each waited for in its own tasklet.
const started = performance.now();
const sleepers = [1, 2, 3].map((n) =>
  spawn(async () => {
    const child = await popen(`sleep 0.3; echo sleeper ${n}`);
    return decoder.decode(await child.read()).trim() +
      ` (exit ${await child.close()})`;
  })
);
for (const sleeper of sleepers) console.log(await sleeper.join());
console.log(
  `3 x 0.3 s children took ${
    Math.round(performance.now() - started)
  } ms in all`,
);

ticker.kill();
