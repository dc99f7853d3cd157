/**
 * `select` over channels, Go style: wait on several sends and receives at
 * once, take whichever is ready first (at random among ready ones, so none
 * starves), give up after a timeout, or poll without waiting.
 *
 *     deno run -A examples/select.ts
 *
 * A ticker and a slower news feed send to two channels; a consumer also
 * offers each result on an `out` channel that a logger drains slowly. The
 * consumer stops when a `quit` channel speaks, or after a silent second.
 *
 * @module
 */
import {
  Channel,
  select,
  sleep,
  spawn,
  TimeoutError,
} from "@syncless/syncless";

const ticks = new Channel<number>();
const news = new Channel<string>();
const out = new Channel<string>();
const quit = new Channel<string>();

const ticker = spawn(async () => {
  for (let i = 1; i <= 6; i++) {
    await sleep(50);
    await ticks.send(i);
  }
});
spawn(async () => {
  for (const headline of ["rain", "sun", "snow"]) {
    await sleep(120);
    await news.send(headline);
  }
  await ticker.join(); // quit only once every tick has been taken
  await quit.send("no more news");
});
const logger = spawn(async () => {
  for await (const line of out) {
    console.log(`  logged: ${line}`);
    await sleep(30); // a slow consumer: pending results wait in `select`
  }
});

// `select` returns the index of the case that happened and what it received.
const pending: string[] = [];
try {
  for (;;) {
    const cases = [
      { receive: ticks },
      { receive: news },
      { receive: quit },
      // Offer the oldest result to the logger, but only while there is one.
      ...(pending.length > 0 ? [{ send: out, value: pending[0] }] : []),
    ];
    const { index, value } = await select<number | string>(cases, {
      timeout: 1000,
    });
    if (index === 0) pending.push(`tick ${value}`);
    else if (index === 1) pending.push(`news: ${value}`);
    else if (index === 2) {
      console.log(`quit: ${value}`);
      break;
    } else console.log(`sent "${pending.shift()}" to the logger`);
  }
} catch (error) {
  if (!(error instanceof TimeoutError)) throw error;
  console.log("nothing for a second: giving up");
}

// `default: true` never waits: index -1 when nothing is ready.
const poll = await select([{ receive: ticks }], { default: true });
console.log(`poll after the end: index ${poll.index} (nothing ready)`);
console.log(`${pending.length} results were never logged`);
out.close();
await logger.join();
