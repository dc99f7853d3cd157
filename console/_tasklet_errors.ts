// How the console reports an error that ended a tasklet: the text, and the
// spawn helpers whose tasklets report instead of ending the process.

import { spawn, type SpawnOptions } from "../coio/spawn.ts";
import type { Tasklet } from "../coio/tasklet.ts";

/** Receives an error that ended a tasklet. */
export type TaskletErrorReporter = (error: unknown, tasklet: Tasklet) => void;

let processReporter: TaskletErrorReporter = (error, tasklet) => {
  console.error(describeTaskletError(error, tasklet, "the program"));
};

/** The reporter `spawnSafe` uses now (the interactive console installs its own). */
export function currentReporter(): TaskletErrorReporter {
  return processReporter;
}

/** Replaces the reporter `spawnSafe` uses; returns the previous one. */
export function setReporter(
  reporter: TaskletErrorReporter,
): TaskletErrorReporter {
  const previous = processReporter;
  processReporter = reporter;
  return previous;
}

/** The text printed for an error that ended `tasklet`. */
export function describeTaskletError(
  error: unknown,
  tasklet: Tasklet,
  resuming: string,
  formatError: (error: unknown) => string = (e) => Deno.inspect(e),
): string {
  return `\n${
    formatError(error)
  }\nError terminated ${tasklet.name}, resuming ${resuming}.\n`;
}

/** `spawnSafe` and `wrapTasklet` whose tasklets report errors to `report()`. */
export interface SafeSpawners {
  spawnSafe: typeof spawn;
  wrapTasklet: <A extends unknown[], T>(
    fn: (...args: A) => T | PromiseLike<T>,
    options?: SpawnOptions,
  ) => (...args: A) => Tasklet<T>;
}

/** Makes {@linkcode SafeSpawners} that hand errors to `report()` (read at each error). */
export function makeSafeSpawners(
  report: () => TaskletErrorReporter,
): SafeSpawners {
  function spawnSafe(first: unknown, ...rest: unknown[]): Tasklet<unknown> {
    let options: SpawnOptions = {};
    let fn = first;
    if (typeof first !== "function") {
      if (first === null || typeof first !== "object") {
        throw new TypeError(
          `spawnSafe() needs a function, got ${
            first === null ? "null" : typeof first
          }`,
        );
      }
      options = first as SpawnOptions;
      fn = rest.shift();
    }
    if (typeof fn !== "function") {
      throw new TypeError(
        `spawnSafe() needs a function, got ${fn === null ? "null" : typeof fn}`,
      );
    }
    const tasklet: Tasklet<unknown> = spawn(
      {
        ...options,
        onError: options.onError ?? ((error) => report()(error, tasklet)),
      },
      fn as (...args: unknown[]) => unknown,
      ...rest,
    );
    return tasklet;
  }
  return {
    spawnSafe: spawnSafe as typeof spawn,
    wrapTasklet: (fn, options = {}) => (...args) =>
      spawnSafe(options, fn, ...args) as Tasklet<never>,
  };
}
