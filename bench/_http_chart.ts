/**
 * The HTTP requests/s chart of docs/BENCHMARKS.md: figures parsed out of the
 * HTTP comparison's printed output, drawn as a grouped bar chart in SVG. Pure
 * functions (text in, text out), so that they can be unit-tested.
 *
 * @module
 */

/** One measured figure: a server, a load mode and its requests per second. */
export interface HttpFigure {
  /** The server, e.g. `"syncless serve()"`, `"Deno.serve"`, `"node:http"`. */
  server: string;
  /** The load, e.g. `"keep-alive"` or `"pipelined"`. */
  mode: string;
  /** Requests per second (a finite number >= 0). */
  rps: number;
}

/** Options for {@linkcode renderHttpRpsChart}. */
export interface ChartOptions {
  /** The title at the top. @default {"HTTP requests per second (higher is better)"} */
  title?: string;
  /** A smaller line under the title, e.g. the command and machine. @default {""} */
  subtitle?: string;
  /** Width of the image in pixels. @default {720} */
  width?: number;
  /** Height of the image in pixels. @default {400} */
  height?: number;
}

const COLORS = ["#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a", "#c62828"];

/** Escapes text for SVG content and attribute values. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `123456` → `"123k"`, `1950000` → `"1.95M"`, `950` → `"950"`. */
export function formatRps(rps: number): string {
  if (rps >= 1e6) return `${Number((rps / 1e6).toPrecision(3))}M`;
  if (rps >= 1e3) return `${Number((rps / 1e3).toPrecision(3))}k`;
  return String(Math.round(rps));
}

/** A round step (1, 2, 2.5 or 5 times a power of ten) giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw)!;
  return step * power;
}

function firstSeen(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Draws `figures` as an SVG bar chart: one group of bars per mode, one bar
 * (and one legend entry and colour) per server, each labelled with its value.
 * The y axis starts at 0 and has round ticks. With no figures, the image
 * says so.
 *
 * @throws {TypeError} when a figure has an empty server or mode.
 * @throws {RangeError} when a figure's `rps` is not a finite number >= 0.
 */
export function renderHttpRpsChart(
  figures: readonly HttpFigure[],
  options: ChartOptions = {},
): string {
  const {
    title = "HTTP requests per second (higher is better)",
    subtitle = "",
    width = 720,
    height = 400,
  } = options;
  for (const f of figures) {
    if (
      typeof f.server !== "string" || f.server === "" ||
      typeof f.mode !== "string" || f.mode === ""
    ) {
      throw new TypeError(
        `a figure needs a server and a mode: ${JSON.stringify(f)}`,
      );
    }
    if (typeof f.rps !== "number" || !Number.isFinite(f.rps) || f.rps < 0) {
      throw new RangeError(
        `rps must be a finite number >= 0, got ${f.rps} for ${f.server} ${f.mode}`,
      );
    }
  }
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${
      width / 2
    }" y="24" text-anchor="middle" font-size="16" font-weight="bold">${
      escapeXml(title)
    }</text>`,
  ];
  if (subtitle !== "") {
    out.push(
      `<text x="${width / 2}" y="42" text-anchor="middle" fill="#555555">${
        escapeXml(subtitle)
      }</text>`,
    );
  }
  if (figures.length === 0) {
    out.push(
      `<text x="${width / 2}" y="${
        height / 2
      }" text-anchor="middle" fill="#555555">no figures</text>`,
      "</svg>",
    );
    return out.join("\n") + "\n";
  }

  const servers = firstSeen(figures.map((f) => f.server));
  const modes = firstSeen(figures.map((f) => f.mode));
  const left = 70, right = 20, bottom = 50;

  // Legend, one entry per server, wrapped into as many rows as it needs
  // (text width estimated at 7 px per character).
  let lx = left, ly = 54;
  for (const [i, server] of servers.entries()) {
    const itemWidth = 16 + server.length * 7 + 24;
    if (lx > left && lx + itemWidth - 24 > width - right) {
      lx = left;
      ly += 18;
    }
    out.push(
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${
        COLORS[i % COLORS.length]
      }"/>`,
    );
    out.push(
      `<text x="${lx + 16}" y="${ly + 10}">${escapeXml(server)}</text>`,
    );
    lx += itemWidth;
  }
  const top = ly + 26;
  const plotW = width - left - right, plotH = height - top - bottom;
  const max = Math.max(...figures.map((f) => f.rps)) || 1;
  const step = niceStep(max, 5);
  const axisMax = Math.ceil(max / step) * step;
  const y = (v: number) => top + plotH - (v / axisMax) * plotH;

  // Grid lines and tick labels.
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    const gy = y(v).toFixed(1);
    out.push(
      `<line x1="${left}" y1="${gy}" x2="${
        width - right
      }" y2="${gy}" stroke="#dddddd"/>`,
    );
    out.push(
      `<text x="${
        left - 6
      }" y="${gy}" text-anchor="end" dominant-baseline="middle" fill="#555555">${
        formatRps(v)
      }</text>`,
    );
  }
  // Bars: groups of servers, one group per mode.
  const groupW = plotW / modes.length;
  const barW = Math.min(60, (groupW * 0.8) / servers.length);
  for (const [m, mode] of modes.entries()) {
    const groupX = left + m * groupW + (groupW - barW * servers.length) / 2;
    for (const [s, server] of servers.entries()) {
      const figure = figures.find((f) =>
        f.mode === mode && f.server === server
      );
      if (figure === undefined) continue;
      const x = (groupX + s * barW).toFixed(1);
      const top = y(figure.rps);
      const label = `${server}, ${mode}: ${formatRps(figure.rps)} requests/s`;
      out.push(
        `<rect x="${x}" y="${top.toFixed(1)}" width="${
          (barW - 4).toFixed(1)
        }" height="${(y(0) - top).toFixed(1)}" fill="${
          COLORS[s % COLORS.length]
        }"><title>${escapeXml(label)}</title></rect>`,
      );
      out.push(
        `<text x="${(groupX + s * barW + (barW - 4) / 2).toFixed(1)}" y="${
          (top - 4).toFixed(1)
        }" text-anchor="middle">${formatRps(figure.rps)}</text>`,
      );
    }
    out.push(
      `<text x="${(left + (m + 0.5) * groupW).toFixed(1)}" y="${
        height - bottom + 20
      }" text-anchor="middle" font-weight="bold">${escapeXml(mode)}</text>`,
    );
  }
  out.push(
    `<line x1="${left}" y1="${y(0)}" x2="${width - right}" y2="${
      y(0)
    }" stroke="#333333"/>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}

// Colour codes a terminal-aware script may print (ESC [ ... m).
const ANSI_COLOR = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");

const MODES: [key: "keepAlive" | "pipelined", mode: string][] = [
  ["keepAlive", "keep-alive"],
  ["pipelined", "pipelined"],
];

/**
 * The figures of bench/http/compare.ts's `results.json`: its `medians`,
 * `{ [server]: { keepAlive, pipelined } }`, in the order given.
 *
 * @throws {TypeError} when `results` has no `medians` object.
 */
export function figuresFromResults(results: unknown): HttpFigure[] {
  const medians = (results as { medians?: unknown } | null)?.medians;
  if (medians === null || typeof medians !== "object") {
    throw new TypeError(
      "expected the results of bench/http/compare.ts, with medians",
    );
  }
  const figures: HttpFigure[] = [];
  for (const [server, value] of Object.entries(medians)) {
    for (const [key, mode] of MODES) {
      const rps = (value as Record<string, unknown>)?.[key];
      if (typeof rps === "number" && Number.isFinite(rps) && rps >= 0) {
        figures.push({ server, mode, rps });
      }
    }
  }
  return figures;
}

/**
 * Finds the requests/s figures in bench/http/compare.ts's printed output:
 * the markdown table of medians, whose header names a `keep-alive rps` and a
 * `pipelined rps` column (`| server | keep-alive rps | pipelined rps | ...`).
 * The first column is the server. When several such tables are printed, the
 * last one wins for each server.
 */
export function parseHttpFigures(output: string): HttpFigure[] {
  const found = new Map<string, HttpFigure>();
  let columns: [index: number, mode: string][] | undefined;
  for (const raw of output.split("\n")) {
    const line = raw.replace(ANSI_COLOR, "").trim();
    if (!line.startsWith("|")) {
      columns = undefined;
      continue;
    }
    const cells = line.slice(1, line.endsWith("|") ? -1 : undefined)
      .split("|").map((cell) => cell.trim());
    const header: [number, string][] = [];
    for (const [i, cell] of cells.entries()) {
      if (/^keep-?alive\b.*rps/i.test(cell)) header.push([i, "keep-alive"]);
      else if (/^pipelined\b.*rps/i.test(cell)) header.push([i, "pipelined"]);
    }
    if (header.length > 0) {
      columns = header;
      continue;
    }
    if (columns === undefined || /^:?-+:?$/.test(cells[0] ?? "")) continue;
    for (const [i, mode] of columns) {
      const rps = Number((cells[i] ?? "").replace(/[ ,_\u202f]/g, ""));
      if (
        cells[0] !== "" && cells[i] !== "" && Number.isFinite(rps) && rps >= 0
      ) {
        found.set(`${cells[0]}\0${mode}`, { server: cells[0], mode, rps });
      }
    }
  }
  return [...found.values()];
}
