import { toIoError } from "./_io_errors.ts";
import { NbFile } from "./nb_file.ts";

/** Options for {@linkcode openFile}. */
export interface OpenFileOptions {
  /** Write buffering (see {@linkcode NbFile.writeBufferLimit}). @default {8192} */
  writeBufferLimit?: number;
  /** The per-wait timeout in ms (`null` forever). @default {null} */
  timeout?: number | null;
}

const MODES: Record<string, Deno.OpenOptions> = {
  "r": { read: true },
  "r+": { read: true, write: true },
  "w": { write: true, create: true, truncate: true },
  "w+": { read: true, write: true, create: true, truncate: true },
  "a": { append: true, create: true },
  "a+": { read: true, append: true, create: true },
  "x": { write: true, createNew: true },
  "x+": { read: true, write: true, createNew: true },
};

/**
 * Opens a file as an {@linkcode NbFile} with C `fopen` modes (`"r"`, `"w"`,
 * `"a"`, `"x"`, each optionally with `"+"`; `"b"` is ignored). Reads and
 * writes run off the main thread, so other tasklets go on meanwhile.
 *
 * @example Write, then read back
 * ```ts
 * import { openFile } from "@syncless/syncless/coio";
 *
 * const path = await Deno.makeTempFile();
 * const out = await openFile(path, "w");
 * await out.write("saved\n");
 * await out.close();
 * const back = await openFile(path);
 * console.log(new TextDecoder().decode(await back.readline())); // "saved\n"
 * await back.close();
 * await Deno.remove(path);
 * ```
 * @throws {SocketError} `ENOENT`, `EACCES`, `EEXIST`, ...
 * @throws {TypeError} for an unknown mode.
 */
export async function openFile(
  path: string | URL,
  mode = "r",
  options: OpenFileOptions = {},
): Promise<NbFile> {
  const bare = typeof mode === "string" ? mode.replace("b", "") : "";
  const open = MODES[bare];
  if (open === undefined) {
    throw new TypeError(`unknown file mode: ${String(mode)}`);
  }
  let fsFile: Deno.FsFile;
  try {
    fsFile = await Deno.open(path, open);
  } catch (error) {
    throw toIoError(error);
  }
  return new NbFile(
    open.read ? fsFile : undefined,
    open.write || open.append ? fsFile : undefined,
    {
      writeBufferLimit: options.writeBufferLimit,
      timeout: options.timeout ?? null,
      onClose: () => fsFile.close(),
    },
  );
}
