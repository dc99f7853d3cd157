import { CancelScope } from "./_scope.ts";
import { currentStore, type Tasklet } from "./tasklet.ts";

/**
 * Returns the running tasklet. Outside any spawned tasklet this is the main
 * tasklet (id 0, named `"main"`). It is found through the async context, so
 * it stays right across nested `await`s.
 *
 * @example
 * ```ts
 * import { current, spawn } from "@syncless/syncless/coio";
 *
 * console.log(current().name); // "main"
 * await spawn({ name: "worker" }, () => console.log(current().name)).join();
 * ```
 */
export function current(): Tasklet {
  const store = currentStore();
  return store instanceof CancelScope ? store.tasklet : store;
}
