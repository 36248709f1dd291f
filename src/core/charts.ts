// Every figure of plurisim, defined once as a Vega-Lite spec built from plain results. The web
// page draws these specs with vega in the browser; `plurisim plot` and `plurisim report` draw
// the very same specs headless in Node (src/node/plot.ts). This file builds data and specs only:
// it imports no renderer and nothing from `node:`.
import { PlurisimError } from "./errors.js";
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

/** A sweep result line: cell index, parameters, seed, status and the kept final metrics. */
export interface SweepRow {
  cell: number;
  params: Record<string, unknown>;
  seed?: number;
  status: string;
  final?: Partial<Metrics> & Record<string, unknown>;
  [key: string]: unknown;
}

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

/** Reads a metric such as `nashGap`, `basinMass[0]` or `basinMass.1` from a metrics object. */
export function metricValue(metrics: Record<string, unknown> | undefined, name: string): number | null {
  if (!metrics) return null;
  const m = /^([A-Za-z_$][\w$]*)(?:\[(\d+)\]|\.(\d+))?$/.exec(name);
  if (!m) return null;
  let v = metrics[m[1]];
  const index = m[2] ?? m[3];
  if (index !== undefined) v = Array.isArray(v) ? v[Number(index)] : undefined;
  if (typeof v === "string") v = Number(v); // toJson writes Infinity as "Infinity"
  return finite(v);
}

/**
 * p_t over the atoms with the Nash solution p* overlaid: a density line on a 1-D grid, a heat
 * map with p* as circles on a 2-D grid, grouped bars with p* as ticks on explicit atoms.
 */
export function distributionSpec(geometry: Geometry, series: Series[], nash?: ArrayLike<number>, title?: string): ChartSpec {
  if (geometry.gridShape && geometry.dim === 2) return heatmapSpec(geometry, series[series.length - 1], nash, title);
  if (geometry.dim === 1 && geometry.cellWidth !== null) return densitySpec(geometry, series, nash, title);
  return atomBarsSpec(geometry, series, nash, title);
}

function densitySpec(g: Geometry, series: Series[], nash: ArrayLike<number> | undefined, title?: string): ChartSpec {
  const h = g.cellWidth!;
  const values: { x: number; density: number | null; series: string }[] = [];
  const add = (label: string, p: ArrayLike<number>) => {
    for (let x = 0; x < g.n; x++) values.push({ x: g.coords[x], density: finite(p[x] / h), series: label });
  };
  for (const s of series) add(s.label, s.p);
  const labels = series.map((s) => s.label);
  const colors = sequentialColors(series.length);
  if (nash) {
    add("Nash p*", nash);
    labels.push("Nash p*");
    colors.push(NASH_COLOR);
  }
  return {
    ...base(title),
    width: WIDTH,
    height: 260,
    data: { values },
    mark: { type: "line", strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: "x", scale: { nice: false } },
      y: { field: "density", type: "quantitative", title: "density p(x) / cell width" },
      color: { field: "series", type: "nominal", title: null, scale: { domain: labels, range: colors }, sort: labels },
      strokeDash: {
        field: "series",
        type: "nominal",
        title: null,
        sort: labels,
        scale: { domain: labels, range: labels.map((l) => (l === "Nash p*" ? [5, 3] : [1, 0])) },
      },
    },
  };
}

function atomBarsSpec(g: Geometry, series: Series[], nash: ArrayLike<number> | undefined, title?: string): ChartSpec {
  const atomLabel = (x: number) => (g.dim === 1 ? `${x + 1}: ${Number(g.coords[x].toPrecision(3))}` : String(x + 1));
  const order = Array.from({ length: g.n }, (_, x) => atomLabel(x));
  const bars: Record<string, unknown>[] = [];
  for (const s of series) for (let x = 0; x < g.n; x++) bars.push({ atom: atomLabel(x), mass: finite(s.p[x]), series: s.label });
  const ticks = nash ? Array.from({ length: g.n }, (_, x) => ({ atom: atomLabel(x), mass: finite(nash[x]), series: "Nash p*" })) : [];
  const labels = series.map((s) => s.label);
  const x = { field: "atom", type: "ordinal", sort: order, title: g.dim === 1 ? "atom: coordinate" : "atom" };
  const layers: ChartSpec[] = [
    {
      data: { values: bars },
      mark: "bar",
      encoding: {
        x,
        xOffset: { field: "series", type: "nominal", sort: labels },
        y: { field: "mass", type: "quantitative", title: "mass p(x)" },
        color: { field: "series", type: "nominal", title: null, scale: { domain: labels, range: sequentialColors(labels.length) } },
      },
    },
  ];
  if (nash) {
    layers.push({
      data: { values: ticks },
      mark: { type: "tick", color: NASH_COLOR, thickness: 2.5 },
      encoding: { x, y: { field: "mass", type: "quantitative" }, tooltip: [{ field: "mass", title: "Nash p*" }] },
    });
  }
  return {
    ...base(title ?? (nash ? "p_t per atom (red ticks: Nash p*)" : "p_t per atom")),
    width: Math.min(WIDTH, Math.max(240, g.n * 14 * Math.max(1, series.length))),
    height: 240,
    layer: layers,
  };
}

function heatmapSpec(g: Geometry, s: Series, nash: ArrayLike<number> | undefined, title?: string): ChartSpec {
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
        size: { field: "nash", type: "quantitative", title: "Nash p*", scale: { range: [4, 160] } },
      },
    });
  }
  return { ...base(title ?? `${s.label} on the ${nx} x ${ny} grid (red circles: Nash p*)`), width: side, height: side, layer: layers };
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
    groupNames.forEach((name, i) => basin.push({ generation: gen, series: name, value: metricValue(m as never, `basinMass[${i}]`) }));
    basin.push({ generation: gen, series: "outside", value: metricValue(m as never, "outsideMass") });
    welfare.push({ generation: gen, value: metricValue(m as never, "nashWelfare") });
    const g = metricValue(m as never, "nashGap");
    // A log axis cannot show 0: a gap at or below 1e-16 is drawn at the floor.
    gap.push({ generation: gen, value: g === null ? null : Math.max(g, 1e-16) });
    entropy.push({ generation: gen, value: metricValue(m as never, "entropy") });
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
  const groups = (result.scenario as { groups?: { name?: string }[] } | null)?.groups;
  const m = result.final.basinMass.length;
  return Array.from({ length: m }, (_, i) => groups?.[i]?.name ?? `g${i}`);
}

/** A value of a sweep parameter as an axis label: short numbers, "inf" kept as text. */
export function paramLabel(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return typeof v === "string" ? v : JSON.stringify(v);
}

function paramOrder(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "inf" || v === "Infinity") return Infinity;
  const n = Number(v);
  return Number.isNaN(n) ? Infinity : n;
}

/** The parameter paths that vary across the rows, in the order of the first row. */
export function sweepAxes(rows: SweepRow[]): string[] {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0].params ?? {});
  return keys.filter((k) => new Set(rows.map((r) => paramLabel(r.params?.[k]))).size > 1);
}

export interface PhaseOptions {
  /** Parameter path on the x axis (default: the first varying parameter). */
  x?: string;
  /** Parameter path on the y axis (default: the second varying parameter). */
  y?: string;
  /** Final metric to colour by, e.g. `basinMass[0]`, `nashGap`, `entropy` (default `basinMass[0]`). */
  metric?: string;
  title?: string;
}

/** Per-group metrics of Metrics (read as `name[i]`); every other metric is a scalar. */
const ARRAY_METRICS = new Set<string>(GROUP_METRICS);
/** The metrics of Metrics a phase diagram can colour by, for rows that have no ok cell to read them from. */
const KNOWN_METRICS: string[] = [...GROUP_METRICS.map((name) => `${name}[i]`), ...SCALAR_METRICS];

/** The parameter paths a phase diagram can put on an axis: every params key of the rows, and "cell". */
export function sweepParamPaths(rows: SweepRow[]): string[] {
  const keys = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row.params ?? {})) keys.add(k);
  return [...keys, "cell"];
}

/**
 * The final metrics the ok rows of a sweep carry, as `metricValue` names: scalars by name,
 * per-group arrays as `name[i]` (the toJson strings "Infinity" and "NaN" count as numbers).
 */
export function sweepMetricNames(rows: SweepRow[]): string[] {
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
export function checkPhaseOptions(rows: SweepRow[], options: PhaseOptions): void {
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

/** A row's value of a parameter path ("cell" is the row's cell index). */
const paramOf = (row: SweepRow, path: string): unknown => (path === "cell" ? row.cell : row.params?.[path]);

/**
 * Sweep phase diagram: a heat map of a final metric over two parameters (mean over replicates).
 * Throws INVALID_SCENARIO when x, y or metric name nothing the rows carry (checkPhaseOptions).
 */
export function phaseDiagramSpec(rows: SweepRow[], options: PhaseOptions = {}): ChartSpec {
  checkPhaseOptions(rows, options);
  const axes = sweepAxes(rows);
  const xPath = options.x ?? axes[0] ?? Object.keys(rows[0]?.params ?? {})[0] ?? "cell";
  const yPath = options.y ?? axes.find((a) => a !== xPath) ?? null;
  const metric = options.metric ?? "basinMass[0]";
  const values: Record<string, unknown>[] = [];
  let failed = 0;
  for (const row of rows) {
    const xv = paramOf(row, xPath);
    const yv = yPath ? paramOf(row, yPath) : "";
    if (row.status !== "ok") failed++;
    values.push({
      x: paramLabel(xv),
      y: paramLabel(yv),
      xo: paramOrder(xv),
      yo: paramOrder(yv),
      value: row.status === "ok" ? metricValue(row.final as Record<string, unknown>, metric) : null,
      status: row.status,
    });
  }
  const sorted = (key: "x" | "y", order: "xo" | "yo") =>
    [...new Map(values.map((v) => [v[key] as string, v[order] as number])).entries()]
      .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
      .map((e) => e[0]);
  const xs = sorted("x", "xo");
  const ys = sorted("y", "yo").reverse();
  const cellSize = Math.max(14, Math.min(64, Math.floor(420 / Math.max(xs.length, ys.length, 1))));
  const x = { field: "x", type: "ordinal", sort: xs, title: xPath, axis: { grid: false, labelAngle: 0 } };
  const y = { field: "y", type: "ordinal", sort: ys, title: yPath ?? "", axis: { grid: false } };
  return {
    ...base(options.title ?? `${metric} over ${xPath}${yPath ? ` x ${yPath}` : ""}${failed ? ` (${failed} failed cells hatched grey)` : ""}`),
    width: cellSize * xs.length,
    height: cellSize * ys.length,
    data: { values },
    layer: [
      {
        mark: { type: "rect", color: "#bbb" },
        encoding: { x, y },
      },
      {
        transform: [{ filter: "datum.value !== null" }],
        mark: "rect",
        encoding: {
          x,
          y,
          color: { aggregate: "mean", field: "value", type: "quantitative", title: metric, scale: { scheme: "viridis" } },
          tooltip: [
            { field: "x", title: xPath },
            { field: "y", title: yPath ?? "" },
            { aggregate: "mean", field: "value", title: metric, format: ".4g" },
          ],
        },
      },
    ],
  };
}

/** One figure for a run: the distribution (with Nash overlay) above the metric curves. */
export function runFigureSpec(result: RunResult, geometry: Geometry, p0?: ArrayLike<number>, title?: string): ChartSpec {
  const names = groupNamesOf(result);
  const series = resultSeries(result, p0);
  const parts: ChartSpec[] = [];
  if (series.length > 0) {
    const { $schema: _s, config: _c, ...dist } = distributionSpec(geometry, series, result.nash?.p);
    parts.push(dist);
  }
  const { $schema: _s2, config: _c2, ...metrics } = metricsSpec(result.trajectory, names, result.nash);
  parts.push(metrics);
  return { ...base(title), vconcat: parts, resolve: { scale: { color: "independent", strokeDash: "independent" } } };
}
