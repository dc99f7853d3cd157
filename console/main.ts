/**
 * Entry point of `deno task console`: runs the interactive console, then
 * ends the process with status 0 (tasklets started in the console, such as
 * servers, would otherwise keep it alive).
 *
 * @module
 */
import { runConsole } from "./console.ts";

if (import.meta.main) {
  await runConsole();
  Deno.exit(0);
}
