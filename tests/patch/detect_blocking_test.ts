import assert from "node:assert/strict";
import { sleep } from "../../coio/sleep.ts";
import { spawn } from "../../coio/spawn.ts";
import { waitFor } from "../../coio/wait_for.ts";
import {
  type BlockReport,
  detectBlocking,
} from "../../patch/detect_blocking.ts";

function busy(ms: number): number {
  let spins = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) spins++;
  return spins;
}

/**
 * A detector whose reports are kept; `find(name)` waits (3 s at most) for a
 * report naming that tasklet. Reports of other stalls (a loaded machine can
 * pause the process) are skipped, not failed on.
 */
function collect(thresholdMs: number) {
  const reports: BlockReport[] = [];
  let wake: (() => void) | undefined;
  const stop = detectBlocking({
    thresholdMs,
    onBlock: (report) => {
      reports.push(report);
      wake?.();
    },
  });
  const find = async (name: string): Promise<BlockReport> => {
    const deadline = performance.now() + 3000;
    for (;;) {
      const found = reports.find((r) => r.taskletName === name);
      if (found !== undefined) return found;
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`no report for ${name}: ${JSON.stringify(reports)}`);
      }
      await waitFor(new Promise<void>((resolve) => (wake = resolve)), {
        timeout: left,
      });
    }
  };
  return { reports, find, stop };
}

Deno.test("detectBlocking: a 200 ms busy loop in a tasklet is reported with its name", async () => {
  const { find, stop } = collect(100);
  try {
    await spawn({ name: "hog" }, () => busy(200)).join();
    const report = await find("hog");
    assert.equal(report.tasklet?.name, "hog");
    assert.ok(report.durationMs >= 200, `durationMs ${report.durationMs}`);
    assert.ok(report.durationMs < 2000, `durationMs ${report.durationMs}`);
  } finally {
    stop();
  }
});

Deno.test("detectBlocking: the busy tasklet is named among others that yield", async () => {
  const { find, stop } = collect(100);
  try {
    const ticks: number[] = [];
    const ticker = spawn({ name: "ticker" }, async () => {
      for (let i = 0; i < 20; i++) {
        ticks.push(i);
        await sleep(5);
      }
    });
    const hog = spawn({ name: "hog2" }, async () => {
      await sleep(20);
      busy(200);
      await sleep(1); // yields through a coio wait this time
    });
    await hog.join();
    await ticker.join();
    const report = await find("hog2");
    assert.ok(report.durationMs >= 200, `durationMs ${report.durationMs}`);
    assert.equal(ticks.length, 20);
  } finally {
    stop();
  }
});

Deno.test("detectBlocking: a stall outside any tasklet is reported without a name", async () => {
  const reports: BlockReport[] = [];
  let wake: () => void = () => {};
  const reported = new Promise<void>((resolve) => (wake = resolve));
  const stop = detectBlocking({
    thresholdMs: 100,
    onBlock(report) {
      reports.push(report);
      // Shorter stalls may come from a loaded machine pausing the process.
      if (report.durationMs >= 250) wake();
    },
  });
  // Nothing yields through a coio wait between the stall and the watchdog,
  // so no tasklet is charged with it.
  const timer = setTimeout(() => busy(300), 10);
  // The watchdog does not keep the process alive: this bounded timer does.
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      reported,
      new Promise((_resolve, reject) => {
        guard = setTimeout(() => reject(new Error("no report")), 2000);
      }),
    ]);
    const report = reports.find((r) => r.durationMs >= 250)!;
    assert.equal(report.taskletName, undefined);
    assert.equal(report.tasklet, undefined);
    assert.ok(report.durationMs <= 2000, `${report.durationMs}`);
  } finally {
    clearTimeout(timer);
    clearTimeout(guard);
    stop();
  }
});

Deno.test("detectBlocking: nothing is reported after stop(), and `using` stops it", async () => {
  const { reports, stop } = collect(50);
  stop();
  stop(); // a no-op
  await spawn(() => busy(120)).join();
  await sleep(60);
  assert.equal(reports.length, 0);
  {
    using _detector = detectBlocking({ thresholdMs: 50, onBlock() {} });
  }
  // The test sanitizers check that no watchdog timer is left behind.
});

Deno.test("detectBlocking: the default report is one console.warn line", async () => {
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warned.push(args.join(" "));
  const stop = detectBlocking({ thresholdMs: 100 });
  try {
    await spawn({ name: "loud" }, () => busy(150)).join();
    for (let i = 0; i < 150 && !warned.some((w) => w.includes("loud")); i++) {
      await sleep(20);
    }
  } finally {
    stop();
    console.warn = warn;
  }
  const line = warned.find((w) => w.includes("loud"));
  assert.match(line ?? "", /blocked for \d+ ms by tasklet "loud"/);
});

Deno.test("detectBlocking: bad options throw typed errors", () => {
  assert.throws(() => detectBlocking({ thresholdMs: 0 }), RangeError);
  assert.throws(() => detectBlocking({ thresholdMs: -5 }), RangeError);
  assert.throws(() => detectBlocking({ thresholdMs: NaN }), RangeError);
  assert.throws(
    () => detectBlocking({ thresholdMs: "10" as unknown as number }),
    RangeError,
  );
  assert.throws(
    () => detectBlocking({ onBlock: 5 as unknown as () => void }),
    TypeError,
  );
});
