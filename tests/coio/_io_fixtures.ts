// Shared helpers of the coio I/O tests: loopback files over a real pipe (a
// FIFO) and over a TCP connection, as Syncless's nbfile_test used a pipe and
// a socket pair.
import { NbFile, type NbFileOptions } from "../../coio/mod.ts";

/** A file that reads back what it writes, and a way to send it EOF. */
export interface Loopback {
  file: NbFile;
  /** Closes the write end: the file reads EOF after the buffered bytes. */
  closeWriter(): void;
  /** Ends the test: EOF, drain, close, remove temporary files. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A string from UTF-8 bytes (`null` stays `null`). */
export function text(b: Uint8Array | null): string | null {
  return b === null ? null : decoder.decode(b);
}

/** Bytes of a byte string (char codes 0-255). */
export function latin1Bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** A byte string from bytes (`null` stays `null`). */
export function latin1(b: Uint8Array | null): string | null {
  return b === null ? null : String.fromCharCode(...b);
}

/** A file over both ends of a FIFO (a real OS pipe). */
export async function pipeLoopback(
  options: NbFileOptions = { writeBufferLimit: 0 },
): Promise<Loopback> {
  const dir = await Deno.makeTempDir({ prefix: "syncless-fifo-" });
  const path = `${dir}/pipe`;
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  if (!made.success) throw new Error("mkfifo failed");
  const [reader, writer] = await Promise.all([
    Deno.open(path, { read: true }),
    Deno.open(path, { write: true }),
  ]);
  return loopback(new NbFile(reader, writer, options), writer, async () => {
    await Deno.remove(dir, { recursive: true });
  });
}

/** A file reading one end of a TCP connection and writing the other. */
export async function socketLoopback(
  options: NbFileOptions = { writeBufferLimit: 0 },
): Promise<Loopback> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  listener.close();
  return loopback(new NbFile(server, client, options), client, () => {});
}

function loopback(
  file: NbFile,
  writer: { close(): void },
  cleanup: () => void | Promise<void>,
): Loopback {
  let writerOpen = true;
  const closeWriter = () => {
    if (!writerOpen) return;
    writerOpen = false;
    writer.close();
  };
  return {
    file,
    closeWriter,
    async close() {
      closeWriter();
      // Reading to EOF also ends any read op still in flight.
      if (!file.closed) {
        await file.read();
        await file.close();
      }
      await cleanup();
    },
  };
}

/** The two kinds of loopback every nbfile test runs on. */
export const VARIANTS: [
  string,
  (options?: NbFileOptions) => Promise<Loopback>,
][] = [
  ["pipe", pipeLoopback],
  ["socket", socketLoopback],
];

/** Whether a program is on the PATH. */
export async function haveProgram(name: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** A CA and a server certificate for `localhost`/`127.0.0.1`, PEM. */
export interface TestCertificate {
  caCert: string;
  cert: string;
  key: string;
}

let certificate: Promise<TestCertificate | undefined> | undefined;

/**
 * Generates (once per process) a test CA and a server certificate signed by
 * it with `openssl`; `undefined` when openssl is missing.
 */
export function testCertificate(): Promise<TestCertificate | undefined> {
  certificate ??= makeCertificate();
  return certificate;
}

async function makeCertificate(): Promise<TestCertificate | undefined> {
  if (!await haveProgram("openssl")) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "syncless-tls-" });
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  };
  try {
    const ec = [
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
    ];
    await run(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "3650",
      "-subj",
      "/CN=Syncless Test CA",
    );
    await run(
      "req",
      ...ec,
      "-keyout",
      "key.pem",
      "-out",
      "req.csr",
      "-subj",
      "/CN=localhost",
    );
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    await run(
      "x509",
      "-req",
      "-in",
      "req.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "cert.pem",
      "-days",
      "3650",
      "-extfile",
      "ext.cnf",
    );
    return {
      caCert: await Deno.readTextFile(`${dir}/ca.pem`),
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
