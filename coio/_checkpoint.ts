import type { Tasklet } from "./tasklet.ts";

/**
 * Observer of yield points, for blocking detection: called with the running
 * tasklet each time it parks in a coio wait or finishes (so the time since the
 * previous call can be charged to it), and with `undefined` where no tasklet
 * runs (the coio timer firing). `undefined` (the default) costs one check.
 */
export let checkpointHook:
  | ((tasklet: Tasklet<unknown> | undefined) => void)
  | undefined = undefined;

/** Installs (or, with `undefined`, removes) the checkpoint observer. */
export function setCheckpointHook(
  hook: ((tasklet: Tasklet<unknown> | undefined) => void) | undefined,
): void {
  checkpointHook = hook;
}
