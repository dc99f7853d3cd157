import { checkTimeout } from "./_waiter.ts";
import type { NbFile } from "./nb_file.ts";

/** Options for {@linkcode selectReadable}. */
export interface SelectReadableOptions {
  /**
   * Milliseconds to wait: `null` forever, `0` only check. On timeout the
   * result is empty.
   * @default {null}
   */
  timeout?: number | null;
  /** Cancels the wait (it rejects with `signal.reason`). */
  signal?: AbortSignal;
}

/**
 * Waits until at least one of `files` is readable (data buffered, or EOF
 * reached) and returns those that are, in the order given; on timeout,
 * an empty array. Nothing is consumed: the data stays in each file's buffer
 * (Syncless's `coio.select` for reading).
 *
 * @example Wait for whichever socket speaks first
 * ```ts
 * import { selectReadable, socketpair } from "@syncless/syncless/coio";
 *
 * const [a, b] = await socketpair();
 * const [c, d] = await socketpair();
 * await c.sendall("x");
 * const files = [b.makefile(), d.makefile()];
 * const ready = await selectReadable(files, { timeout: 1000 });
 * console.log(ready[0] === files[1]); // true
 * for (const s of [a, b, c, d]) s.close();
 * ```
 */
export async function selectReadable(
  files: NbFile[],
  options: SelectReadableOptions = {},
): Promise<NbFile[]> {
  const { timeout = null, signal } = options;
  checkTimeout(timeout);
  if (!Array.isArray(files)) {
    throw new TypeError("selectReadable() needs an array of NbFile");
  }
  let ready = files.filter((f) => f.readable);
  if (ready.length > 0 || files.length === 0 || timeout === 0) return ready;
  const stop = new AbortController();
  const combined = signal === undefined
    ? stop.signal
    : AbortSignal.any([signal, stop.signal]);
  const waits = files.map((f) =>
    f.waitForReadable(timeout, { signal: combined })
  );
  try {
    // Settles as soon as one file is readable, or when all have timed out.
    await new Promise<void>((resolve, reject) => {
      let pending = waits.length;
      for (const wait of waits) {
        wait.then((ok) => {
          if (ok || --pending === 0) resolve();
        }, reject);
      }
    });
  } finally {
    stop.abort();
    await Promise.allSettled(waits);
  }
  signal?.throwIfAborted();
  ready = files.filter((f) => f.readable);
  return ready;
}
