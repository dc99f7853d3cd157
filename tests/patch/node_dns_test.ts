import assert from "node:assert/strict";
import dns from "node:dns";
import dnsPromises from "node:dns/promises";
import net from "node:net";
import { promisify } from "node:util";
import { GaiError, TimeoutError } from "../../coio/errors.ts";
import {
  configureResolver,
  type ResolverOptions,
} from "../../coio/resolver_config.ts";
import { spawn } from "../../coio/spawn.ts";
import { withTimeout } from "../../coio/with_timeout.ts";
import { patchNodeDns, unpatchNodeDns } from "../../patch/node_dns.ts";
import { Dnsmasq, HoldingDnsServer } from "../_dnsmasq.ts";

const HOSTS = "127.0.0.1 syncless-db.test db-alias\n" +
  "::1 syncless-db.test\n" +
  "::1 only-six.test\n";

/** Runs `fn` with HOSTS as the resolver's hosts file and node:dns patched. */
async function withHosts(
  options: ResolverOptions,
  fn: () => Promise<void>,
): Promise<void> {
  const hostsFile = await Deno.makeTempFile();
  await Deno.writeTextFile(hostsFile, HOSTS);
  const previous = configureResolver({ hostsFile, ...options });
  patchNodeDns();
  try {
    await fn();
  } finally {
    unpatchNodeDns();
    configureResolver(previous);
    await Deno.remove(hostsFile);
  }
}

function lookupCb(
  name: string,
  options: dns.LookupOptions = {},
): Promise<{ address: unknown; family: unknown }> {
  return new Promise((resolve, reject) =>
    dns.lookup(name, options, (error, address, family) => {
      if (error) reject(error);
      else resolve({ address, family });
    })
  );
}

Deno.test("patchNodeDns: dns.lookup answers hosts-file names from the coio resolver", async () => {
  await withHosts({}, async () => {
    assert.deepEqual(await lookupCb("syncless-db.test"), {
      address: "127.0.0.1",
      family: 4,
    });
    assert.deepEqual(await lookupCb("db-alias"), {
      address: "127.0.0.1",
      family: 4,
    });
    assert.deepEqual(await lookupCb("syncless-db.test", { family: 6 }), {
      address: "::1",
      family: 6,
    });
    assert.deepEqual(
      await lookupCb("syncless-db.test", { all: true }),
      {
        address: [
          { address: "127.0.0.1", family: 4 },
          { address: "::1", family: 6 },
        ],
        family: undefined,
      },
    );
    assert.deepEqual(
      await lookupCb("syncless-db.test", { all: true, order: "ipv6first" }),
      {
        address: [
          { address: "::1", family: 6 },
          { address: "127.0.0.1", family: 4 },
        ],
        family: undefined,
      },
    );
    // The promise forms: dns.promises, node:dns/promises, util.promisify.
    assert.deepEqual(await dns.promises.lookup("only-six.test"), {
      address: "::1",
      family: 6,
    });
    assert.deepEqual(await dnsPromises.lookup("syncless-db.test", 4), {
      address: "127.0.0.1",
      family: 4,
    });
    assert.deepEqual(await promisify(dns.lookup)("db-alias"), {
      address: "127.0.0.1",
      family: 4,
    });
    // Literals never leave the process.
    assert.deepEqual(await lookupCb("10.1.2.3"), {
      address: "10.1.2.3",
      family: 4,
    });
  });
});

Deno.test("patchNodeDns: node:net connects to a hosts-file name through it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  try {
    await withHosts({}, async () => {
      const accepted = listener.accept();
      const socket = net.connect({ host: "syncless-db.test", port, family: 4 });
      await new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      assert.equal(socket.remoteAddress, "127.0.0.1");
      (await accepted).close();
      socket.destroy();
      await new Promise((resolve) => socket.once("close", resolve));
    });
  } finally {
    listener.close();
  }
});

Deno.test("patchNodeDns: unknown names fail with Node's ENOTFOUND, from a real DNS server", async () => {
  const server = await Dnsmasq.start({
    addresses: [["dns-only.test", "127.0.0.7"]],
  });
  if (server === undefined) return; // Dnsmasq.start printed the SKIP line
  try {
    await withHosts(
      { nameServer: server.nameServer, timeout: 2000, attempts: 2 },
      async () => {
        // Names not in the hosts file go to DNS.
        assert.deepEqual(await lookupCb("dns-only.test", { family: 4 }), {
          address: "127.0.0.7",
          family: 4,
        });
        const error = await lookupCb("no-such-host.test").catch((e) => e);
        assert.equal(error.code, "ENOTFOUND");
        assert.equal(error.syscall, "getaddrinfo");
        assert.equal(error.hostname, "no-such-host.test");
        assert.ok(error.cause instanceof GaiError);
        await assert.rejects(
          dns.promises.lookup("no-such-host.test"),
          (e: NodeJS.ErrnoException) => e.code === "ENOTFOUND",
        );
      },
    );
  } finally {
    await server.stop();
  }
});

Deno.test("patchNodeDns: a lookup is a coio wait that a timeout scope cancels", async () => {
  await using server = await HoldingDnsServer.start(); // never answers
  await withHosts(
    { nameServer: server.nameServer, timeout: 10_000, attempts: 1 },
    async () => {
      const started = performance.now();
      await assert.rejects(
        spawn(() => withTimeout(100, () => dns.promises.lookup("held.test")))
          .join(),
        TimeoutError,
      );
      assert.ok(performance.now() - started < 3000);
      assert.equal(server.received >= 1, true);
    },
  );
});

Deno.test("patchNodeDns: bad arguments throw TypeError at once", async () => {
  await withHosts({}, async () => {
    assert.throws(
      () => dns.lookup("x.test", { family: 5 }, () => {}),
      TypeError,
    );
    assert.throws(
      () => dns.lookup(42 as unknown as string, () => {}),
      TypeError,
    );
    assert.throws(
      () => (dns.lookup as unknown as (name: string) => void)("x.test"),
      TypeError,
    );
    await assert.rejects(
      dns.promises.lookup("x.test", { family: 5 }),
      TypeError,
    );
  });
});

Deno.test("patchNodeDns: idempotent and reversible", () => {
  const { lookup } = dns;
  const promisesLookup = dns.promises.lookup;
  const connect = net.Socket.prototype.connect;
  patchNodeDns();
  const patched = dns.lookup;
  assert.notEqual(patched, lookup);
  assert.notEqual(net.Socket.prototype.connect, connect);
  patchNodeDns();
  assert.equal(dns.lookup, patched);
  unpatchNodeDns();
  assert.equal(dns.lookup, lookup);
  assert.equal(dns.promises.lookup, promisesLookup);
  assert.equal(net.Socket.prototype.connect, connect);
  unpatchNodeDns();
  assert.equal(dns.lookup, lookup);
});
