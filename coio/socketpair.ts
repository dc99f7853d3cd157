import { connect } from "./connect.ts";
import { listen } from "./nb_listener.ts";
import type { NbSocket } from "./nb_socket.ts";

/**
 * Two connected sockets (over loopback TCP, as Deno has no
 * `socketpair(2)`): what one sends, the other receives.
 *
 * @example A connected pair
 * ```ts
 * import { socketpair } from "@syncless/syncless/coio";
 *
 * const [a, b] = await socketpair();
 * await a.sendall("hi");
 * console.log(new TextDecoder().decode(await b.recv(2))); // "hi"
 * a.close();
 * b.close();
 * ```
 */
export async function socketpair(): Promise<[NbSocket, NbSocket]> {
  const listener = listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const accepting = listener.accept();
    let a: NbSocket;
    try {
      a = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
    } catch (error) {
      accepting.catch(() => {});
      throw error;
    }
    const b = await accepting;
    (b.conn as Deno.TcpConn).setNoDelay(true);
    return [a, b];
  } finally {
    listener.close();
  }
}
