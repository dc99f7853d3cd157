import assert from "node:assert/strict";
import {
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

Deno.test("parseHttpFigures reads text lines and JSON lines; the last figure wins", () => {
  const output = [
    "starting servers...",
    "syncless serve()  keep-alive   151 234 rps",
    "Deno.serve keep-alive: 180,500 req/s",
    "node:http keep-alive 90000.5 requests/s",
    "ours pipelined (depth 16): 1.95M rps",
    "\x1b[32mDeno.serve\x1b[0m pipelined 209_000 rps",
    '{"server":"node:http","mode":"pipelined","rps":116000}',
    "syncless serve() keep-alive 160000 rps   (median)",
    "node:http memory per idle connection 12 KiB",
  ].join("\n");
  assert.deepEqual(parseHttpFigures(output), [
    { server: "syncless serve()", mode: "keep-alive", rps: 160000 },
    { server: "Deno.serve", mode: "keep-alive", rps: 180500 },
    { server: "node:http", mode: "keep-alive", rps: 90000.5 },
    { server: "syncless serve()", mode: "pipelined", rps: 1950000 },
    { server: "Deno.serve", mode: "pipelined", rps: 209000 },
    { server: "node:http", mode: "pipelined", rps: 116000 },
  ]);
  assert.deepEqual(parseHttpFigures("no figures here\n"), []);
});

Deno.test("formatRps", () => {
  assert.equal(formatRps(950), "950");
  assert.equal(formatRps(123_456), "123k");
  assert.equal(formatRps(1_950_000), "1.95M");
  assert.equal(formatRps(0), "0");
});
