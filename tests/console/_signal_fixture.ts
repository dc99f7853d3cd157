// A process that lets SIGUSR1 start its remote console, for the tests: it
// prints "ready <port file>" and the console's log lines, then runs until
// its stdin closes.
import { enableRemoteConsoleOnSignal } from "../../console/mod.ts";

const backdoor = enableRemoteConsoleOnSignal({
  scope: { marker: "fixture" },
  log: (message) => console.log(message),
});
console.log(`ready ${backdoor.portFile}`);
for await (const _ of Deno.stdin.readable) {
  // Only waiting for EOF.
}
await backdoor.disable();
