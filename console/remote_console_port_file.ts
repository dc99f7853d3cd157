/**
 * The file in which the remote console of process `pid` writes its port when
 * a signal starts it: `$TMPDIR/syncless-remote-console-<pid>.port` (`/tmp`
 * when `TMPDIR` is unset).
 *
 * @example
 * ```ts
 * import { remoteConsolePortFile } from "@syncless/syncless/console";
 *
 * console.log(remoteConsolePortFile(Deno.pid).endsWith(`-${Deno.pid}.port`)); // true
 * ```
 */
export function remoteConsolePortFile(pid: number): string {
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new RangeError(`pid must be a positive integer, got ${pid}`);
  }
  const dir = (Deno.env.get("TMPDIR") || "/tmp").replace(/\/+$/, "");
  return `${dir}/syncless-remote-console-${pid}.port`;
}
