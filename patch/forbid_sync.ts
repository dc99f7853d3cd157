import { CancelScope } from "../coio/_scope.ts";
import { BlockingCallError } from "../coio/errors.ts";
import { currentStore } from "../coio/tasklet.ts";
import type { StopFunction } from "./detect_blocking.ts";

/** Options for {@linkcode forbidSync}. */
export interface ForbidSyncOptions {
  /**
   * `"warn"` prints a `console.warn` line naming the call and the tasklet and
   * lets the call run; `"throw"` throws `BlockingCallError` instead.
   *
   * @default {"warn"}
   */
  mode?: "warn" | "throw";
}

interface Replaced {
  target: Record<string, unknown>;
  key: string;
  original: unknown;
  wrapper: unknown;
}

let replaced: Replaced[] | undefined;
let mode: "warn" | "throw" = "warn";
let reporting = false;

/** The running spawned tasklet's name, or undefined in the main tasklet. */
function taskletName(): string | undefined {
  const store = currentStore();
  const tasklet = store instanceof CancelScope ? store.tasklet : store;
  return tasklet.id === 0 ? undefined : tasklet.name;
}

function guard(label: string, original: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...args: unknown[]): unknown {
    const name = taskletName();
    if (name !== undefined && !reporting) {
      if (mode === "throw") throw new BlockingCallError(label, name);
      reporting = true; // console.warn must not re-enter a guarded call
      try {
        console.warn(
          `syncless: ${label}() called in tasklet "${name}" blocks every tasklet; use the async version`,
        );
      } finally {
        reporting = false;
      }
    }
    return original.apply(this, args);
  };
}

function replaceSyncMethods(
  target: Record<string, unknown>,
  prefix: string,
  out: Replaced[],
): void {
  for (const key of Object.getOwnPropertyNames(target)) {
    if (!key.endsWith("Sync")) continue;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (
      descriptor === undefined || typeof descriptor.value !== "function" ||
      !descriptor.writable
    ) continue;
    const original = descriptor.value;
    const wrapper = guard(`${prefix}${key}`, original);
    target[key] = wrapper;
    out.push({ target, key, original, wrapper });
  }
}

/**
 * Catches synchronous `Deno.*Sync` calls (`Deno.readFileSync`,
 * `Deno.statSync`, `Deno.Command#outputSync`, `Deno.FsFile#readSync`, ...)
 * made inside a spawned tasklet: each blocks every tasklet until it returns.
 * In `"warn"` mode a `console.warn` line names the call and the tasklet; in
 * `"throw"` mode the call throws `BlockingCallError` and does not run. Calls
 * from the main tasklet (start-up code, say) are left alone. Calling it again
 * only changes the mode. {@linkcode allowSync}, or the returned function,
 * restores the original functions.
 *
 * @example Warn about a blocking read
 * ```ts
 * import { spawn } from "@syncless/syncless/coio";
 * import { forbidSync } from "@syncless/syncless/patch";
 *
 * using _ = forbidSync({ mode: "warn" });
 * Deno.readTextFileSync("deno.json"); // main tasklet: silent
 * await spawn({ name: "reader" }, () => Deno.readTextFileSync("deno.json")).join();
 * // warns: Deno.readTextFileSync() called in tasklet "reader" ...
 * ```
 *
 * @param options The mode.
 * @returns A function that restores the originals (also disposable).
 * @throws {TypeError} when `mode` is neither `"warn"` nor `"throw"`.
 */
export function forbidSync(options: ForbidSyncOptions = {}): StopFunction {
  const { mode: wanted = "warn" } = options;
  if (wanted !== "warn" && wanted !== "throw") {
    throw new TypeError(
      `forbidSync mode must be "warn" or "throw", got ${String(wanted)}`,
    );
  }
  mode = wanted;
  if (replaced === undefined) {
    replaced = [];
    replaceSyncMethods(
      Deno as unknown as Record<string, unknown>,
      "Deno.",
      replaced,
    );
    replaceSyncMethods(
      Deno.FsFile.prototype as unknown as Record<string, unknown>,
      "Deno.FsFile#",
      replaced,
    );
    replaceSyncMethods(
      Deno.Command.prototype as unknown as Record<string, unknown>,
      "Deno.Command#",
      replaced,
    );
  }
  const stop = () => allowSync();
  return Object.assign(stop, { [Symbol.dispose]: stop });
}

/**
 * Undoes {@linkcode forbidSync}: every `Deno.*Sync` function is the original
 * again (one that other code has since replaced is left as it is). A no-op
 * when nothing is forbidden.
 *
 * @example
 * ```ts
 * import { allowSync, forbidSync } from "@syncless/syncless/patch";
 *
 * const before = Deno.readFileSync;
 * forbidSync();
 * allowSync();
 * console.log(Deno.readFileSync === before); // true
 * ```
 */
export function allowSync(): void {
  if (replaced === undefined) return;
  for (const { target, key, original, wrapper } of replaced) {
    if (target[key] === wrapper) target[key] = original;
  }
  replaced = undefined;
  mode = "warn";
}
