import { SocketError, TimeoutError, WouldBlockError } from "./errors.ts";

// Deno's error classes and the POSIX code each stands for.
const CODES: [new (...args: never[]) => Error, string][] = [
  [Deno.errors.ConnectionRefused, "ECONNREFUSED"],
  [Deno.errors.ConnectionReset, "ECONNRESET"],
  [Deno.errors.ConnectionAborted, "ECONNABORTED"],
  [Deno.errors.BrokenPipe, "EPIPE"],
  [Deno.errors.NotConnected, "ENOTCONN"],
  [Deno.errors.AddrInUse, "EADDRINUSE"],
  [Deno.errors.AddrNotAvailable, "EADDRNOTAVAIL"],
  [Deno.errors.BadResource, "EBADF"],
  [Deno.errors.Interrupted, "EINTR"],
  [Deno.errors.NotFound, "ENOENT"],
  [Deno.errors.PermissionDenied, "EACCES"],
  [Deno.errors.AlreadyExists, "EEXIST"],
  [Deno.errors.TimedOut, "ETIMEDOUT"],
  [Deno.errors.WriteZero, "EPIPE"],
  [Deno.errors.UnexpectedEof, "ECONNRESET"],
  [Deno.errors.Busy, "EBUSY"],
  [Deno.errors.NotSupported, "EOPNOTSUPP"],
  [Deno.errors.NetworkUnreachable, "ENETUNREACH"],
  [Deno.errors.InvalidData, "EPROTO"],
];

/**
 * Turns an error from a Deno I/O call into a {@linkcode SocketError} with a
 * POSIX code; coio's own errors (timeouts, kills, signal reasons) and errors
 * that are not I/O errors pass through unchanged.
 */
export function toIoError(error: unknown): unknown {
  if (
    error instanceof SocketError || error instanceof TimeoutError ||
    error instanceof WouldBlockError || !(error instanceof Error)
  ) {
    return error;
  }
  let code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !/^E[A-Z]+$/.test(code)) {
    code = undefined;
    for (const [cls, posix] of CODES) {
      if (error instanceof cls) {
        code = posix;
        break;
      }
    }
  }
  if (code === undefined) return error;
  return new SocketError(code as string, error.message, { cause: error });
}

/** The error for using a closed file or socket. */
export function closedError(what = "file"): SocketError {
  return new SocketError("EBADF", `${what} is closed`);
}
