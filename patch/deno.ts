import { inMainContext } from "../coio/_cancel_signal.ts";
import { runAbortable } from "./_abortable.ts";

interface Originals {
  connect: typeof Deno.connect;
  connectTls: typeof Deno.connectTls;
  resolveDns: typeof Deno.resolveDns;
}

let originals: Originals | undefined;
let patched: Originals | undefined;

// Client-certificate options that Deno.startTls cannot take: with any of
// them, connectTls keeps its own connect and a cancelled one is closed late.
const CLIENT_CERT_KEYS = ["cert", "key", "certChain", "privateKey"];

/**
 * Makes `Deno.connect`, `Deno.connectTls` and `Deno.resolveDns` obey the
 * calling tasklet: inside a tasklet or a timeout scope, a pending connect or
 * lookup is aborted when the tasklet is killed or raised into, or when an
 * enclosing {@linkcode withTimeout} scope expires, and the call rejects with
 * the coio error (`TaskletExit`, `TimeoutError`, the raised error). A caller's
 * own `signal` option still works. A connection is not tied to the tasklet
 * once it is made. In the main tasklet outside any scope the originals are
 * called directly. Calling it again does nothing; {@linkcode unpatchDeno}
 * restores the originals.
 *
 * `connectTls` without a client certificate is run as `Deno.connect` plus
 * `Deno.startTls`, so that its TCP connect can really be aborted; with one, a
 * connection that completes after the cancellation is closed.
 *
 * @example Give up on a connect after 50 ms
 * ```ts
 * import { TimeoutError, withTimeout } from "@syncless/syncless/coio";
 * import { patchDeno, unpatchDeno } from "@syncless/syncless/patch";
 *
 * patchDeno();
 * try {
 *   const conn = await withTimeout(50, () => Deno.connect({ port: 80 }));
 *   conn.close();
 * } catch (error) {
 *   // TimeoutError if nothing answered, ConnectionRefused if refused at once.
 *   console.log(error instanceof Error);
 * } finally {
 *   unpatchDeno();
 * }
 * ```
 */
export function patchDeno(): void {
  if (originals !== undefined) return;
  const { connect, connectTls, resolveDns, startTls } = Deno;
  originals = { connect, connectTls, resolveDns };

  const patchedConnect = function connect(
    options: Deno.ConnectOptions,
  ): Promise<Deno.Conn> {
    if (inMainContext()) return originals!.connect(options);
    return runAbortable(
      (signal) => originals!.connect({ ...options, signal }),
      options?.signal,
      (conn) => conn.close(),
    ) ?? originals!.connect(options);
  } as typeof Deno.connect;

  const patchedConnectTls = function connectTls(
    options: Deno.ConnectTlsOptions,
  ): Promise<Deno.TlsConn> {
    if (inMainContext()) return originals!.connectTls(options);
    const hasClientCert = options !== null && typeof options === "object" &&
      CLIENT_CERT_KEYS.some((key) => key in options);
    const start = hasClientCert
      ? () => originals!.connectTls(options)
      : async (signal: AbortSignal) => {
        const {
          port,
          hostname,
          autoSelectFamily,
          autoSelectFamilyAttemptDelay,
        } = options;
        const tcp = await originals!.connect({
          port,
          hostname,
          autoSelectFamily,
          autoSelectFamilyAttemptDelay,
          signal,
        });
        try {
          return await startTls(tcp, {
            hostname: options.hostname,
            caCerts: options.caCerts,
            alpnProtocols: options.alpnProtocols,
            unsafelyDisableHostnameVerification:
              options.unsafelyDisableHostnameVerification,
          });
        } catch (error) {
          try {
            tcp.close();
          } catch {
            // Already consumed by startTls.
          }
          throw error;
        }
      };
    return runAbortable(start, undefined, (conn) => conn.close()) ??
      originals!.connectTls(options);
  } as typeof Deno.connectTls;

  const patchedResolveDns = function resolveDns(
    query: string,
    recordType: Deno.RecordType,
    options?: Deno.ResolveDnsOptions,
  ) {
    if (inMainContext()) {
      return originals!.resolveDns(query, recordType as "A", options);
    }
    return runAbortable(
      (signal) =>
        originals!.resolveDns(query, recordType as "A", { ...options, signal }),
      options?.signal,
    ) ?? originals!.resolveDns(query, recordType as "A", options);
  } as typeof Deno.resolveDns;

  patched = {
    connect: patchedConnect,
    connectTls: patchedConnectTls,
    resolveDns: patchedResolveDns,
  };
  Deno.connect = patchedConnect;
  Deno.connectTls = patchedConnectTls;
  Deno.resolveDns = patchedResolveDns;
}

/**
 * Restores the `Deno.connect`, `Deno.connectTls` and `Deno.resolveDns` that
 * {@linkcode patchDeno} replaced; a no-op when they are not patched. A
 * function that other code has since replaced is left as it is.
 *
 * @example
 * ```ts
 * import { patchDeno, unpatchDeno } from "@syncless/syncless/patch";
 *
 * const before = Deno.connect;
 * patchDeno();
 * unpatchDeno();
 * console.log(Deno.connect === before); // true
 * ```
 */
export function unpatchDeno(): void {
  if (originals === undefined || patched === undefined) return;
  if (Deno.connect === patched.connect) Deno.connect = originals.connect;
  if (Deno.connectTls === patched.connectTls) {
    Deno.connectTls = originals.connectTls;
  }
  if (Deno.resolveDns === patched.resolveDns) {
    Deno.resolveDns = originals.resolveDns;
  }
  originals = patched = undefined;
}
