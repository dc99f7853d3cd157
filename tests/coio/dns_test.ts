// Tests of the DNS lookups against a real DNS server (dnsmasq, started per
// test on a loopback port) and a hosts file of our own. The compatibility
// cases are Syncless's dns_compat_test, with its hosts text and names; where
// the original guessed (CNAMEs from reverse lookups) we assert the real answer.

import assert from "node:assert/strict";
import {
  configureResolver,
  GaiError,
  getaddrinfo,
  getfqdn,
  gethostbyaddr,
  gethostbyname,
  gethostbynameEx,
  HError,
  resolve,
  type ResolverOptions,
  spawn,
  TaskletExit,
  TimeoutError,
  withTimeout,
} from "../../coio/mod.ts";
import { inflightQueryCount } from "../../coio/_dns_query.ts";
import { parseHosts } from "../../coio/_hosts_file.ts";
import { parseIPAddress, reverseName } from "../../coio/_ip_address.ts";
import { Dnsmasq, type DnsmasqZone, HoldingDnsServer } from "../_dnsmasq.ts";

// The hosts text of dns_compat_test, byte for byte.
const COMPAT_HOSTS = "#127.0.0.1 bad1\n" +
  "  127.0.0.1\t \tlocalhost\n" +
  "127.0.0.1\t \tbad2\n" +
  "\t \t1.2.3.4 bogus1.there\tbogus2 bogus3 bogus4.foo.bar\n" +
  "1.2.3.5 other bogus3\n";

const GOOGLE_IPS = [
  "74.125.39.106",
  "74.125.39.103",
  "74.125.39.104",
  "74.125.39.105",
  "74.125.39.147",
  "74.125.39.99",
];
const IGLOO_V6 = "2001:6b0:1:ea:202:a5ff:fecd:13a6";
// Written out by hand (not computed by the code under test).
const IGLOO_V6_ARPA =
  "6.a.3.1.d.c.e.f.f.f.5.a.2.0.2.0.a.e.0.0.1.0.0.0.0.b.6.0.1.0.0.2.ip6.arpa";

// The fake resolvers of dns_compat_test, as a real zone.
const COMPAT_ZONE: DnsmasqZone = {
  hostRecords: [["fourier.szit.bme.hu", "152.66.84.8"]],
  cnames: [
    ["mail.szit.bme.hu", "fourier.szit.bme.hu"],
    ["www.google.com", "www.l.google.com"],
  ],
  addresses: [
    ...GOOGLE_IPS.map((ip): [string, string] => ["www.l.google.com", ip]),
    ["www.ipv6.org", "130.237.234.40"],
  ],
  ptrRecords: [
    ["106.39.125.74.in-addr.arpa", "fx-in-f106.1e100.net"],
    ["40.234.237.130.in-addr.arpa", "igloo.stacken.kth.se"],
    [IGLOO_V6_ARPA, "igloo.stacken.kth.se"],
  ],
};

// The many PTR records of Syncless's README, "Limitations" 3.
const MANY_PTR_NAMES = [
  "pop.cbdcorp.com.au",
  "pop.stanicharding.com.au",
  "webmail.stanicharding.com.au",
  "webmail.cbdcorp.com.au",
  "webmail.viewhotels.com.au",
  "pop.migrationlawforum.com.au",
  "sydmail01.powertel.net.au",
  "mail.viewhotels.com.au",
  "mail.migrationlawforum.com.au",
  "webmail.migrationlawforum.com.au",
  "mail.c2cextreme.net",
  "mail.cbdcorp.com.au",
  "mail.stanicharding.com.au",
];

async function withResolver<T>(
  options: ResolverOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const previous = configureResolver(options);
  try {
    return await fn();
  } finally {
    configureResolver(previous);
  }
}

async function withTempFile<T>(
  text: string,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".hosts" });
  try {
    await Deno.writeTextFile(path, text);
    return await fn(path);
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

// Runs `fn` with dnsmasq serving `zone` as the name server and `hostsText` as
// the hosts file; returns without running it when dnsmasq is not installed.
async function withZone(
  zone: DnsmasqZone,
  hostsText: string,
  fn: (dns: Dnsmasq) => Promise<void>,
): Promise<void> {
  const dns = await Dnsmasq.start(zone);
  if (dns === undefined) return;
  try {
    await withTempFile(hostsText, (hostsFile) =>
      withResolver(
        { nameServer: dns.nameServer, hostsFile, timeout: 2000, attempts: 2 },
        () => fn(dns),
      ));
  } finally {
    await dns.stop();
  }
  assert.equal(inflightQueryCount(), 0);
}

function isGai(code: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof GaiError, `expected GaiError, got ${error}`);
    assert.equal(error.code, code);
    assert.equal(error.name, "GaiError");
    assert.equal(typeof error.message, "string");
    assert.ok(error.message.length > 0);
    return true;
  };
}

// --- No network needed -----------------------------------------------------

Deno.test("hosts file: the two maps of testEtcHostsDicts", () => {
  const table = parseHosts(COMPAT_HOSTS);
  // names_by_ip: the first line per address wins.
  const byIp = (ip: string) => {
    const entry = table.byAddress(ip)!;
    return [entry.address, ...entry.names];
  };
  assert.deepEqual(byIp("1.2.3.4"), [
    "1.2.3.4",
    "bogus1.there",
    "bogus2",
    "bogus3",
    "bogus4.foo.bar",
  ]);
  assert.deepEqual(byIp("127.0.0.1"), ["127.0.0.1", "localhost"]);
  assert.deepEqual(byIp("1.2.3.5"), ["1.2.3.5", "other", "bogus3"]);
  assert.equal(table.entries.length, 4, "the comment line is skipped");
  // names_by_nameip: every name maps to its first line.
  const byName = (name: string) => {
    const entry = table.byName(name)[0];
    return [entry.address, ...entry.names];
  };
  assert.deepEqual(byName("bogus3"), byIp("1.2.3.4"));
  assert.deepEqual(byName("bad2"), ["127.0.0.1", "bad2"]);
  assert.deepEqual(byName("localhost"), ["127.0.0.1", "localhost"]);
  assert.deepEqual(byName("other"), ["1.2.3.5", "other", "bogus3"]);
  assert.deepEqual(table.byName("bad1"), []);
});

Deno.test("hosts file: IPv6 lines, trailing comments, case, canonical keys", () => {
  const table = parseHosts(
    "127.0.0.1 localhost\n" +
      "0:0:0:0:0:0:0:1 localhost ip6-localhost # loopback\n" +
      "fe80::1%lo0 link\n" +
      "not-an-ip foo\n" +
      "10.0.0.9\n" +
      "2001:DB8::A Mixed.Case\n",
  );
  assert.deepEqual(
    table.byName("localhost").map((e) => e.address),
    ["127.0.0.1", "::1"],
  );
  assert.deepEqual(table.byName("localhost", 6).map((e) => e.address), ["::1"]);
  assert.deepEqual(table.byAddress("::1")?.names, [
    "localhost",
    "ip6-localhost",
  ]);
  assert.equal(table.byName("link")[0].address, "fe80::1%lo0");
  assert.deepEqual(table.byName("foo"), []);
  assert.equal(table.byName("MIXED.case.")[0].address, "2001:db8::a");
  assert.deepEqual(table.byName("Mixed.Case")[0].names, ["Mixed.Case"]);
  assert.equal(
    table.entries.length,
    4,
    "bad address and nameless lines skipped",
  );
});

Deno.test("IP literals: recognised in every form, written canonically", () => {
  const cases: [string, 4 | 6, string][] = [
    ["1.2.3.4", 4, "1.2.3.4"],
    ["255.255.255.255", 4, "255.255.255.255"],
    ["::1", 6, "::1"],
    ["::", 6, "::"],
    ["0:0:0:0:0:0:0:1", 6, "::1"],
    ["2001:db8::1", 6, "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", 6, "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", 6, "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", 6, "2001:db8:0:1:1:1:1:1"],
    [IGLOO_V6, 6, IGLOO_V6],
    ["::ffff:1.2.3.4", 6, "::ffff:1.2.3.4"],
    ["::ffff:102:304", 6, "::ffff:1.2.3.4"],
    ["fe80::1%eth0", 6, "fe80::1%eth0"],
  ];
  for (const [text, family, address] of cases) {
    assert.deepEqual(parseIPAddress(text), { family, address }, text);
  }
  for (
    const text of [
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.256",
      "01.2.3.4",
      "1.2.3.",
      "a.b.c.d",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":::",
      "1:2:3:4:5:6:7::8:9",
      "12345::1",
      "g::1",
      "::1%",
      "localhost",
      "",
    ]
  ) {
    assert.equal(parseIPAddress(text), undefined, text);
  }
});

Deno.test("IP literals: reverse names, in-addr.arpa and ip6.arpa nibbles", () => {
  assert.equal(
    reverseName(parseIPAddress("152.66.84.8")!),
    "8.84.66.152.in-addr.arpa",
  );
  assert.equal(reverseName(parseIPAddress(IGLOO_V6)!), IGLOO_V6_ARPA);
  assert.equal(
    reverseName(parseIPAddress("::1")!),
    "1." + "0.".repeat(31) + "ip6.arpa",
  );
});

Deno.test("configureResolver: validates, returns the previous settings", () => {
  const first = configureResolver({
    nameServer: { ipAddr: "127.0.0.1", port: 5353 },
    hostsFile: null,
    timeout: 100,
    attempts: 3,
  });
  try {
    const second = configureResolver();
    assert.deepEqual(second, {
      nameServer: { ipAddr: "127.0.0.1", port: 5353 },
      hostsFile: null,
      hostsCheckInterval: 1000,
      timeout: 100,
      attempts: 3,
      maxConcurrentQueries: 100,
    });
    const defaults = configureResolver(second);
    assert.deepEqual(defaults, {
      nameServer: null,
      hostsFile: "/etc/hosts",
      hostsCheckInterval: 1000,
      timeout: 5000,
      attempts: 2,
      maxConcurrentQueries: 100,
    });
    const bad: [ResolverOptions, ErrorConstructor][] = [
      [{ nameServer: { ipAddr: "dns.example", port: 53 } }, RangeError],
      [{ nameServer: { ipAddr: "127.0.0.1", port: 0 } }, RangeError],
      [{ nameServer: { ipAddr: "127.0.0.1", port: 70000 } }, RangeError],
      [{ nameServer: "127.0.0.1" as unknown as null }, TypeError],
      [{ timeout: 0 }, RangeError],
      [{ timeout: -1 }, RangeError],
      [{ timeout: Infinity }, RangeError],
      [{ timeout: "5" as unknown as number }, TypeError],
      [{ attempts: 0 }, RangeError],
      [{ attempts: 1.5 }, RangeError],
      [{ hostsFile: "" }, TypeError],
      [{ hostsCheckInterval: -1 }, RangeError],
      [{ maxConcurrentQueries: 0 }, RangeError],
      [{ maxConcurrentQueries: 2.5 }, RangeError],
    ];
    const before = configureResolver(second);
    for (const [options, type] of bad) {
      assert.throws(() => configureResolver(options), type);
    }
    // A refused configuration changes nothing.
    assert.deepEqual(configureResolver(before), before);
    assert.throws(
      () => configureResolver(null as unknown as ResolverOptions),
      TypeError,
    );
  } finally {
    configureResolver(first);
  }
});

Deno.test("bad input: typed errors, no query", async () => {
  await using server = await HoldingDnsServer.start();
  await withResolver(
    {
      nameServer: server.nameServer,
      hostsFile: null,
      timeout: 50,
      attempts: 1,
    },
    async () => {
      await assert.rejects(gethostbyname(42 as unknown as string), TypeError);
      await assert.rejects(getaddrinfo("localhost", "http"), TypeError);
      await assert.rejects(getaddrinfo("localhost", 65536), RangeError);
      await assert.rejects(getaddrinfo("localhost", -1), RangeError);
      await assert.rejects(getaddrinfo("localhost", 1.5), RangeError);
      await assert.rejects(
        getaddrinfo("localhost", 80, { family: 5 as 4 }),
        RangeError,
      );
      await assert.rejects(
        resolve("example.com", "BOGUS" as "A"),
        TypeError,
      );
      for (const name of ["", ".", "a..b", "a b", "x".repeat(64) + ".test"]) {
        await assert.rejects(gethostbyname(name), isGai("EAI_NONAME"), name);
        await assert.rejects(getaddrinfo(name, 80), isGai("EAI_NONAME"), name);
      }
      await assert.rejects(
        gethostbyname("a".repeat(60) + ".b".repeat(100)),
        isGai("EAI_NONAME"),
      );
      assert.equal(server.received, 0);
    },
  );
});

Deno.test("literals and hosts-file names never touch the network", async () => {
  await using server = await HoldingDnsServer.start();
  await withTempFile(
    COMPAT_HOSTS + "::1 ip6-localhost\n",
    (hostsFile) =>
      withResolver(
        { nameServer: server.nameServer, hostsFile, timeout: 50, attempts: 1 },
        async () => {
          assert.equal(await gethostbyname("1.2.3.4"), "1.2.3.4");
          assert.deepEqual(await gethostbynameEx("10.0.0.1"), [
            "10.0.0.1",
            [],
            ["10.0.0.1"],
          ]);
          for (
            const [host, address] of [
              ["::1", "::1"],
              ["0:0:0:0:0:0:0:1", "::1"],
              ["2001:db8::1", "2001:db8::1"],
              ["2001:db8:0:0:0:0:0:1", "2001:db8::1"],
            ]
          ) {
            assert.deepEqual(await getaddrinfo(host, 80), [
              { family: 6, address, port: 80 },
            ]);
          }
          assert.deepEqual(
            await getaddrinfo("1.2.3.4", "8080", { family: 4 }),
            [
              { family: 4, address: "1.2.3.4", port: 8080 },
            ],
          );
          assert.equal(await gethostbyname("bogus4.foo.bar"), "1.2.3.4");
          assert.deepEqual(await getaddrinfo("ip6-localhost", 1), [
            { family: 6, address: "::1", port: 1 },
          ]);
          assert.equal(server.received, 0);
          // Whereas a name that is neither does reach the server.
          await assert.rejects(
            gethostbyname("elsewhere.test"),
            isGai("EAI_AGAIN"),
          );
          await server.waitForQueries(1);
        },
      ),
  );
});

Deno.test("literal of the wrong family: EAI_ADDRFAMILY", async () => {
  for (const ip of [IGLOO_V6, "::1", "::ffff:1.2.3.4"]) {
    await assert.rejects(gethostbyname(ip), isGai("EAI_ADDRFAMILY"));
    await assert.rejects(gethostbynameEx(ip), isGai("EAI_ADDRFAMILY"));
    await assert.rejects(
      getaddrinfo(ip, 80, { family: 4 }),
      isGai("EAI_ADDRFAMILY"),
    );
  }
  await assert.rejects(
    getaddrinfo("1.2.3.4", 80, { family: 6 }),
    isGai("EAI_ADDRFAMILY"),
  );
});

// --- dns_compat_test, against dnsmasq --------------------------------------

Deno.test("dns_compat testGetHostByName", async () => {
  await withZone(COMPAT_ZONE, COMPAT_HOSTS, async () => {
    assert.equal(await gethostbyname("127.0.0.1"), "127.0.0.1");
    assert.equal(await gethostbyname("1.2.3.4"), "1.2.3.4");
    await assert.rejects(gethostbyname(IGLOO_V6), isGai("EAI_ADDRFAMILY"));
    assert.equal(await gethostbyname("bogus3"), "1.2.3.4");
    assert.equal(await gethostbyname("bogus4.foo.bar"), "1.2.3.4");
    assert.equal(await gethostbyname("other"), "1.2.3.5");
    assert.equal(await gethostbyname("localhost"), "127.0.0.1");
    assert.equal(await gethostbyname("bad2"), "127.0.0.1");
    assert.equal(await gethostbyname("www.google.com"), "74.125.39.106");
    assert.equal(await gethostbyname("mail.szit.bme.hu"), "152.66.84.8");
    assert.equal(await gethostbyname("www.ipv6.org"), "130.237.234.40");
    await assert.rejects(gethostbyname("foo.bar.baz"), isGai("EAI_NODATA"));
    await assert.rejects(gethostbyname("unknown"), isGai("EAI_NODATA"));
  });
});

Deno.test("dns_compat testGetHostByNameEx (real CNAME chains)", async () => {
  await withZone(COMPAT_ZONE, COMPAT_HOSTS, async () => {
    assert.deepEqual(await gethostbynameEx("1.2.3.4"), [
      "1.2.3.4",
      [],
      ["1.2.3.4"],
    ]);
    await assert.rejects(gethostbynameEx(IGLOO_V6), isGai("EAI_ADDRFAMILY"));
    assert.deepEqual(await gethostbynameEx("bogus3"), [
      "bogus1.there",
      ["bogus2", "bogus3", "bogus4.foo.bar"],
      ["1.2.3.4"],
    ]);
    assert.deepEqual(await gethostbynameEx("other"), [
      "other",
      ["bogus3"],
      ["1.2.3.5"],
    ]);
    assert.deepEqual(await gethostbynameEx("mail.szit.bme.hu"), [
      "fourier.szit.bme.hu",
      ["mail.szit.bme.hu"],
      ["152.66.84.8"],
    ]);
    assert.deepEqual(await gethostbynameEx("fourier.szit.bme.hu"), [
      "fourier.szit.bme.hu",
      [],
      ["152.66.84.8"],
    ]);
    // Syncless guessed "fx-in-f106.1e100.net" from a reverse lookup; the
    // real canonical name is the CNAME target.
    assert.deepEqual(await gethostbynameEx("www.google.com"), [
      "www.l.google.com",
      ["www.google.com"],
      GOOGLE_IPS,
    ]);
    await assert.rejects(gethostbynameEx("foo.bar.baz"), isGai("EAI_NODATA"));
    await assert.rejects(gethostbynameEx("unknown"), isGai("EAI_NODATA"));
  });
});

Deno.test("dns_compat testGetHostByAddr", async () => {
  await withZone(COMPAT_ZONE, COMPAT_HOSTS, async () => {
    for (const name of ["localhost", "127.0.0.1"]) {
      assert.deepEqual(await gethostbyaddr(name), [
        "localhost",
        [],
        ["127.0.0.1"],
      ]);
    }
    for (const name of ["other", "1.2.3.5"]) {
      assert.deepEqual(await gethostbyaddr(name), [
        "other",
        ["bogus3"],
        ["1.2.3.5"],
      ]);
    }
    assert.deepEqual(await gethostbyaddr(IGLOO_V6), [
      "igloo.stacken.kth.se",
      [],
      [IGLOO_V6],
    ]);
    assert.deepEqual(await gethostbyaddr("130.237.234.40"), [
      "igloo.stacken.kth.se",
      [],
      ["130.237.234.40"],
    ]);
    assert.deepEqual(await gethostbyaddr("www.google.com"), [
      "fx-in-f106.1e100.net",
      [],
      ["74.125.39.106"],
    ]);
    assert.deepEqual(await gethostbyaddr("mail.szit.bme.hu"), [
      "fourier.szit.bme.hu",
      [],
      ["152.66.84.8"],
    ]);
    await assert.rejects(gethostbyaddr("foo.bar.baz"), isGai("EAI_NODATA"));
    // The original used 127.5.6.7; Deno's resolver answers the whole
    // 127.0.0.0/8 reverse zone itself ("localhost", RFC 6761), so a
    // documentation address stands in for "no PTR record".
    await assert.rejects(gethostbyaddr("192.0.2.7"), (error) => {
      assert.ok(error instanceof HError);
      assert.equal(error.code, "HOST_NOT_FOUND");
      assert.equal(error.message, "Unknown host");
      return true;
    });
  });
});

Deno.test("dns_compat testGetFqdn: never throws a lookup error", async () => {
  await withZone(COMPAT_ZONE, COMPAT_HOSTS, async () => {
    assert.equal(await getfqdn("1.2.3.4"), "bogus1.there");
    assert.equal(await getfqdn("bogus3"), "bogus1.there");
    assert.equal(await getfqdn("mail.szit.bme.hu"), "fourier.szit.bme.hu");
    assert.equal(await getfqdn("www.google.com"), "fx-in-f106.1e100.net");
    assert.equal(await getfqdn("other"), "other");
    for (const name of ["192.0.2.7", "foo.bar.baz", "unknown", "a..b"]) {
      assert.equal(await getfqdn(name), name);
    }
    assert.equal(typeof await getfqdn(), "string");
  });
});

// --- Beyond the original ---------------------------------------------------

Deno.test("A and AAAA: getaddrinfo interleaves IPv6 first, family filters", async () => {
  const zone: DnsmasqZone = {
    addresses: [
      ["dual.test", "10.1.1.1"],
      ["dual.test", "10.1.1.2"],
      ["dual.test", "10.1.1.3"],
      ["dual.test", "2001:db8::1"],
      ["dual.test", "2001:db8::2"],
      ["v6only.test", "2001:db8::6"],
    ],
  };
  await withZone(zone, "", async () => {
    const all = await getaddrinfo("dual.test", 443);
    assert.deepEqual(all, [
      { family: 6, address: "2001:db8::1", port: 443 },
      { family: 4, address: "10.1.1.1", port: 443 },
      { family: 6, address: "2001:db8::2", port: 443 },
      { family: 4, address: "10.1.1.2", port: 443 },
      { family: 4, address: "10.1.1.3", port: 443 },
    ]);
    assert.deepEqual(
      (await getaddrinfo("dual.test", 1, { family: 4 })).map((a) => a.address),
      ["10.1.1.1", "10.1.1.2", "10.1.1.3"],
    );
    assert.deepEqual(
      (await getaddrinfo("dual.test", 1, { family: 6 })).map((a) => a.address),
      ["2001:db8::1", "2001:db8::2"],
    );
    assert.deepEqual(await getaddrinfo("v6only.test", 22), [
      { family: 6, address: "2001:db8::6", port: 22 },
    ]);
    await assert.rejects(
      getaddrinfo("v6only.test", 22, { family: 4 }),
      isGai("EAI_NONAME"),
    );
    await assert.rejects(gethostbyname("v6only.test"), isGai("EAI_NODATA"));
    await assert.rejects(getaddrinfo("foo.bar.baz", 80), isGai("EAI_NONAME"));
    assert.deepEqual(await resolve("v6only.test", "AAAA"), ["2001:db8::6"]);
    await assert.rejects(resolve("v6only.test", "A"), isGai("EAI_NODATA"));
  });
});

Deno.test("hosts file with IPv6 lines: file order, reverse by address", async () => {
  const hosts = "127.0.0.1 localhost\n" +
    "::1 localhost ip6-localhost ip6-loopback\n" +
    "2001:db8::10 web.test\n" +
    "192.0.2.10 web.test\n";
  await withZone({}, hosts, async () => {
    assert.deepEqual(await getaddrinfo("localhost", 80), [
      { family: 4, address: "127.0.0.1", port: 80 },
      { family: 6, address: "::1", port: 80 },
    ]);
    assert.deepEqual(await getaddrinfo("web.test", 80), [
      { family: 6, address: "2001:db8::10", port: 80 },
      { family: 4, address: "192.0.2.10", port: 80 },
    ]);
    assert.deepEqual(await getaddrinfo("localhost", 80, { family: 6 }), [
      { family: 6, address: "::1", port: 80 },
    ]);
    for (const ip of ["::1", "0:0:0:0:0:0:0:1"]) {
      assert.deepEqual(await gethostbyaddr(ip), [
        "localhost",
        ["ip6-localhost", "ip6-loopback"],
        ["::1"],
      ]);
    }
    // gethostbyname is IPv4 only: the IPv4 line of web.test.
    assert.equal(await gethostbyname("web.test"), "192.0.2.10");
    // ip6-localhost has no IPv4 line: DNS is asked, and has nothing.
    await assert.rejects(gethostbyname("ip6-localhost"), isGai("EAI_NODATA"));
  });
});

Deno.test("CNAME chain of three links", async () => {
  const zone: DnsmasqZone = {
    hostRecords: [["end.test", "192.0.2.1"]],
    cnames: [["a1.test", "a2.test"], ["a2.test", "a3.test"], [
      "a3.test",
      "end.test",
    ]],
  };
  await withZone(zone, "", async () => {
    assert.deepEqual(await gethostbynameEx("a1.test"), [
      "end.test",
      ["a1.test", "a2.test", "a3.test"],
      ["192.0.2.1"],
    ]);
    assert.deepEqual(await gethostbynameEx("a3.test"), [
      "end.test",
      ["a3.test"],
      ["192.0.2.1"],
    ]);
    assert.equal(await gethostbyname("a1.test"), "192.0.2.1");
    assert.deepEqual(await resolve("a1.test", "CNAME"), ["a2.test."]);
  });
});

Deno.test("several PTR records: all of them (the README's 13), IPv4 and IPv6", async () => {
  const zone: DnsmasqZone = {
    ptrRecords: [
      ...MANY_PTR_NAMES.map((name): [string, string] => [
        "220.65.92.202.in-addr.arpa",
        name,
      ]),
      [IGLOO_V6_ARPA, "igloo.stacken.kth.se"],
      [IGLOO_V6_ARPA, "igloo6.stacken.kth.se"],
    ],
  };
  await withZone(zone, "", async () => {
    const [hostname, aliases, addresses] = await gethostbyaddr("202.92.65.220");
    assert.deepEqual(addresses, ["202.92.65.220"]);
    assert.equal(aliases.length, MANY_PTR_NAMES.length - 1);
    assert.deepEqual(
      [hostname, ...aliases].sort(),
      [...MANY_PTR_NAMES].sort(),
    );
    const [host6, aliases6, addresses6] = await gethostbyaddr(IGLOO_V6);
    assert.deepEqual(addresses6, [IGLOO_V6]);
    assert.deepEqual(
      [host6, ...aliases6].sort(),
      ["igloo.stacken.kth.se", "igloo6.stacken.kth.se"],
    );
  });
});

Deno.test("a server that never answers: EAI_AGAIN after attempts * timeout", async () => {
  await using server = await HoldingDnsServer.start();
  await withResolver(
    {
      nameServer: server.nameServer,
      hostsFile: null,
      timeout: 100,
      attempts: 2,
    },
    async () => {
      const start = performance.now();
      await assert.rejects(gethostbyname("silent.test"), isGai("EAI_AGAIN"));
      const elapsed = performance.now() - start;
      assert.ok(elapsed >= 195, `gave up after ${elapsed} ms`);
      assert.ok(elapsed < 5000, `gave up after ${elapsed} ms`);
      // Each attempt sent its own query.
      await server.waitForQueries(2);
      await assert.rejects(
        getaddrinfo("silent.test", 80),
        isGai("EAI_AGAIN"),
      );
      await assert.rejects(gethostbyaddr("192.0.2.1"), isGai("EAI_AGAIN"));
      // getfqdn gives the name back even then.
      assert.equal(await getfqdn("silent.test"), "silent.test");
      assert.equal(inflightQueryCount(), 0);
    },
  );
});

Deno.test("hosts file: re-read when it changes, removed, recreated", async () => {
  await using server = await HoldingDnsServer.start();
  await withTempFile("10.0.0.1 reload.test\n", (hostsFile) =>
    withResolver(
      {
        nameServer: server.nameServer,
        hostsFile,
        hostsCheckInterval: 0,
        timeout: 50,
        attempts: 1,
      },
      async () => {
        assert.equal(await gethostbyname("reload.test"), "10.0.0.1");
        await Deno.writeTextFile(hostsFile, "10.0.0.22 reload.test\n");
        assert.equal(await gethostbyname("reload.test"), "10.0.0.22");
        // Same size, so only the time stamps tell: set a distinct mtime.
        await Deno.writeTextFile(hostsFile, "10.0.0.33 reload.test\n");
        await Deno.utime(hostsFile, 1_000_000, 1_000_000);
        assert.equal(await gethostbyname("reload.test"), "10.0.0.33");
        assert.equal(server.received, 0);
        await Deno.remove(hostsFile);
        // No hosts file: the name goes to DNS (which does not answer).
        await assert.rejects(gethostbyname("reload.test"), isGai("EAI_AGAIN"));
        await server.waitForQueries(1);
        await Deno.writeTextFile(hostsFile, "10.0.0.4 reload.test\n");
        assert.equal(await gethostbyname("reload.test"), "10.0.0.4");
      },
    ));
});

Deno.test("hosts file: a check stays valid for hostsCheckInterval", async () => {
  await withTempFile("10.0.0.1 cached.test\n", async (hostsFile) => {
    await withResolver({ hostsFile, hostsCheckInterval: 60_000 }, async () => {
      assert.equal(await gethostbyname("cached.test"), "10.0.0.1");
      await Deno.writeTextFile(hostsFile, "10.0.0.2 cached.test # changed\n");
      // Within the interval the table is reused without a stat.
      assert.equal(await gethostbyname("cached.test"), "10.0.0.1");
    });
    // Configuring again starts afresh.
    await withResolver({ hostsFile, hostsCheckInterval: 60_000 }, async () => {
      assert.equal(await gethostbyname("cached.test"), "10.0.0.2");
    });
  });
});

Deno.test("cancellation: withTimeout stops a lookup and its query", async () => {
  await using server = await HoldingDnsServer.start();
  await withResolver(
    {
      nameServer: server.nameServer,
      hostsFile: null,
      timeout: 10_000,
      attempts: 3,
    },
    async () => {
      const start = performance.now();
      await assert.rejects(
        withTimeout(100, () => gethostbyname("slow.test")),
        TimeoutError,
      );
      const elapsed = performance.now() - start;
      assert.ok(elapsed < 5000, `timed out after ${elapsed} ms`);
      assert.equal(inflightQueryCount(), 0);
      await assert.rejects(
        withTimeout(100, () => gethostbynameEx("slow.test")),
        TimeoutError,
      );
      assert.equal(inflightQueryCount(), 0);
    },
  );
});

Deno.test("cancellation: kill and signal stop a lookup", async () => {
  await using server = await HoldingDnsServer.start();
  await withResolver(
    {
      nameServer: server.nameServer,
      hostsFile: null,
      timeout: 10_000,
      attempts: 3,
    },
    async () => {
      const lookup = spawn(() => getaddrinfo("slow.test", 80));
      await server.waitForQueries(2); // A and AAAA
      assert.equal(inflightQueryCount(), 2);
      lookup.kill();
      await assert.rejects(lookup.join(), TaskletExit);
      assert.equal(inflightQueryCount(), 0);

      const controller = new AbortController();
      const reason = new Error("stop");
      const pending = gethostbyaddr("192.0.2.99", {
        signal: controller.signal,
      });
      await server.waitForQueries(3);
      controller.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
      assert.equal(inflightQueryCount(), 0);
    },
  );
});

Deno.test("concurrent identical lookups share one query; one cancelled, the rest answered", async () => {
  const dns = await Dnsmasq.start(COMPAT_ZONE);
  if (dns === undefined) return;
  try {
    await using relay = await HoldingDnsServer.start();
    await withResolver(
      {
        nameServer: relay.nameServer,
        hostsFile: null,
        timeout: 10_000,
        attempts: 1,
      },
      async () => {
        const lookups = [0, 1, 2].map(() =>
          spawn(() => gethostbyname("fourier.szit.bme.hu"))
        );
        // The query is held; all three tasklets reach it before any I/O.
        await relay.waitForQueries(1);
        lookups[0].kill();
        relay.release(dns.port);
        await assert.rejects(lookups[0].join(), TaskletExit);
        assert.equal(await lookups[1].join(), "152.66.84.8");
        assert.equal(await lookups[2].join(), "152.66.84.8");
        assert.equal(relay.received, 1);
        assert.equal(inflightQueryCount(), 0);
      },
    );
  } finally {
    await dns.stop();
  }
});

Deno.test("at most maxConcurrentQueries queries at once, the others in order", async () => {
  const names = [0, 1, 2, 3, 4].map((i) => `q${i}.cap.test`);
  const dns = await Dnsmasq.start({
    hostRecords: names.map((
      name,
      i,
    ): [string, string] => [name, `192.0.2.${i}`]),
  });
  if (dns === undefined) return;
  try {
    await using relay = await HoldingDnsServer.start();
    await withResolver(
      {
        nameServer: relay.nameServer,
        hostsFile: null,
        timeout: 10_000,
        attempts: 1,
        maxConcurrentQueries: 2,
      },
      async () => {
        const lookups = names.map((name) => spawn(() => gethostbyname(name)));
        await relay.waitForQueries(2);
        assert.deepEqual(relay.names, names.slice(0, 2));
        // A cancelled lookup frees its slot for the oldest waiting one.
        lookups[0].kill();
        await assert.rejects(lookups[0].join(), TaskletExit);
        await relay.waitForQueries(3);
        assert.deepEqual(relay.names, names.slice(0, 3));
        relay.release(dns.port);
        for (let i = 1; i < names.length; i++) {
          assert.equal(await lookups[i].join(), `192.0.2.${i}`);
        }
        assert.deepEqual(relay.names, names);
        assert.equal(inflightQueryCount(), 0);
      },
    );
  } finally {
    await dns.stop();
  }
});
