// Checks the options shared by both ends of a WebSocket, so that upgrade and
// connect can refuse bad ones before the handshake starts.

/** The options of a WebSocket connection, checked and with defaults. */
export interface ResolvedWebSocketOptions {
  maxMessageSize: number;
  idleTimeout: number | null;
  closeTimeout: number;
  shutdownSignal: AbortSignal | undefined;
}

const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

/**
 * Applies the defaults and checks the values.
 * @throws {RangeError} for a value out of range or of the wrong type.
 * @throws {TypeError} for a `shutdownSignal` that is no `AbortSignal`.
 */
export function resolveOptions(options: {
  maxMessageSize?: number;
  idleTimeout?: number | null;
  closeTimeout?: number;
  shutdownSignal?: AbortSignal;
}): ResolvedWebSocketOptions {
  const {
    maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE,
    idleTimeout = null,
    closeTimeout = 5000,
    shutdownSignal,
  } = options;
  if (
    shutdownSignal !== undefined && !(shutdownSignal instanceof AbortSignal)
  ) {
    throw new TypeError("shutdownSignal must be an AbortSignal");
  }
  if (
    typeof maxMessageSize !== "number" || !(maxMessageSize >= 0) ||
    (maxMessageSize !== Infinity && !Number.isInteger(maxMessageSize))
  ) {
    throw new RangeError(
      `maxMessageSize must be an integer >= 0, got ${String(maxMessageSize)}`,
    );
  }
  if (
    idleTimeout !== null &&
    (typeof idleTimeout !== "number" || !(idleTimeout > 0))
  ) {
    throw new RangeError(
      `idleTimeout must be null or a number > 0 (ms), got ${
        String(idleTimeout)
      }`,
    );
  }
  if (typeof closeTimeout !== "number" || !(closeTimeout >= 0)) {
    throw new RangeError(
      `closeTimeout must be a number >= 0 (ms), got ${String(closeTimeout)}`,
    );
  }
  return {
    maxMessageSize,
    idleTimeout: idleTimeout === Infinity ? null : idleTimeout,
    closeTimeout,
    shutdownSignal,
  };
}
