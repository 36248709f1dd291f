// Sweep figures that scale and never average silently: a heat map (a final metric over two
// parameters) or line plot (the metric against one parameter, one line per value of another),
// optionally faceted, filtered and aggregated. The rows are reduced here, in plain loops, to one
// datum per drawn cell, so vega only ever sees compact data: quantitative scales with explicit
// domains (no per-value sort arrays, which vega-lite compiles into expressions nested once per
// value), a fixed figure size, and above RECT_LIMIT cells the heat map as one embedded image.
// Runs anywhere: no renderer, nothing from `node:`.
import { PlurisimError } from "./errors.js";
import { base64, encodePng, viridis, VIRIDIS } from "./png.js";
import { formatNumber } from "./number-format.js";

/** The reductions a figure may apply to the rows that share a drawn cell. */
export const AGGREGATES = ["mean", "median", "min", "max", "sd"] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** A row as the sweep figures read it (a subset of a sweep result line). */
export interface FigureRow {
  cell: number;
  replicate?: number;
  params: Record<string, unknown>;
  status: string;
  final?: Record<string, unknown>;
}

/** One `--where PATH=VALUE` filter. */
export interface WhereClause {
  path: string;
  value: string;
}

export interface SweepFigureOptions {
  /** "heatmap" (x, y, colour = metric) or "line" (x, metric, one line per `series` value). Default: heatmap when two parameters vary, else line. */
  chart?: "heatmap" | "line";
  x?: string;
  y?: string;
  /** Line plots: the parameter whose values get one line each. */
  series?: string;
  metric?: string;
  facet?: string;
  where?: WhereClause[];
  aggregate?: Aggregate;
  title?: string;
  /** Reads `metric` from a row's final metrics (charts.ts metricReader); null when absent or not finite. */
  read: (final: Record<string, unknown> | undefined) => number | null;
}

/** Drawn cells above which a heat map panel is one embedded image instead of one rect each. */
export const RECT_LIMIT = 20_000;
/** Panels a faceted figure may have. */
export const MAX_PANELS = 36;
/** Lines a line plot may have. */
export const MAX_LINES = 100;
/** No figure is wider than this (pixels at scale 1). */
export const MAX_WIDTH = 4000;
const PANEL_W = 440;
const PANEL_H = 320;

function fail(field: string, message: string, value?: unknown): never {
  throw new PlurisimError("INVALID_SCENARIO", message, { field, value });
}

/** A parameter value as a Map key: numbers and strings as they are, anything else as JSON. */
const keyOf = (v: unknown): unknown => (typeof v === "number" || typeof v === "string" ? v : JSON.stringify(v ?? null));

/** A parameter value as text: numbers in up to 6 significant digits. */
export function valueLabel(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : formatNumber(v, { digits: 6, small: 0, large: Infinity });
  return typeof v === "string" ? v : JSON.stringify(v ?? null);
}

const paramOf = (row: FigureRow, path: string): unknown => (path === "cell" ? row.cell : row.params?.[path]);

/** One dimension of the figure: its distinct values in order and how they map to positions. */
interface Dim {
  path: string;
  values: unknown[];
  index: Map<unknown, number>;
  numeric: boolean;
  log: boolean;
}

function order(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "inf" || v === "Infinity") return Infinity;
  const n = Number(v);
  return Number.isNaN(n) ? Infinity : n;
}

/** Distinct values of a path over the rows, sorted (numbers ascending, "inf" last, then text). */
function makeDim(rows: FigureRow[], path: string): Dim {
  const seen = new Map<unknown, unknown>();
  for (const r of rows) {
    const v = paramOf(r, path);
    const k = keyOf(v);
    if (!seen.has(k)) seen.set(k, v);
  }
  const values = [...seen.values()].sort((a, b) => order(a) - order(b) || (order(a) === order(b) ? valueLabel(a).localeCompare(valueLabel(b)) : 0));
  const index = new Map<unknown, number>();
  values.forEach((v, i) => index.set(keyOf(v), i));
  const numeric = values.every((v) => typeof v === "number" && Number.isFinite(v));
  return { path, values, index, numeric, log: numeric && isGeometric(values as number[]) };
}

/** A logspace axis: positive values, at least 3, with a constant ratio (and not a constant step). */
function isGeometric(v: number[]): boolean {
  if (v.length < 3 || v[0] <= 0) return false;
  const r = v[1] / v[0];
  if (!(r > 1)) return false;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i] / v[i - 1] / r - 1) > 1e-6) return false;
  return true;
}

/** Edges of the drawn cells of a dimension, in data units (log midpoints on a log axis, index +- 1/2 for text). */
function edges(d: Dim): Float64Array {
  const n = d.values.length;
  const e = new Float64Array(n + 1);
  if (!d.numeric) {
    for (let i = 0; i <= n; i++) e[i] = i - 0.5;
    return e;
  }
  const t = (d.values as number[]).map((v) => (d.log ? Math.log10(v) : v));
  if (n === 1) {
    e[0] = t[0] - 0.5;
    e[1] = t[0] + 0.5;
  } else {
    for (let i = 1; i < n; i++) e[i] = (t[i - 1] + t[i]) / 2;
    e[0] = t[0] - (t[1] - t[0]) / 2;
    e[n] = t[n - 1] + (t[n - 1] - t[n - 2]) / 2;
  }
  return d.log ? e.map((x) => 10 ** x) : e;
}

/** The position of a dimension's i-th value on its axis (index for text values). */
const position = (d: Dim, i: number): number => (d.numeric ? (d.values[i] as number) : i);

/** A Vega-Lite axis for a dimension: quantitative (log for logspace), text values labelled by index. */
function axisFor(d: Dim, e: Float64Array, title: string): Record<string, unknown> {
  const scale: Record<string, unknown> = { domain: [e[0], e[e.length - 1]], nice: false, ...(d.log ? { type: "log" } : { zero: false }) };
  // A few values: a tick at each; many: the scale's own ticks.
  if (d.numeric) return { scale, axis: { title, grid: false, labelOverlap: true, ...(d.values.length <= 12 ? { values: d.values } : { tickCount: 8 }) } };
  const n = d.values.length;
  const step = Math.max(1, Math.ceil(n / 20));
  const ticks = Array.from({ length: Math.ceil(n / step) }, (_, k) => k * step);
  const labels = JSON.stringify(d.values.map(valueLabel));
  return { scale, axis: { title, grid: false, values: ticks, labelExpr: `${labels}[datum.value]`, labelOverlap: true } };
}

function matches(v: unknown, want: string): boolean {
  if (valueLabel(v) === want || String(v) === want) return true;
  if (typeof v === "number") {
    const w = Number(want);
    return want.trim() !== "" && Number.isFinite(w) && Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(v));
  }
  return (v === "inf" || v === "Infinity") && (want === "inf" || want === "Infinity");
}

/** Reduces values by an aggregate (null when there is none; sd is the sample one, n - 1). */
function reduce(values: Float64Array, agg: Aggregate | undefined): number | null {
  const n = values.length;
  if (n === 0) return null;
  if (n === 1) return agg === "sd" ? 0 : values[0];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  if (!agg || agg === "mean") return sum / n;
  if (agg === "min") return values.reduce((a, b) => Math.min(a, b));
  if (agg === "max") return values.reduce((a, b) => Math.max(a, b));
  if (agg === "median") {
    const s = Float64Array.from(values).sort();
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  const mu = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mu) ** 2;
  return Math.sqrt(ss / (n - 1));
}

function sd(values: Float64Array): number {
  return reduce(values, "sd") ?? 0;
}

/** The sweep figure's data, reduced: for tests and for the page's own drawing. */
export interface SweepFigureData {
  chart: "heatmap" | "line";
  x: string;
  y: string | null;
  facet: string | null;
  metric: string;
  aggregate: Aggregate | null;
  /** Dimensions reduced by the aggregate ("replicate" when rows repeat with equal parameters). */
  reduced: string[];
  rows: number;
  cells: { facet: string | null; x: number; y: number | null; value: number | null; sd: number | null; n: number; failed: number }[];
  title: string;
}

/**
 * Reduces sweep rows to the cells of a figure. Throws INVALID_SCENARIO naming the field when an
 * option names nothing the rows carry, when a filter keeps no row, and when a parameter varies
 * within a drawn cell that is neither plotted, faceted, filtered nor aggregated.
 */
export function sweepFigureData(
  all: FigureRow[],
  options: SweepFigureOptions,
): SweepFigureData & { dims: { x: Dim; y: Dim | null; facet: Dim | null }; buckets: { count: number; x: Int32Array; y: Int32Array; facet: Int32Array; value: Float64Array; range: [number, number] } } {
  if (all.length === 0) fail("input", "the sweep has no rows to draw");
  const metric = options.metric ?? "basinMass[0]";
  const paths = new Set<string>(["cell"]);
  for (const r of all) for (const k of Object.keys(r.params ?? {})) paths.add(k);
  const named = { x: options.x, y: options.y, series: options.series, facet: options.facet };
  for (const [flag, path] of Object.entries(named)) {
    if (path !== undefined && !paths.has(path)) fail(flag, `--${flag} must be a parameter of the sweep's rows: ${[...paths].join(", ")} (got ${JSON.stringify(path)})`, path);
  }
  if (options.aggregate !== undefined && !(AGGREGATES as readonly string[]).includes(options.aggregate)) {
    fail("aggregate", `--aggregate must be one of ${AGGREGATES.join(", ")} (got ${JSON.stringify(options.aggregate)})`, options.aggregate);
  }
  let rows = all;
  for (const w of options.where ?? []) {
    if (!paths.has(w.path)) fail("where", `--where ${w.path}=${w.value}: ${JSON.stringify(w.path)} is not a parameter of the sweep's rows: ${[...paths].join(", ")}`, `${w.path}=${w.value}`);
    const kept = rows.filter((r) => matches(paramOf(r, w.path), w.value));
    if (kept.length === 0) {
      const have = makeDim(rows, w.path).values.slice(0, 12).map(valueLabel);
      fail("where", `--where ${w.path}=${w.value} keeps no row; ${w.path} takes the values ${have.join(", ")}${have.length === 12 ? ", ..." : ""}`, `${w.path}=${w.value}`);
    }
    rows = kept;
  }
  // Parameters that vary among the kept rows, in the order of the first row.
  const varying = [...paths].filter((p) => p !== "cell" && makeDimCount(rows, p) > 1);
  const used = new Set([named.facet, named.x, named.y, named.series].filter((p): p is string => p !== undefined));
  const free = varying.filter((p) => !used.has(p));
  const chart = options.chart ?? (options.series !== undefined ? "line" : options.y !== undefined ? "heatmap" : varying.length - (named.facet && varying.includes(named.facet) ? 1 : 0) >= 2 ? "heatmap" : "line");
  const xPath = named.x ?? free.shift() ?? "cell";
  const yPath = (chart === "heatmap" ? named.y : named.series) ?? (chart === "heatmap" ? (free.shift() ?? null) : null);
  if (chart === "heatmap" && named.series !== undefined) fail("series", "--series is for line plots (--chart line); a heat map takes --y", named.series);
  if (chart === "line" && named.y !== undefined) fail("y", "--y is for heat maps; a line plot draws the metric on y and takes --series for one line per value", named.y);
  const x = makeDim(rows, xPath);
  const y = yPath === null ? null : makeDim(rows, yPath);
  const facet = named.facet === undefined ? null : makeDim(rows, named.facet);
  if (facet && facet.values.length > MAX_PANELS) fail("facet", `--facet ${facet.path} has ${facet.values.length} values; a figure holds at most ${MAX_PANELS} panels: filter with --where or facet by another parameter`, facet.path);
  if (chart === "line" && y && y.values.length > MAX_LINES) fail("series", `--series ${y.path} has ${y.values.length} values; a line plot holds at most ${MAX_LINES} lines: filter with --where or draw a heat map`, y.path);

  const nx = x.values.length;
  const ny = y ? y.values.length : 1;
  // Rows go to drawn cells ("buckets") in plain typed arrays: a million rows make no per-row objects.
  const n = rows.length;
  // Bucket lookup: a dense table when the grid is not much larger than the rows, else a Map.
  const gridSize = (facet ? facet.values.length : 1) * ny * nx;
  const dense = gridSize <= Math.max(4 * n, 1 << 20) ? new Int32Array(gridSize).fill(-1) : null;
  const bucketOf = new Map<number, number>();
  const bx = new Int32Array(n);
  const by = new Int32Array(n);
  const bf = new Int32Array(n);
  const count = new Int32Array(n);
  const failedIn = new Int32Array(n);
  const rowBucket = new Int32Array(n);
  const rowValue = new Float64Array(n);
  let buckets = 0;
  const drawn = new Set([xPath, yPath, named.facet].filter((p): p is string => p !== null && p !== undefined));
  const others = [...paths].filter((p) => p !== "cell" && !drawn.has(p));
  // For each other parameter, the first value seen in each drawn cell: a second value means it varies there.
  const otherIndex = others.map(() => new Map<unknown, number>());
  const firstSeen = others.map(() => new Int32Array(n).fill(-1));
  const mixed = new Set<string>();
  for (let ri = 0; ri < n; ri++) {
    const r = rows[ri];
    const xi = x.index.get(keyOf(paramOf(r, xPath)))!;
    const yi = y ? y.index.get(keyOf(paramOf(r, y.path)))! : 0;
    const fi = facet ? facet.index.get(keyOf(paramOf(r, facet.path)))! : 0;
    const key = (fi * ny + yi) * nx + xi;
    let b = dense ? dense[key] : (bucketOf.get(key) ?? -1);
    if (b < 0) {
      b = buckets++;
      if (dense) dense[key] = b;
      else bucketOf.set(key, b);
      bx[b] = xi;
      by[b] = yi;
      bf[b] = fi;
    }
    count[b]++;
    rowBucket[ri] = b;
    rowValue[ri] = NaN;
    if (r.status !== "ok") failedIn[b]++;
    else {
      const v = options.read(r.final);
      if (v !== null) rowValue[ri] = v;
    }
    for (let j = 0; j < others.length; j++) {
      const dict = otherIndex[j];
      const k = keyOf(paramOf(r, others[j]));
      let id = dict.get(k);
      if (id === undefined) dict.set(k, (id = dict.size));
      const seen = firstSeen[j];
      if (seen[b] === -1) seen[b] = id;
      else if (seen[b] !== id) mixed.add(others[j]);
    }
  }
  const reduced = others.filter((p) => mixed.has(p));
  let maxRows = 0;
  let failed = 0;
  for (let b = 0; b < buckets; b++) {
    maxRows = Math.max(maxRows, count[b]);
    failed += failedIn[b];
  }
  if (maxRows > 1 && reduced.length === 0) reduced.push("replicate");
  if (reduced.length > 0 && !options.aggregate) {
    const list = reduced.join(", ");
    fail(
      "aggregate",
      `${list} ${reduced.length > 1 ? "vary" : "varies"} within the cells of this figure but ${reduced.length > 1 ? "are" : "is"} neither plotted (--x, --${chart === "line" ? "series" : "y"}), faceted (--facet), filtered (--where PATH=VALUE) nor aggregated (--aggregate ${AGGREGATES.join("|")})`,
      reduced,
    );
  }
  const aggregate = reduced.length > 0 ? options.aggregate! : null;
  // The values of each bucket, contiguous (a counting sort of the rows by bucket).
  const start = new Int32Array(buckets + 1);
  for (let ri = 0; ri < n; ri++) if (!Number.isNaN(rowValue[ri])) start[rowBucket[ri] + 1]++;
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
  const fill = start.slice(0, buckets);
  const sorted = new Float64Array(start[buckets]);
  for (let ri = 0; ri < n; ri++) if (!Number.isNaN(rowValue[ri])) sorted[fill[rowBucket[ri]]++] = rowValue[ri];
  const value = new Float64Array(buckets);
  let lo = Infinity;
  let hi = -Infinity;
  for (let b = 0; b < buckets; b++) {
    const v = reduce(sorted.subarray(start[b], start[b + 1]), aggregate ?? undefined);
    value[b] = v === null ? NaN : v;
    if (v !== null && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  // Cell objects only when asked for (line plots, rect marks, tests): a raster needs the arrays alone.
  let cells: SweepFigureData["cells"] | undefined;
  const makeCells = (): SweepFigureData["cells"] => {
    if (cells) return cells;
    cells = new Array(buckets);
    for (let b = 0; b < buckets; b++) {
      const values = sorted.subarray(start[b], start[b + 1]);
      cells[b] = {
        facet: facet ? valueLabel(facet.values[bf[b]]) : null,
        x: bx[b],
        y: y ? by[b] : null,
        value: Number.isNaN(value[b]) ? null : value[b],
        sd: aggregate === "mean" && values.length > 1 ? sd(values) : null,
        n: values.length,
        failed: failedIn[b],
      };
    }
    return cells;
  };
  const what = aggregate ? `${aggregate} of ${metric}` : metric;
  const over = chart === "heatmap" ? `over ${xPath}${yPath ? ` x ${yPath}` : ""}` : `against ${xPath}${yPath ? `, one line per ${yPath}` : ""}`;
  const parts = [`${what} ${over}`];
  if (facet) parts.push(`by ${facet.path}`);
  if (aggregate) parts.push(`${aggregate} over ${reduced.join(", ")} (up to ${maxRows} rows per ${chart === "heatmap" ? "cell" : "point"})`);
  for (const w of options.where ?? []) parts.push(`where ${w.path} = ${w.value}`);
  if (failed) parts.push(`${failed} failed rows${chart === "heatmap" ? " grey" : " left out"}`);
  return {
    chart,
    x: xPath,
    y: yPath,
    facet: facet?.path ?? null,
    metric,
    aggregate,
    reduced,
    rows: rows.length,
    get cells() {
      return makeCells();
    },
    title: options.title ?? parts.join("; "),
    dims: { x, y, facet },
    buckets: { count: buckets, x: bx, y: by, facet: bf, value, range: [lo, hi] },
  };
}

function makeDimCount(rows: FigureRow[], path: string): number {
  const seen = new Set<unknown>();
  for (const r of rows) {
    seen.add(keyOf(paramOf(r, path)));
    if (seen.size > 1) return 2;
  }
  return seen.size;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The Vega-Lite spec of a sweep figure (see sweepFigureData for what it refuses). */
export function sweepFigureSpec(rows: FigureRow[], options: SweepFigureOptions, config: Record<string, unknown> = {}): Record<string, unknown> {
  const data = sweepFigureData(rows, options);
  const { x, y, facet } = data.dims;
  const panels = facet ? facet.values.length : 1;
  const columns = Math.min(panels, 4);
  const width = Math.min(PANEL_W, Math.floor((MAX_WIDTH - 160) / columns) - 40);
  const height = PANEL_H;
  const ex = edges(x);
  // Lines span the values themselves; heat map cells span their edges.
  const xAxis = axisFor(x, data.chart === "line" && x.numeric ? Float64Array.from([x.values[0] as number, x.values[x.values.length - 1] as number]) : ex, x.path);
  const head = { $schema: SCHEMA, config, title: { text: wrapTitle(data.title, 80) } };
  const facetOf = (body: Record<string, unknown>, values: Record<string, unknown>[]) =>
    facet
      ? {
          ...head,
          data: { values },
          facet: { field: "facet", type: "ordinal", title: facet.path, sort: { field: "fo" }, header: { labelFontSize: 11 } },
          columns,
          spec: { width, height, ...body },
          resolve: { scale: { x: "shared", y: "shared" } },
        }
      : { ...head, width, height, data: { values }, ...body };
  const facetOrder = (label: string | null) => (facet && label !== null ? facet.index.get(keyOf(facet.values.find((v) => valueLabel(v) === label))) ?? 0 : 0);

  if (data.chart === "line") {
    const values = data.cells
      .filter((c) => c.value !== null)
      .map((c) => {
        const v = c.value as number;
        return {
          x: position(x, c.x),
          value: v,
          lo: c.sd === null ? null : v - c.sd,
          hi: c.sd === null ? null : v + c.sd,
          series: y ? valueLabel(y.values[c.y!]) : "",
          so: c.y ?? 0,
          facet: c.facet,
          fo: facetOrder(c.facet),
        };
      })
      .sort((a, b) => a.fo - b.fo || a.so - b.so || a.x - b.x);
    const seriesDomain = y ? y.values.map(valueLabel) : [];
    const color = y ? { color: { field: "series", type: "nominal", title: y.path, scale: { domain: seriesDomain } } } : {};
    const xEnc = { field: "x", type: "quantitative", ...xAxis, title: x.path };
    const layers: Record<string, unknown>[] = [];
    if (data.aggregate === "mean" && values.some((v) => v.lo !== null)) {
      layers.push({
        transform: [{ filter: "datum.lo !== null" }],
        mark: { type: "area", opacity: 0.18 },
        encoding: { x: xEnc, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, ...(y ? { color: color.color!, detail: { field: "series" } } : {}) },
      });
    }
    layers.push({
      mark: { type: "line", point: x.values.length <= 40, strokeWidth: 1.6 },
      encoding: {
        x: xEnc,
        y: { field: "value", type: "quantitative", title: data.aggregate ? `${data.aggregate} of ${data.metric}${data.aggregate === "mean" ? " (band: ± sd)" : ""}` : data.metric, scale: { zero: false } },
        ...color,
        order: { field: "x" },
      },
    });
    return facetOf({ layer: layers }, values);
  }

  const ey = edges(y!);
  const yAxis = axisFor(y!, ey, y!.path);
  let [lo, hi] = data.buckets.range;
  if (!(lo <= hi)) [lo, hi] = [0, 1];
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const colorTitle = data.aggregate ? `${data.aggregate} of ${data.metric}` : data.metric;
  const colorScale = { domain: [lo, hi], range: VIRIDIS, interpolate: "rgb" };
  const xEnc = { type: "quantitative", ...xAxis, title: x.path };
  const yEnc = { type: "quantitative", ...yAxis, title: y!.path };
  const cellsPerPanel = x.values.length * y!.values.length;
  if (cellsPerPanel <= RECT_LIMIT) {
    const values = data.cells.map((c) => ({
      x0: ex[c.x],
      x1: ex[c.x + 1],
      y0: ey[c.y!],
      y1: ey[c.y! + 1],
      xv: valueLabel(x.values[c.x]),
      yv: valueLabel(y!.values[c.y!]),
      value: c.value,
      n: c.n,
      facet: c.facet,
      fo: facetOrder(c.facet),
    }));
    const pos = { x: { field: "x0", ...xEnc }, x2: { field: "x1" }, y: { field: "y0", ...yEnc }, y2: { field: "y1" } };
    return facetOf(
      {
        layer: [
          { transform: [{ filter: "datum.value === null" }], mark: { type: "rect", color: "#bbb" }, encoding: pos },
          {
            transform: [{ filter: "datum.value !== null" }],
            mark: "rect",
            encoding: {
              ...pos,
              color: { field: "value", type: "quantitative", title: colorTitle, scale: colorScale },
              tooltip: [
                { field: "xv", title: x.path },
                { field: "yv", title: y!.path },
                { field: "value", title: colorTitle, format: ".4g" },
                { field: "n", title: "rows" },
              ],
            },
          },
        ],
      },
      values,
    );
  }
  // Too many cells for one mark each: draw each panel as an image, pixel by pixel (2 per unit of the figure).
  const scaleX = pixelScale(x, ex, 2 * width);
  const scaleY = pixelScale(y!, ey, 2 * height);
  const images: Record<string, unknown>[] = [];
  const palette = new Uint8Array(3 * 256);
  for (let c = 0; c < 256; c++) palette.set(viridis(c / 255), 3 * c);
  for (let f = 0; f < panels; f++) {
    const label = facet ? valueLabel(facet.values[f]) : null;
    const grid = new Float64Array(x.values.length * y!.values.length).fill(NaN);
    const present = new Uint8Array(grid.length);
    const bk = data.buckets;
    for (let b = 0; b < bk.count; b++) {
      if (bk.facet[b] !== f) continue;
      const k = bk.y[b] * x.values.length + bk.x[b];
      present[k] = 1;
      grid[k] = bk.value[b];
    }
    const W = 2 * width;
    const H = 2 * height;
    const rgb = new Uint8Array(3 * W * H);
    for (let py = 0; py < H; py++) {
      const yi = scaleY[H - 1 - py];
      for (let px = 0; px < W; px++) {
        const xi = scaleX[px];
        const k = yi * x.values.length + xi;
        const o = 3 * (py * W + px);
        if (!present[k]) rgb.fill(255, o, o + 3);
        else if (Number.isNaN(grid[k])) rgb.fill(0xbb, o, o + 3);
        else {
          const c = Math.max(0, Math.min(255, Math.round(((grid[k] - lo) / (hi - lo)) * 255)));
          rgb[o] = palette[3 * c];
          rgb[o + 1] = palette[3 * c + 1];
          rgb[o + 2] = palette[3 * c + 2];
        }
      }
    }
    images.push({ facet: label, fo: f, url: `data:image/png;base64,${base64(encodePng(W, H, rgb))}`, x0: ex[0], y1: ey[ey.length - 1] });
  }
  return facetOf(
    {
      layer: [
        {
          mark: { type: "image", width, height, align: "left", baseline: "top", aspect: false, smooth: false, aria: false },
          encoding: { x: { field: "x0", ...xEnc }, y: { field: "y1", ...yEnc }, url: { field: "url", type: "nominal" } },
        },
        {
          // An invisible mark that carries the colour scale, so the legend shows the image's colours.
          transform: [{ calculate: `[${lo}, ${hi}]`, as: "legend" }, { flatten: ["legend"] }],
          mark: { type: "point", opacity: 0, aria: false },
          encoding: { x: { field: "x0", ...xEnc }, y: { field: "y1", ...yEnc }, color: { field: "legend", type: "quantitative", title: colorTitle, scale: colorScale } },
        },
      ],
    },
    images,
  );
}

/** A title as lines of at most about `width` characters, broken after "; " or ", " (a long title would widen the figure). */
function wrapTitle(title: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const part of title.split(/(?<=; |, )/)) {
    if (line !== "" && line.length + part.length > width) {
      lines.push(line.trimEnd());
      line = "";
    }
    line += part;
  }
  if (line !== "") lines.push(line.trimEnd());
  return lines;
}

/** For each of `pixels` columns across an axis, the index of the drawn cell under its centre. */
function pixelScale(d: Dim, e: Float64Array, pixels: number): Int32Array {
  const t = (v: number) => (d.log ? Math.log10(v) : v);
  const a = t(e[0]);
  const b = t(e[e.length - 1]);
  const out = new Int32Array(pixels);
  let i = 0;
  for (let p = 0; p < pixels; p++) {
    const u = a + ((p + 0.5) / pixels) * (b - a);
    while (i < d.values.length - 1 && t(e[i + 1]) <= u) i++;
    out[p] = i;
  }
  return out;
}
