/**
 * One deadline over several reads, three ways (Syncless's
 * demo_multi_read_timeout*): read lines for `TOTAL_MS` in all, not per read.
 *
 *  1. `runWithTimeout`: the reads run in their own tasklet, killed at the end.
 *  2. `receiveWithTimeout`: a reader tasklet feeds a channel; we wait on the
 *     channel with the time that is left, then kill the reader.
 *  3. `moveOnAfter`: a timeout scope around the reads in this very tasklet
 *     (Syncless's `with Timeout(...)`); `scope.change()` restarts the clock.
 *
 *     deno run -A examples/multi_read_timeout.ts           # a slow talker
 *     deno run -A examples/multi_read_timeout.ts --stdin   # type lines
 *
 * No line is lost: a read cut short leaves its data for the next one.
 * @module
 */
import {
  Channel,
  moveOnAfter,
  type NbFile,
  receiveWithTimeout,
  runWithTimeout,
  sleep,
  socketpair,
  spawn,
  stdio,
} from "@syncless/syncless";

const fromStdin = Deno.args.includes("--stdin");
const total = Number(Deno.env.get("TOTAL_MS") ?? (fromStdin ? 5000 : 1000));
const decoder = new TextDecoder();

// The source: stdin, or a tasklet writing a line every 300 ms to a socket.
let source: NbFile;
if (fromStdin) {
  source = stdio();
  console.log(`type lines; each style reads for ${total} ms`);
} else {
  const [talker, listener] = await socketpair();
  spawn(async () => {
    for (let n = 1;; n++) {
      await sleep(300);
      await talker.sendall(`line ${n}\n`);
    }
  });
  source = listener.makefile();
}

async function readLine(): Promise<string> {
  const line = await source.readlineStripend();
  if (line === null) throw new Error("end of input");
  return decoder.decode(line);
}

function report(style: string, lines: string[], timedOut: boolean): void {
  const end = timedOut ? "then timed out" : "in time";
  console.log(`${style}: ${lines.length} lines [${lines.join(", ")}], ${end}`);
}

// 1. runWithTimeout: returns "timeout" (the default value) when killed.
let lines: string[] = [];
const readAll = async () => {
  for (;;) lines.push(await readLine());
};
const result = await runWithTimeout(readAll, total, "timeout");
report("runWithTimeout", lines, result === "timeout");

// 2. receiveWithTimeout: the asker keeps track of the time left.
lines = [];
const channel = new Channel<string>();
const reader = spawn(async () => {
  for (;;) await channel.send(await readLine());
});
const end = Date.now() + total;
let timedOut = false;
while (!timedOut) {
  const line = await receiveWithTimeout(channel, end - Date.now(), null);
  if (line === null) timedOut = true;
  else lines.push(line);
}
// A line the reader read in time but could not hand over yet is not lost.
const late = channel.tryReceive();
if (late.state === "ok") lines.push(late.value);
reader.kill();
report("receiveWithTimeout", lines, timedOut);

// 3. moveOnAfter: undefined means the scope's own timeout fired.
lines = [];
const done = await moveOnAfter(total, async (scope) => {
  for (;;) {
    lines.push(await readLine());
    // The first line restarts the clock: a slow start is forgiven.
    if (lines.length === 1) scope.change(total);
  }
});
report("moveOnAfter", lines, done === undefined);

Deno.exit(0); // ends the talker, or the pending read of stdin
