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
  const left = 70, right = 20, top = 80, bottom = 50;
  const plotW = width - left - right, plotH = height - top - bottom;
  const max = Math.max(...figures.map((f) => f.rps)) || 1;
  const step = niceStep(max, 5);
  const axisMax = Math.ceil(max / step) * step;
  const y = (v: number) => top + plotH - (v / axisMax) * plotH;

  // Legend, one entry per server.
  let lx = left;
  for (const [i, server] of servers.entries()) {
    out.push(
      `<rect x="${lx}" y="54" width="12" height="12" fill="${
        COLORS[i % COLORS.length]
      }"/>`,
    );
    out.push(`<text x="${lx + 16}" y="64">${escapeXml(server)}</text>`);
    lx += 16 + server.length * 7 + 24;
  }
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

/** Which server a line of output is about, or undefined. */
function serverOf(line: string): string | undefined {
  if (/node:http|\bnode\b/i.test(line)) return "node:http";
  if (/Deno\.serve/i.test(line)) return "Deno.serve";
  if (/syncless|\bours\b|\bserve\(\)|wsgi/i.test(line)) {
    return "syncless serve()";
  }
  return undefined;
}

/** Which load mode a line of output is about, or undefined. */
function modeOf(line: string): string | undefined {
  if (/pipelin/i.test(line)) return "pipelined";
  if (/keep-?alive/i.test(line)) return "keep-alive";
  return undefined;
}

/**
 * Finds the requests/s figures in the HTTP comparison's printed output. A
 * figure is a line naming a server (`syncless`/`ours`/`serve()`,
 * `Deno.serve`, `node:http`), a mode (`keep-alive`, `pipelined`) and a
 * number followed by `rps`, `req/s` or `requests/s` (digits may be grouped
 * with spaces, commas or `_`). A JSON line `{"server", "mode", "rps"}` also
 * counts. Lines giving a figure already seen for the same server and mode
 * replace it (the last one wins, e.g. a final median).
 */
export function parseHttpFigures(output: string): HttpFigure[] {
  const found = new Map<string, HttpFigure>();
  for (const raw of output.split("\n")) {
    const line = raw.replace(ANSI_COLOR, "").trim();
    let figure: HttpFigure | undefined;
    if (line.startsWith("{")) {
      try {
        const json = JSON.parse(line);
        if (
          typeof json.server === "string" && typeof json.mode === "string" &&
          typeof json.rps === "number"
        ) {
          figure = {
            server: serverOf(json.server) ?? json.server,
            mode: modeOf(json.mode) ?? json.mode,
            rps: json.rps,
          };
        }
      } catch {
        // Not JSON after all: try it as text below.
      }
    }
    if (figure === undefined) {
      const server = serverOf(line);
      const mode = modeOf(line);
      const number =
        /(\d{1,3}(?:[ ,_\u202f]\d{3})+|\d+(?:\.\d+)?)\s*(k|M)?\s*(?:rps|req\/s|requests\/s)/i
          .exec(line);
      if (server === undefined || mode === undefined || number === null) {
        continue;
      }
      const scale = number[2] === "k" ? 1e3 : number[2] === "M" ? 1e6 : 1;
      figure = {
        server,
        mode,
        rps: Number(number[1].replace(/[ ,_\u202f]/g, "")) * scale,
      };
    }
    if (Number.isFinite(figure.rps) && figure.rps >= 0) {
      found.set(`${figure.server}\0${figure.mode}`, figure);
    }
  }
  return [...found.values()];
}
