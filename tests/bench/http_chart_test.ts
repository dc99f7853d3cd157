import assert from "node:assert/strict";
import {
  figuresFromResults,
  formatRps,
  type HttpFigure,
  parseHttpFigures,
  renderHttpRpsChart,
} from "../../bench/_http_chart.ts";

const FIGURES: HttpFigure[] = [
  { server: "syncless serve()", mode: "keep-alive", rps: 150_000 },
  { server: "Deno.serve", mode: "keep-alive", rps: 180_000 },
  { server: "node:http", mode: "keep-alive", rps: 90_000 },
  { server: "syncless serve()", mode: "pipelined", rps: 1_200_000 },
  { server: "Deno.serve", mode: "pipelined", rps: 200_000 },
  { server: "node:http", mode: "pipelined", rps: 110_000 },
];

/** The bars of a chart: [label, height] from each rect with a <title>. */
function bars(svg: string): [string, number][] {
  return [
    ...svg.matchAll(/height="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g),
  ].map((m) => [m[2], Number(m[1])]);
}

Deno.test("renderHttpRpsChart draws one bar per figure, heights proportional to rps", () => {
  const svg = renderHttpRpsChart(FIGURES, { subtitle: "wrk -t1 -c64" });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  const drawn = bars(svg);
  assert.equal(drawn.length, 6);
  assert.equal(drawn[0][0], "syncless serve(), keep-alive: 150k requests/s");
  const height = new Map(drawn.map(([label, h]) => [label.split(":")[0], h]));
  const ratio = height.get("syncless serve(), pipelined")! /
    height.get("Deno.serve, pipelined")!;
  assert.ok(Math.abs(ratio - 6) < 0.01, `ratio ${ratio}`);
  // Each server appears once in the legend, each mode once under its group.
  for (const name of ["syncless serve()", "Deno.serve", "node:http"]) {
    assert.equal(svg.split(`>${name}</text>`).length - 1, 1, name);
  }
  assert.match(svg, />keep-alive<\/text>/);
  assert.match(svg, />pipelined<\/text>/);
  assert.match(svg, />1\.2M<\/text>/);
  assert.match(svg, />wrk -t1 -c64<\/text>/);
});

Deno.test("renderHttpRpsChart: round y ticks from 0 above the largest value", () => {
  const svg = renderHttpRpsChart(FIGURES);
  const ticks = [...svg.matchAll(/text-anchor="end"[^>]*>([^<]*)</g)].map((m) =>
    m[1]
  );
  assert.deepEqual(ticks, ["0", "250k", "500k", "750k", "1M", "1.25M"]);
});

Deno.test("renderHttpRpsChart escapes text and reports an empty input", () => {
  const svg = renderHttpRpsChart(
    [{ server: 'a<b>&"c"', mode: "m'", rps: 1 }],
    { title: "x & y" },
  );
  assert.ok(!svg.includes("a<b>"));
  assert.match(svg, /a&#60;b&#62;&#38;&#34;c&#34;/);
  assert.match(svg, /x &#38; y/);
  assert.match(renderHttpRpsChart([]), /no figures/);
});

Deno.test("renderHttpRpsChart rejects bad figures with typed errors", () => {
  assert.throws(
    () => renderHttpRpsChart([{ server: "s", mode: "m", rps: -1 }]),
    RangeError,
  );
  assert.throws(
    () => renderHttpRpsChart([{ server: "s", mode: "m", rps: NaN }]),
    RangeError,
  );
  assert.throws(
    () => renderHttpRpsChart([{ server: "", mode: "m", rps: 1 }]),
    TypeError,
  );
});

Deno.test("parseHttpFigures reads compare.ts's table of medians, not the rounds", () => {
  const output = [
    "wrk -t1 -c64 -d10s, pipelined depth 16, 3 rounds; load 7.1 8.3 8.4",
    "round 1 syncless serve()         keep-alive      8071 rps  pipelined    107640 rps",
    "round 1 Deno.serve               keep-alive     10121 rps  pipelined     28461 rps",
    "",
    "medians (ratio = syncless serve() / other), load 7.2 8.4 8.5",
    "| server | keep-alive rps | pipelined rps | keep-alive ratio | pipelined ratio |",
    "| --- | ---: | ---: | ---: | ---: |",
    "| syncless serve() | 12021 | 166271 | 1.00 | 1.00 |",
    "| \x1b[1mDeno.serve\x1b[0m | 16594 | 34112 | 0.72 | 4.87 |",
    "| node:http (Node.js) | 17593 | 20292 | 0.68 | 8.19 |",
    "| node:http (Deno) | 10629 | 22543 | 1.13 | 7.38 |",
    "",
    "| other table | 1 | 2 |",
  ].join("\n");
  assert.deepEqual(parseHttpFigures(output), [
    { server: "syncless serve()", mode: "keep-alive", rps: 12021 },
    { server: "syncless serve()", mode: "pipelined", rps: 166271 },
    { server: "Deno.serve", mode: "keep-alive", rps: 16594 },
    { server: "Deno.serve", mode: "pipelined", rps: 34112 },
    { server: "node:http (Node.js)", mode: "keep-alive", rps: 17593 },
    { server: "node:http (Node.js)", mode: "pipelined", rps: 20292 },
    { server: "node:http (Deno)", mode: "keep-alive", rps: 10629 },
    { server: "node:http (Deno)", mode: "pipelined", rps: 22543 },
  ]);
  assert.deepEqual(parseHttpFigures("SKIP: wrk is not installed\n"), []);
});

Deno.test("figuresFromResults reads the medians of results.json", () => {
  const results = {
    command: "deno run -A bench/http/compare.ts",
    samples: { "Deno.serve": { keepAlive: [1, 2], pipelined: [3, 4] } },
    medians: {
      "syncless serve()": { keepAlive: 12020.9, pipelined: 166271.38 },
      "Deno.serve": { keepAlive: 16594.085, pipelined: 34111.78 },
    },
  };
  assert.deepEqual(figuresFromResults(results), [
    { server: "syncless serve()", mode: "keep-alive", rps: 12020.9 },
    { server: "syncless serve()", mode: "pipelined", rps: 166271.38 },
    { server: "Deno.serve", mode: "keep-alive", rps: 16594.085 },
    { server: "Deno.serve", mode: "pipelined", rps: 34111.78 },
  ]);
  assert.throws(() => figuresFromResults({ samples: {} }), TypeError);
  assert.throws(() => figuresFromResults(null), TypeError);
});

Deno.test("formatRps", () => {
  assert.equal(formatRps(950), "950");
  assert.equal(formatRps(123_456), "123k");
  assert.equal(formatRps(1_950_000), "1.95M");
  assert.equal(formatRps(0), "0");
});

Deno.test("renderHttpRpsChart wraps a long legend instead of running off the image", () => {
  const servers = [
    "syncless serve()",
    "Deno.serve",
    "node:http (Node.js)",
    "node:http (Deno)",
    "raw Deno.listen loop",
  ];
  const svg = renderHttpRpsChart(
    servers.map((server, i) => ({ server, mode: "keep-alive", rps: i + 1 })),
    { width: 720 },
  );
  const legend = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)">([^<]+)</g)]
    .map((m) => ({ x: Number(m[1]), y: Number(m[2]), text: m[3] }));
  assert.deepEqual(legend.map((l) => l.text), servers);
  for (const { x, text } of legend) {
    assert.ok(x + text.length * 7 <= 720, `${text} at ${x}`);
  }
  assert.ok(new Set(legend.map((l) => l.y)).size >= 2, "wrapped into rows");
  // The bars start below the last legend row.
  const barTops = [
    ...svg.matchAll(
      /<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="[\d.]+" fill="[^"]+"><title>/g,
    ),
  ]
    .map((m) => Number(m[1]));
  const lastRow = Math.max(...legend.map((l) => l.y));
  for (const barTop of barTops) assert.ok(barTop > lastRow, `${barTop}`);
});
