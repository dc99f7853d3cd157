import { StreamReader, StreamWriter } from "./_stream_io.ts";
import { toIoError } from "./_io_errors.ts";
import { NbFile } from "./nb_file.ts";

/** Options for {@linkcode popen}. */
export interface PopenOptions {
  /**
   * `"r"` reads the child's stdout, `"w"` writes its stdin, `"r+"` both
   * (`"b"` is accepted and ignored).
   * @default {"r"}
   */
  mode?: "r" | "w" | "r+" | "rb" | "wb" | "r+b" | "rb+";
  /** Write buffering of the file (see {@linkcode NbFile.writeBufferLimit}). */
  writeBufferLimit?: number;
  /** The file's per-wait timeout in ms (`null` forever). @default {null} */
  timeout?: number | null;
  /** The child's working directory. */
  cwd?: string;
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
}

/**
 * Starts a command with pipes to it and returns an {@linkcode NbFile} over
 * them: Syncless's `popen`. A string runs through `sh -c`; an array is the
 * program and its arguments. `close()` flushes, closes the pipes, waits for
 * the child and resolves to its exit code (`0` on success). The child's
 * stderr is the parent's.
 *
 * @example Read a command's output
 * ```ts
 * import { popen } from "@syncless/syncless/coio";
 *
 * const file = await popen(["echo", "hello"]);
 * console.log(new TextDecoder().decode(await file.read())); // "hello\n"
 * console.log(await file.close()); // 0
 * ```
 * @throws {SocketError} `ENOENT` when the program does not exist.
 */
export function popen(
  command: string | string[],
  options: PopenOptions = {},
): Promise<NbFile> {
  const { mode = "r", writeBufferLimit, timeout = null, cwd, env } = options;
  const bare = typeof mode === "string" ? mode.replace("b", "") : mode;
  if (bare !== "r" && bare !== "w" && bare !== "r+") {
    return Promise.reject(
      new TypeError(`popen mode must be "r", "w" or "r+", got ${String(mode)}`),
    );
  }
  let program: string;
  let args: string[];
  if (typeof command === "string") {
    [program, args] = ["sh", ["-c", command]];
  } else if (
    Array.isArray(command) && command.length > 0 &&
    command.every((a) => typeof a === "string")
  ) {
    [program, ...args] = command;
  } else {
    return Promise.reject(
      new TypeError("popen needs a command string or a non-empty string[]"),
    );
  }
  const reading = bare !== "w";
  const writing = bare !== "r";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd,
      env,
      stdin: writing ? "piped" : "null",
      stdout: reading ? "piped" : "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    return Promise.reject(toIoError(error));
  }
  const reader = reading ? new StreamReader(child.stdout) : undefined;
  const writer = writing ? new StreamWriter(child.stdin) : undefined;
  return Promise.resolve(
    new NbFile(reader, writer, {
      writeBufferLimit,
      timeout,
      onClose: async () => {
        await writer?.close();
        await reader?.close();
        return (await child.status).code;
      },
    }),
  );
}
