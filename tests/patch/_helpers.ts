/**
 * Test helpers for patch/: a loopback "blackhole" where TCP connects stay
 * pending, and a self-signed certificate made with the openssl CLI.
 */

/** A loopback port whose connects hang: a listener never accepted, its backlog full. */
export interface Blackhole {
  hostname: string;
  port: number;
  close(): void;
}

/**
 * Fills the accept backlog of a listener that never accepts, so that the
 * kernel drops further SYNs and a new connect stays pending (bounded: gives
 * up after 4096 connections). A connect counts as hanging when it has not
 * completed in 300 ms twice in a row, so a slow machine does not fool it.
 */
export async function openBlackhole(): Promise<Blackhole> {
  const hostname = "127.0.0.1";
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const fillers: Deno.Conn[] = [];
  const close = () => {
    for (const conn of fillers) conn.close();
    listener.close();
  };
  const tryConnect = async (): Promise<boolean> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 300);
    try {
      fillers.push(
        await Deno.connect({ hostname, port, signal: controller.signal }),
      );
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  for (let i = 0; i < 4096; i++) {
    if (!await tryConnect() && !await tryConnect()) {
      return { hostname, port, close };
    }
  }
  close();
  throw new Error("could not fill the listen backlog");
}

/**
 * A throw-away CA and a server certificate it signed for localhost and
 * 127.0.0.1 (rustls refuses a self-signed end-entity certificate), made with
 * the openssl CLI; `undefined` when openssl is not installed.
 */
export async function testCertificates(): Promise<
  { ca: string; cert: string; key: string } | undefined
> {
  const dir = await Deno.makeTempDir();
  const openssl = async (...args: string[]) => {
    const { success } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) throw new Error(`openssl ${args[0]} failed`);
  };
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    await openssl(
      "req",
      "-x509",
      ...ec,
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=syncless test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    await openssl(
      "req",
      ...ec,
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-keyout",
      "key.pem",
      "-out",
      "server.csr",
    );
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    await openssl(
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
      "-out",
      "cert.pem",
    );
    return {
      ca: await Deno.readTextFile(`${dir}/ca.pem`),
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
