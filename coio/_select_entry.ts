import type { Waiter } from "./_waiter.ts";

/** What a select resolves with: the chosen case and, for a receive, its value. */
export interface SelectOutcome {
  index: number;
  value: unknown;
}

/**
 * One case of a blocking `select`, registered in the waiter queue of its
 * channel. All the cases of one select share its waiter: once that waiter has
 * settled (a case won, or the select was cancelled), every entry is dead and
 * is skipped and dropped by the channels lazily.
 */
export class SelectEntry {
  constructor(
    readonly waiter: Waiter<SelectOutcome>,
    /** The case's position in the `select` call. */
    readonly index: number,
    /** For a send case, the value to send. */
    readonly value: unknown,
  ) {}
}
