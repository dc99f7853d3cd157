import { NbFile } from "./nb_file.ts";

let file: NbFile | undefined;

/**
 * The process's stdin and stdout as one {@linkcode NbFile} (the same file on
 * every call until it is closed): reads come from stdin, writes go to
 * stdout, line-buffered when stdout is a terminal, else block-buffered
 * (flush before exiting). Closing it flushes and stops using stdin/stdout
 * without closing them.
 *
 * @example Prompt on stdout
 * ```ts
 * import { stdio } from "@syncless/syncless/coio";
 *
 * const io = stdio();
 * await io.write("type lines, end with Ctrl-D\n");
 * await io.flush();
 * ```
 */
export function stdio(): NbFile {
  if (file === undefined || file.closed) {
    file = new NbFile(Deno.stdin, Deno.stdout, {
      writeBufferLimit: Deno.stdout.isTerminal() ? 1 : 8192,
      onClose: () => undefined,
    });
  }
  return file;
}
