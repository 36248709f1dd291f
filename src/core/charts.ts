// Every figure of plurisim, defined once as a Vega-Lite spec built from plain results. The web
// page draws these specs with vega in the browser; `plurisim plot` and `plurisim report` draw
// the very same specs headless in Node (src/node/plot.ts). This file builds data and specs only:
// it imports no renderer and nothing from `node:`.
import { PlurisimError } from "./errors.js";
import { formatNumber } from "./number-format.js";
import { sweepFigureSpec, type FigureRow, type SweepFigureOptions } from "./sweep-figure.js";
import { GROUP_METRICS, SCALAR_METRICS, type Metrics, type Problem, type RunResult } from "./types.js";

/** A Vega-Lite spec (plain JSON). */
export type ChartSpec = Record<string, unknown>;

/** The geometry of the atoms a distribution lives on: a subset of the compiled Problem. */
export type Geometry = Pick<Problem, "n" | "dim" | "coords" | "cellWidth" | "gridShape">;

/** One distribution to draw (p_t at some generation, or p_0). */
export interface Series {
  label: string;
  p: ArrayLike<number>;
}

export type { FigureRow } from "./sweep-figure.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const WIDTH = 560;
const SMALL = 250;
const NASH_COLOR = "#d62728";
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: "#ccc" },
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: "#eee" },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 13, anchor: "start" },
};

function base(title: string | undefined): ChartSpec {
  return title === undefined ? { $schema: SCHEMA, config: CONFIG } : { $schema: SCHEMA, config: CONFIG, title };
}

/** Vega-Lite has no Infinity or NaN: keep finite numbers, turn the rest into null (a gap). */
const finite = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A reader of one metric such as `nashGap`, `basinMass[0]` or `basinMass.1`: the name is parsed once. */
export function metricReader(name: string): (metrics: object | undefined) => number | null {
  const m = /^([A-Za-z_$][\w$]*)(?:\[(\d+)\]|\.(\d+))?$/.exec(name);
  if (!m) return () => null;
  const key = m[1];
  const index = m[2] ?? m[3];
  const i = index === undefined ? -1 : Number(index);
  return (metrics) => {
    if (typeof metrics !== "object" || metrics === null) return null;
    let v: unknown = Reflect.get(metrics, key);
    if (i >= 0) v = Array.isArray(v) ? v[i] : undefined;
    if (typeof v === "string") v = Number(v); // toJson writes Infinity as "Infinity"
    return finite(v);
  };
}

/** Reads a metric such as `nashGap`, `basinMass[0]` or `basinMass.1` from a metrics object. */
export function metricValue(metrics: object | undefined, name: string): number | null {
  return metricReader(name)(metrics);
}

/** Options of the distribution panel. */
export interface DistributionOptions {
  /** A log scale for the mass (zero masses are then left out). */
  logY?: boolean;
  /** The run's K is finite: its Nash overlay is the K = infinity limit, and is named so. */
  finiteK?: boolean;
}

/** The name of the Nash overlay: at finite K it is the K = infinity limit, not the run's own fixed point. */
export const nashLabel = (finiteK?: boolean): string => (finiteK ? "K = infinity Nash limit" : "Nash p*");

/**
 * p_t over the atoms with the Nash solution p* overlaid: a density line on a 1-D grid with p*
 * as stems (mass per atom, right axis), a heat map with p* as circles on a 2-D grid, grouped
 * bars with p* as ticks on explicit atoms.
 */
export function distributionSpec(geometry: Geometry, series: Series[], nash?: ArrayLike<number>, title?: string, options: DistributionOptions = {}): ChartSpec {
  if (geometry.gridShape && geometry.dim === 2) return heatmapSpec(geometry, series[series.length - 1], nash, title, options);
  if (geometry.dim === 1 && geometry.cellWidth !== null) return densitySpec(geometry, series, nash, title, options);
  return atomBarsSpec(geometry, series, nash, title, options);
}

/** Series colours: p_0 grey and dashed (the start, always visible), later generations light to dark blue. */
function seriesStyle(series: Series[]): { labels: string[]; colors: string[]; dashes: number[][] } {
  const labels = series.map((s) => s.label);
  const rest = sequentialColors(series.filter((s) => s.label !== "p_0").length);
  let k = 0;
  const colors = series.map((s) => (s.label === "p_0" ? "#7f7f7f" : rest[k++]));
  const dashes = series.map((s) => (s.label === "p_0" ? [4, 2] : [1, 0]));
  return { labels, colors, dashes };
}

function densitySpec(g: Geometry, series: Series[], nash: ArrayLike<number> | undefined, title: string | undefined, options: DistributionOptions): ChartSpec {
  const h = g.cellWidth!;
  const values: { x: number; density: number | null; series: string }[] = [];
  for (const s of series) {
    for (let x = 0; x < g.n; x++) {
      const d = finite(s.p[x] / h);
      values.push({ x: g.coords[x], density: options.logY && d !== null && d <= 0 ? null : d, series: s.label });
    }
  }
  const { labels, colors, dashes } = seriesStyle(series);
  let top = 0;
  for (const v of values) if (v.density !== null) top = Math.max(top, v.density);
  // A log axis shows 16 decades below the peak: the float round-off floor, not 300 decades of underflow.
  const yScale = options.logY ? { type: "log", domain: [top * 1e-16, top * 2] } : {};
  const layers: ChartSpec[] = [
    {
      data: { values },
      mark: { type: "line", strokeWidth: 1.6, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative", title: "x", scale: { nice: false } },
        y: { field: "density", type: "quantitative", title: `density p(x) / cell width${options.logY ? " (log)" : ""}`, scale: yScale },
        color: { field: "series", type: "nominal", title: null, scale: { domain: labels, range: colors } },
        strokeDash: { field: "series", type: "nominal", title: null, scale: { domain: labels, range: dashes } },
      },
    },
  ];
  const name = nashLabel(options.finiteK);
  if (nash) {
    // p* is typically a few point masses: drawn as stems in mass per atom on its own axis, not as a density spike.
    let peak = 0;
    for (let x = 0; x < g.n; x++) peak = Math.max(peak, nash[x]);
    const stems: Record<string, unknown>[] = [];
    for (let x = 0; x < g.n; x++) if (nash[x] > peak * 1e-3) stems.push({ x: g.coords[x], mass: finite(nash[x]), zero: 0, overlay: name });
    const y = { field: "mass", type: "quantitative", title: `${name}: mass per atom`, axis: { orient: "right", titleColor: NASH_COLOR }, scale: { domain: [0, Math.max(peak, 1e-300) * 1.05] } };
    layers.push({
      data: { values: stems },
      layer: [
        { mark: { type: "rule", color: NASH_COLOR, strokeWidth: 1.5 }, encoding: { x: { field: "x", type: "quantitative" }, y, y2: { field: "zero" } } },
        { mark: { type: "point", color: NASH_COLOR, filled: true, size: 36 }, encoding: { x: { field: "x", type: "quantitative" }, y: { field: "mass", type: "quantitative" }, shape: { field: "overlay", type: "nominal", title: null, scale: { range: ["circle"] } } } },
      ],
    });
  }
  return {
    ...base(title ?? (nash ? `p_t over x (red stems: ${name})` : "p_t over x")),
    width: WIDTH,
    height: 260,
    layer: layers,
    resolve: { scale: { y: "independent" } },
  };
}

function atomBarsSpec(g: Geometry, series: Series[], nash: ArrayLike<number> | undefined, title: string | undefined, options: DistributionOptions): ChartSpec {
  const name = nashLabel(options.finiteK);
  const atomLabel = (x: number) => (g.dim === 1 ? `${x + 1}: ${Number(g.coords[x].toPrecision(3))}` : String(x + 1));
  const order = Array.from({ length: g.n }, (_, x) => atomLabel(x));
  const bars: Record<string, unknown>[] = [];
  for (const s of series) for (let x = 0; x < g.n; x++) bars.push({ atom: atomLabel(x), mass: finite(s.p[x]), series: s.label });
  const ticks = nash ? Array.from({ length: g.n }, (_, x) => ({ atom: atomLabel(x), mass: finite(nash[x]), series: name })) : [];
  const { labels, colors } = seriesStyle(series);
  const yScale = options.logY ? { type: "log" } : {};
  const x = { field: "atom", type: "ordinal", scale: { domain: order }, title: g.dim === 1 ? "atom: coordinate" : "atom" };
  const layers: ChartSpec[] = [
    {
      data: { values: options.logY ? bars.filter((b) => (b.mass as number | null) !== null && (b.mass as number) > 0) : bars },
      mark: "bar",
      encoding: {
        x,
        xOffset: { field: "series", type: "nominal", sort: labels },
        y: { field: "mass", type: "quantitative", title: `mass p(x)${options.logY ? " (log)" : ""}`, scale: yScale },
        color: { field: "series", type: "nominal", title: null, scale: { domain: labels, range: colors } },
      },
    },
  ];
  if (nash) {
    layers.push({
      data: { values: options.logY ? ticks.filter((t) => t.mass !== null && t.mass > 0) : ticks },
      mark: { type: "tick", color: NASH_COLOR, thickness: 2.5 },
      encoding: { x, y: { field: "mass", type: "quantitative", scale: yScale }, tooltip: [{ field: "mass", title: name }] },
    });
  }
  return {
    ...base(title ?? (nash ? `p_t per atom (red ticks: ${name})` : "p_t per atom")),
    width: Math.min(WIDTH, Math.max(240, g.n * 14 * Math.max(1, series.length))),
    height: 240,
    layer: layers,
  };
}

function heatmapSpec(g: Geometry, s: Series, nash: ArrayLike<number> | undefined, title: string | undefined, options: DistributionOptions): ChartSpec {
  const name = nashLabel(options.finiteK);
  const [nx, ny] = g.gridShape!;
  const cells: Record<string, unknown>[] = [];
  for (let x = 0; x < g.n; x++) cells.push({ x: g.coords[2 * x], y: g.coords[2 * x + 1], mass: finite(s.p[x]) });
  const dx = nx > 1 ? Math.abs(g.coords[2 * ny] - g.coords[0]) : 1;
  const dy = ny > 1 ? Math.abs(g.coords[3] - g.coords[1]) : 1;
  const side = Math.min(WIDTH - 120, 420);
  const layers: ChartSpec[] = [
    {
      data: { values: cells },
      transform: [
        { calculate: `datum.x - ${dx / 2}`, as: "x0" },
        { calculate: `datum.x + ${dx / 2}`, as: "x1" },
        { calculate: `datum.y - ${dy / 2}`, as: "y0" },
        { calculate: `datum.y + ${dy / 2}`, as: "y1" },
      ],
      mark: "rect",
      encoding: {
        x: { field: "x0", type: "quantitative", title: "x", scale: { nice: false, zero: false } },
        x2: { field: "x1" },
        y: { field: "y0", type: "quantitative", title: "y", scale: { nice: false, zero: false } },
        y2: { field: "y1" },
        color: { field: "mass", type: "quantitative", title: `mass (${s.label})`, scale: { scheme: "viridis" } },
      },
    },
  ];
  if (nash) {
    let top = 0;
    for (let x = 0; x < g.n; x++) top = Math.max(top, nash[x]);
    const points: Record<string, unknown>[] = [];
    for (let x = 0; x < g.n; x++) {
      if (nash[x] > top * 1e-3) points.push({ x: g.coords[2 * x], y: g.coords[2 * x + 1], nash: nash[x] });
    }
    layers.push({
      data: { values: points },
      mark: { type: "point", stroke: NASH_COLOR, strokeWidth: 1.5, filled: false },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        size: { field: "nash", type: "quantitative", title: name, scale: { range: [4, 160] } },
      },
    });
  }
  return { ...base(title ?? `${s.label} on the ${nx} x ${ny} grid${nash ? ` (red circles: ${name})` : ""}`), width: side, height: side, layer: layers };
}

function sequentialColors(k: number): string[] {
  if (k <= 1) return ["#1f77b4"];
  // From light to dark blue: early generations faint, the last one strong.
  return Array.from({ length: k }, (_, i) => {
    const t = i / (k - 1);
    const lerp = (a: number, b: number) => Math.round(a + (b - a) * t);
    return `rgb(${lerp(160, 8)}, ${lerp(200, 48)}, ${lerp(232, 107)})`;
  });
}

/**
 * Metric curves along the trajectory: basin masses per group (dashed: the Nash solution's),
 * Nash welfare (dashed: F*), nashGap on a log scale, and entropy.
 */
export function metricsSpec(trajectory: Metrics[], groupNames: string[], nash?: RunResult["nash"], title?: string): ChartSpec {
  const basin: Record<string, unknown>[] = [];
  const welfare: Record<string, unknown>[] = [];
  const gap: Record<string, unknown>[] = [];
  const entropy: Record<string, unknown>[] = [];
  for (const m of trajectory) {
    const gen = m.generation;
    groupNames.forEach((name, i) => basin.push({ generation: gen, series: name, value: metricValue(m, `basinMass[${i}]`) }));
    basin.push({ generation: gen, series: "outside", value: metricValue(m, "outsideMass") });
    welfare.push({ generation: gen, value: metricValue(m, "nashWelfare") });
    const g = metricValue(m, "nashGap");
    // A log axis cannot show 0: a gap at or below 1e-16 is drawn at the floor.
    gap.push({ generation: gen, value: g === null ? null : Math.max(g, 1e-16) });
    entropy.push({ generation: gen, value: metricValue(m, "entropy") });
  }
  const seriesNames = [...groupNames, "outside"];
  const x = { field: "generation", type: "quantitative", title: "generation t" };
  const basinLayers: ChartSpec[] = [
    {
      data: { values: basin },
      mark: { type: "line", point: trajectory.length <= 60 },
      encoding: {
        x,
        y: { field: "value", type: "quantitative", title: "basin mass p_t(S_i)", scale: { domain: [0, 1] } },
        color: { field: "series", type: "nominal", title: null, sort: seriesNames, scale: { domain: seriesNames } },
      },
    },
  ];
  const welfareLayers: ChartSpec[] = [
    {
      data: { values: welfare },
      mark: { type: "line", point: trajectory.length <= 60 },
      encoding: { x, y: { field: "value", type: "quantitative", title: "nashWelfare F(p_t)", scale: { zero: false } } },
    },
  ];
  if (nash) {
    basinLayers.push({
      data: { values: groupNames.map((name, i) => ({ series: name, value: finite(nash.basinMass[i]) })) },
      mark: { type: "rule", strokeDash: [5, 3], opacity: 0.8 },
      encoding: {
        y: { field: "value", type: "quantitative" },
        color: { field: "series", type: "nominal", sort: seriesNames, scale: { domain: seriesNames } },
      },
    });
    welfareLayers.push({
      data: { values: [{ value: finite(nash.welfare), label: "F* (Nash)" }] },
      mark: { type: "rule", color: NASH_COLOR, strokeDash: [5, 3] },
      encoding: { y: { field: "value", type: "quantitative" } },
    });
  }
  const panel = (t: string, spec: ChartSpec): ChartSpec => ({ title: t, width: SMALL, height: 160, ...spec });
  return {
    ...base(title),
    columns: 2,
    concat: [
      panel(nash ? "basin masses (dashed: Nash p*)" : "basin masses", { layer: basinLayers }),
      panel(nash ? "Nash welfare (red dashed: F*)" : "Nash welfare", { layer: welfareLayers }),
      panel("nashGap (certificate, log scale)", {
        data: { values: gap },
        mark: { type: "line", color: NASH_COLOR, point: trajectory.length <= 60 ? { color: NASH_COLOR } : false },
        encoding: { x, y: { field: "value", type: "quantitative", title: "nashGap(p_t)", scale: { type: "log" } } },
      }),
      panel("entropy", {
        data: { values: entropy },
        mark: { type: "line", color: "#2ca02c", point: trajectory.length <= 60 ? { color: "#2ca02c" } : false },
        encoding: { x, y: { field: "value", type: "quantitative", title: "H(p_t) (nats)", scale: { zero: false } } },
      }),
    ],
    resolve: { scale: { color: "independent" } },
  };
}

/** The distribution series of a result: p_0 and the snapshots when present, then the final p. */
export function resultSeries(result: RunResult, p0?: ArrayLike<number>): Series[] {
  const series: Series[] = [];
  if (p0) series.push({ label: "p_0", p: p0 });
  for (const s of result.snapshots ?? []) {
    if (s.generation === 0 && p0) continue;
    if (s.generation === result.generationsRun && result.final.p) continue;
    series.push({ label: `p_${s.generation}`, p: s.p });
  }
  if (result.final.p) series.push({ label: `p_${result.generationsRun} (final)`, p: result.final.p });
  return series;
}

/** Group names of a result, from its echoed scenario when it has them. */
export function groupNamesOf(result: RunResult): string[] {
  const groups = result.scenario?.groups;
  const m = result.final.basinMass.length;
  return Array.from({ length: m }, (_, i) => groups?.[i]?.name ?? `g${i}`);
}

/** A value of a sweep parameter as an axis label: short numbers, "inf" kept as text. */
export function paramLabel(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : formatNumber(v, { small: 0, large: Infinity });
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The parameter paths that vary across the rows, in the order of the first row. */
export function sweepAxes(rows: FigureRow[]): string[] {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0].params ?? {});
  return keys.filter((k) => new Set(rows.map((r) => paramLabel(r.params?.[k]))).size > 1);
}

/** Sweep figure options: parameters on x and y (or the line series), facet, filters, aggregate and the final metric. */
export type PhaseOptions = Omit<SweepFigureOptions, "read">;

/** Per-group metrics of Metrics (read as `name[i]`); every other metric is a scalar. */
const ARRAY_METRICS = new Set<string>(GROUP_METRICS);
/** The metrics of Metrics a phase diagram can colour by, for rows that have no ok cell to read them from. */
const KNOWN_METRICS: string[] = [...GROUP_METRICS.map((name) => `${name}[i]`), ...SCALAR_METRICS];

/** The parameter paths a phase diagram can put on an axis: every params key of the rows, and "cell". */
export function sweepParamPaths(rows: FigureRow[]): string[] {
  const keys = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row.params ?? {})) keys.add(k);
  return [...keys, "cell"];
}

/**
 * The final metrics the ok rows of a sweep carry, as `metricValue` names: scalars by name,
 * per-group arrays as `name[i]` (the toJson strings "Infinity" and "NaN" count as numbers).
 */
export function sweepMetricNames(rows: FigureRow[]): string[] {
  const names = new Set<string>();
  const numeric = (v: unknown) => typeof v === "number" || v === "Infinity" || v === "-Infinity" || v === "NaN";
  for (const row of rows) {
    if (row.status !== "ok" || !row.final) continue;
    for (const [k, v] of Object.entries(row.final)) {
      if (k === "generation") continue;
      if (Array.isArray(v)) v.forEach((e, i) => numeric(e) && names.add(`${k}[${i}]`));
      else if (numeric(v)) names.add(k);
    }
  }
  return [...names];
}

/** `basinMass[0], basinMass[1], nashGap` shortened to `basinMass[0..1], nashGap` for a message. */
function summariseNames(names: string[]): string {
  const ranges = new Map<string, number[]>();
  for (const n of names) {
    const m = /^(.*)\[(\d+)\]$/.exec(n);
    const key = m ? m[1] : n;
    if (!ranges.has(key)) ranges.set(key, []);
    if (m) ranges.get(key)!.push(Number(m[2]));
  }
  return [...ranges.entries()]
    .map(([k, idx]) => (idx.length === 0 ? k : idx.length === 1 ? `${k}[${idx[0]}]` : `${k}[${Math.min(...idx)}..${Math.max(...idx)}]`))
    .join(", ");
}

/** Throws INVALID_SCENARIO (field "x", "y" or "metric") unless the options name parameters and a metric the rows have. */
export function checkPhaseOptions(rows: FigureRow[], options: PhaseOptions): void {
  const paths = sweepParamPaths(rows);
  for (const key of ["x", "y"] as const) {
    const v = options[key];
    if (v !== undefined && !paths.includes(v)) {
      throw new PlurisimError("INVALID_SCENARIO", `--${key} must be a parameter of the sweep's rows: ${paths.join(", ")} (got ${JSON.stringify(v)})`, { field: key, value: v });
    }
  }
  const metric = options.metric;
  if (metric === undefined) return;
  const m = /^([A-Za-z_$][\w$]*)(?:\[(\d+)\]|\.(\d+))?$/.exec(metric);
  const present = sweepMetricNames(rows);
  let ok: boolean;
  if (!m) ok = false;
  else if (present.length > 0) {
    const index = m[2] ?? m[3];
    ok = present.includes(index === undefined ? m[1] : `${m[1]}[${Number(index)}]`);
  } else {
    // No ok row to read the names from: check against the fields of Metrics.
    const indexed = (m[2] ?? m[3]) !== undefined;
    ok = ARRAY_METRICS.has(m[1]) ? indexed : KNOWN_METRICS.includes(m[1]) && !indexed;
  }
  if (!ok) {
    const choices = present.length > 0 ? summariseNames(present) : KNOWN_METRICS.join(", ");
    throw new PlurisimError("INVALID_SCENARIO", `--metric must be a final metric of the sweep's rows: ${choices} (got ${JSON.stringify(metric)})`, { field: "metric", value: metric });
  }
}

/**
 * Sweep figure: a heat map of a final metric over two parameters, or a line plot against one
 * (src/core/sweep-figure.ts). Throws INVALID_SCENARIO when an option names nothing the rows carry
 * (checkPhaseOptions) or when a parameter varies unplotted and unaggregated.
 */
export function phaseDiagramSpec(rows: FigureRow[], options: PhaseOptions = {}): ChartSpec {
  checkPhaseOptions(rows, options);
  return sweepFigureSpec(rows, { ...options, read: metricReader(options.metric ?? "basinMass[0]") }, CONFIG);
}

/** What the reward-landscape panel reads: rewards r[i * n + x] over 1-D (or abstract) atoms, and the basin width. */
export type Landscape = Pick<Problem, "n" | "m" | "dim" | "coords" | "cellWidth" | "r" | "basinEpsilon" | "groupNames">;

/**
 * The reward landscape: each r_i(x) as a line, each basin S_i = {x : r_i(x) >= max r_i - eps}
 * shaded in its group's colour and the outside region (in no basin) shaded grey. Null for 2-D
 * grids (their landscape is a surface per group).
 */
export function landscapeSpec(p: Landscape, title?: string): ChartSpec | null {
  if (p.dim === 2 || p.n === 0 || p.r.length < p.m * p.n) return null;
  const xs = Array.from({ length: p.n }, (_, x) => (p.dim === 1 ? p.coords[x] : x));
  const half = (x: number) => (p.cellWidth !== null ? p.cellWidth / 2 : x + 1 < p.n ? (xs[x + 1] - xs[x]) / 2 : x > 0 ? (xs[x] - xs[x - 1]) / 2 : 0.5);
  const names = Array.from({ length: p.m }, (_, i) => p.groupNames[i] ?? `g${i}`);
  const lines: Record<string, unknown>[] = [];
  const inBasin: boolean[][] = [];
  for (let i = 0; i < p.m; i++) {
    let top = -Infinity;
    for (let x = 0; x < p.n; x++) top = Math.max(top, p.r[i * p.n + x]);
    inBasin.push(Array.from({ length: p.n }, (_, x) => p.r[i * p.n + x] >= top - p.basinEpsilon));
    for (let x = 0; x < p.n; x++) lines.push({ x: xs[x], r: finite(p.r[i * p.n + x]), group: names[i] });
  }
  // Shaded regions as runs of neighbouring atoms, so the data stays small on fine grids.
  const regions: Record<string, unknown>[] = [];
  const runs = (member: (x: number) => boolean, label: string) => {
    for (let x = 0; x < p.n; x++) {
      if (!member(x)) continue;
      const start = x;
      while (x + 1 < p.n && member(x + 1)) x++;
      regions.push({ x0: xs[start] - half(start), x1: xs[x] + half(x), region: label });
    }
  };
  names.forEach((name, i) => runs((x) => inBasin[i][x], `basin ${name}`));
  runs((x) => inBasin.every((b) => !b[x]), "outside");
  const regionNames = [...names.map((n) => `basin ${n}`), "outside"];
  const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
  const colors = names.map((_, i) => palette[i % palette.length]);
  const xEnc = { type: "quantitative", title: p.dim === 1 ? "x" : "atom", scale: { nice: false, zero: false } };
  return {
    ...base(title ?? `reward landscape r_i(x): basins (eps = ${p.basinEpsilon}) shaded, outside grey`),
    width: WIDTH,
    height: 200,
    layer: [
      {
        data: { values: regions },
        mark: { type: "rect", opacity: 0.16 },
        encoding: {
          x: { field: "x0", ...xEnc },
          x2: { field: "x1" },
          color: { field: "region", type: "nominal", title: "region", scale: { domain: regionNames, range: [...colors, "#7f7f7f"] } },
        },
      },
      {
        data: { values: lines },
        mark: { type: "line", strokeWidth: 1.6 },
        encoding: {
          x: { field: "x", ...xEnc },
          y: { field: "r", type: "quantitative", title: "reward r_i(x)", scale: { zero: false } },
          stroke: { field: "group", type: "nominal", title: "group", scale: { domain: names, range: colors } },
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  };
}

/** Options of a run's figure. */
export interface RunFigureOptions {
  logY?: boolean;
  /** The compiled scenario, for the reward-landscape panel (omitted without it). */
  landscape?: Landscape | null;
}

/** One figure for a run: the reward landscape, the distribution (with the Nash overlay) and the metric curves. */
export function runFigureSpec(result: RunResult, geometry: Geometry, p0?: ArrayLike<number>, title?: string, options: RunFigureOptions = {}): ChartSpec {
  const names = groupNamesOf(result);
  const series = resultSeries(result, p0);
  const parts: ChartSpec[] = [];
  const strip = ({ $schema: _s, config: _c, ...rest }: ChartSpec) => rest;
  const land = options.landscape ? landscapeSpec(options.landscape) : null;
  if (land) parts.push(strip(land));
  if (series.length > 0) parts.push(strip(distributionSpec(geometry, series, result.nash?.p, undefined, { logY: options.logY, finiteK: isFiniteK(result) })));
  parts.push(strip(metricsSpec(result.trajectory, names, result.nash)));
  return { ...base(title), vconcat: parts, resolve: { scale: { color: "independent", strokeDash: "independent", stroke: "independent", shape: "independent" } } };
}

/** True when a result's curation has a finite K: its Nash overlay is then the K = infinity limit. */
export function isFiniteK(result: { scenario: unknown }): boolean {
  const K = (result.scenario as { curation?: { K?: unknown } } | null)?.curation?.K;
  return typeof K === "number" && Number.isFinite(K);
}

/** Several runs overlaid: basin masses (one dash per group), Nash welfare, nashGap (log) and entropy, one colour per run. */
export function compareSpec(runs: { label: string; result: RunResult }[], title?: string): ChartSpec {
  const basin: Record<string, unknown>[] = [];
  const scalars: Record<string, Record<string, unknown>[]> = { nashWelfare: [], nashGap: [], entropy: [] };
  const labels = runs.map((r) => r.label);
  const groups = new Set<string>();
  for (const { label, result } of runs) {
    const names = groupNamesOf(result);
    for (const m of result.trajectory) {
      names.forEach((name, i) => {
        groups.add(name);
        basin.push({ generation: m.generation, run: label, group: name, value: metricValue(m, `basinMass[${i}]`) });
      });
      for (const k of Object.keys(scalars)) {
        const v = metricValue(m, k);
        scalars[k].push({ generation: m.generation, run: label, value: k === "nashGap" && v !== null ? Math.max(v, 1e-16) : v });
      }
    }
  }
  const x = { field: "generation", type: "quantitative", title: "generation t" };
  const color = { field: "run", type: "nominal", title: "run", scale: { domain: labels } };
  const panel = (t: string, values: Record<string, unknown>[], y: ChartSpec, extra: ChartSpec = {}): ChartSpec => ({
    title: t,
    width: SMALL,
    height: 170,
    data: { values },
    mark: { type: "line", strokeWidth: 1.5 },
    encoding: { x, y, color, ...extra },
  });
  return {
    ...base(title ?? `${runs.length} runs overlaid`),
    columns: 2,
    concat: [
      panel("basin masses p_t(S_i) (dash: group)", basin, { field: "value", type: "quantitative", title: "basin mass", scale: { domain: [0, 1] } }, { strokeDash: { field: "group", type: "nominal", title: "group", scale: { domain: [...groups] } }, detail: { field: "group" } }),
      panel("Nash welfare F(p_t)", scalars.nashWelfare, { field: "value", type: "quantitative", title: "nashWelfare", scale: { zero: false } }),
      panel("nashGap (log scale)", scalars.nashGap, { field: "value", type: "quantitative", title: "nashGap(p_t)", scale: { type: "log" } }),
      panel("entropy", scalars.entropy, { field: "value", type: "quantitative", title: "H(p_t) (nats)", scale: { zero: false } }),
    ],
  };
}

/** The replicates of one scenario: each replicate's final basin masses as dots, their mean as a bar with a ± sd whisker. */
/** Mean ± sd of each metric per recorded generation, as `replicates.ts` ReplicateBands gives them. */
export interface BandPoint {
  generation: number;
  mean: Record<string, number | number[]>;
  std: Record<string, number | number[]>;
}

/** The metrics drawn as bands over generations: basin masses per group, then these scalars. */
export const BAND_SCALARS = ["nashWelfare", "nashGap", "entropy"] as const;

/**
 * Panels of replicates' mean lines with ±sd bands over generations: basin masses (one colour per
 * group) and each of BAND_SCALARS the bands carry; non-finite values are gaps.
 */
export function replicateBandPanels(bands: readonly BandPoint[]): ChartSpec[] {
  const points: Record<string, unknown>[] = [];
  const put = (metric: string, generation: number, mu: number, sd: number) =>
    points.push({ metric, generation, mean: finite(mu), lo: finite(mu - sd), hi: finite(mu + sd) });
  for (const b of bands) {
    const mu = b.mean.basinMass;
    const sd = b.std.basinMass;
    if (Array.isArray(mu) && Array.isArray(sd)) mu.forEach((v, i) => put(`basinMass[${i}]`, b.generation, v, sd[i]));
    for (const k of BAND_SCALARS) {
      const v = b.mean[k];
      const e = b.std[k];
      if (typeof v === "number" && typeof e === "number") put(k, b.generation, v, e);
    }
  }
  const panel = (t: string, keep: (metric: string) => boolean, colour: boolean): ChartSpec => {
    const values = points.filter((p) => keep(p.metric as string));
    const color = colour ? { color: { field: "metric", type: "nominal", title: null } } : {};
    const x = { field: "generation", type: "quantitative", title: "generation" };
    return {
      title: t,
      width: 260,
      height: 180,
      layer: [
        { data: { values }, mark: { type: "area", opacity: 0.25, ...(colour ? {} : { color: "#1f77b4" }) }, encoding: { x, y: { field: "lo", type: "quantitative", title: "mean ± sd", axis: { format: "~g" } }, y2: { field: "hi" }, ...color } },
        { data: { values }, mark: { type: "line", strokeWidth: 2, ...(colour ? {} : { color: "#08306b" }) }, encoding: { x, y: { field: "mean", type: "quantitative" }, ...color } },
      ],
    };
  };
  const panels = [panel("basin masses", (m) => m.startsWith("basinMass"), true)];
  for (const k of BAND_SCALARS) if (points.some((p) => p.metric === k)) panels.push(panel(k, (m) => m === k, false));
  return points.length ? panels : [];
}

export function replicatesSpec(result: { finals: { basinMass: number[] }[]; seeds: number[]; scenario?: unknown; trajectory?: readonly BandPoint[] }, title?: string): ChartSpec {
  const m = result.finals[0].basinMass.length;
  const names = Array.from({ length: m }, (_, i) => `basinMass[${i}]`);
  const scalarNames = ["outsideMass", "entropy", "nashGap"];
  const dots: Record<string, unknown>[] = [];
  const stats: Record<string, unknown>[] = [];
  const add = (metric: string, values: (number | null)[]) => {
    const v = values.filter((e): e is number => e !== null);
    values.forEach((value, r) => dots.push({ metric, value, seed: result.seeds[r] }));
    if (v.length === 0) return;
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length - 1)) : 0;
    stats.push({ metric, mean: mu, lo: mu - sd, hi: mu + sd });
  };
  names.forEach((n) => add(n, result.finals.map((f) => metricValue(f, n))));
  for (const k of scalarNames) if (result.finals.some((f) => metricValue(f, k) !== null)) add(k, result.finals.map((f) => metricValue(f, k)));
  const metrics = [...new Set(stats.map((s) => s.metric as string))];
  const panel = (which: string[], t: string): ChartSpec => ({
    title: t,
    width: Math.min(1200, Math.max(160, 70 * which.length)),
    height: 220,
    layer: [
      { data: { values: stats.filter((s) => which.includes(s.metric as string)) }, mark: { type: "bar", opacity: 0.35, color: "#1f77b4" }, encoding: { x: { field: "metric", type: "nominal", title: null, scale: { domain: which }, axis: { labelAngle: 0 } }, y: { field: "mean", type: "quantitative", title: "final value", axis: { format: "~g" } } } },
      { data: { values: stats.filter((s) => which.includes(s.metric as string)) }, mark: { type: "rule", strokeWidth: 2, color: "#08306b" }, encoding: { x: { field: "metric", type: "nominal", scale: { domain: which } }, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } } },
      { data: { values: dots.filter((d) => which.includes(d.metric as string) && d.value !== null) }, mark: { type: "point", filled: true, size: 18, opacity: 0.6, color: "#d62728" }, encoding: { x: { field: "metric", type: "nominal", scale: { domain: which } }, y: { field: "value", type: "quantitative" } } },
    ],
  });
  const groupPanel = panel(metrics.filter((n) => n.startsWith("basinMass")), "final basin masses");
  const others = metrics.filter((n) => !n.startsWith("basinMass"));
  const finalPanels = others.length ? [groupPanel, ...others.map((o) => panel([o], o))] : [groupPanel];
  // Results written before the bands existed have no trajectory: the final bars alone.
  const bandPanels = replicateBandPanels(result.trajectory ?? []);
  if (bandPanels.length === 0) return { ...base(title ?? `${result.finals.length} replicates: mean (bar) ± sd (whisker), each replicate a dot`), hconcat: finalPanels };
  return {
    ...base(title ?? `${result.finals.length} replicates: mean (line) ± sd (band) over generations; final values: mean (bar) ± sd (whisker), each replicate a dot`),
    vconcat: [{ hconcat: bandPanels }, { hconcat: finalPanels }],
  };
}
