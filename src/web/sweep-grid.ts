// The sweep heat map's data, kept incrementally: rows are added as batches arrive and only the
// buckets they touch are recomputed, so a 10,000-cell sweep costs the page a few milliseconds
// per redraw rather than a rebuild of every cell. A bucket is one (facet, x, y) position; a
// dimension that varies inside a bucket without being plotted, faceted, filtered or
// aggregated (replicates included) is reported (`mixed`) and the picture refused, as the CLI's
// sweep figures (src/core/sweep-figure.ts) refuse it. No DOM here.
import { metricValue } from "../core/charts.js";
import { AGGREGATES as REDUCTIONS, valueLabel, type Aggregate as Reduction } from "../core/sweep-figure.js";
import type { SweepPlan } from "../sweep/spec.js";
import type { Row } from "../sweep/task.js";

/** How the values that share a bucket become one: "none" refuses to mix, the rest are the CLI's --aggregate. */
export const AGGREGATES = ["none", ...REDUCTIONS] as const;
export type Aggregate = "none" | Reduction;

/** What the heat map shows: the CLI's --x, --y, --facet, --where, --metric and --aggregate. */
export interface GridOptions {
  x: string;
  y: string | null;
  facet: string | null;
  /** path -> the value's label (valueLabel) a row must have to be drawn. */
  where: Record<string, string>;
  metric: string;
  aggregate: Aggregate;
}

interface Bucket {
  facet: string;
  x: string;
  y: string;
  values: number[];
  failed: number;
  /** The first row's parameters outside x, y, facet and where, as text, to spot mixing. */
  others: Record<string, string> | null;
  stat: number;
  dirty: boolean;
}

/** One facet's cells, row-major with y from the top: NaN where nothing is (yet) drawn. */
export interface Panel {
  label: string | null;
  values: Float64Array;
  /** 1 where every row of the bucket failed. */
  failed: Uint8Array;
}

/** A snapshot of the grid for the renderer. */
export interface Grid {
  xPath: string;
  yPath: string | null;
  facetPath: string | null;
  xLabels: string[];
  /** From the top of the picture down (largest first). */
  yLabels: string[];
  panels: Panel[];
  min: number;
  max: number;
  metric: string;
  title: string;
  /** Parameters that vary inside buckets while aggregate is "none": the picture would mix them. */
  mixed: string[];
  /** Most rows one bucket holds (replicates, or the aggregated dimensions). */
  depth: number;
  drawnRows: number;
}

/** Numeric order of a parameter value: numbers by value, "inf" last, other text after numbers. */
function order(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "inf" || v === "Infinity") return Infinity;
  const n = Number(v);
  return Number.isNaN(n) ? Infinity : n;
}

/** The distinct values of one parameter path, labelled and ordered. */
class Levels {
  private byLabel = new Map<string, number>();
  private sorted: string[] | null = [];
  add(v: unknown): string {
    const label = valueLabel(v);
    if (!this.byLabel.has(label)) {
      this.byLabel.set(label, order(v));
      this.sorted = null;
    }
    return label;
  }
  labels(): string[] {
    if (!this.sorted) this.sorted = [...this.byLabel.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map((e) => e[0]);
    return this.sorted;
  }
  get size(): number {
    return this.byLabel.size;
  }
}

const paramOf = (row: Row, path: string): unknown => (path === "cell" ? row.cell : row.params?.[path]);

/** Compiles a metric name once into a reader of a row's final metrics. */
function metricReader(metric: string): (row: Row) => number | null {
  return (row) => (row.status === "ok" ? metricValue(row.final as Record<string, unknown> | undefined, metric) : null);
}

function aggregateOf(values: number[], how: Aggregate): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (how === "min") return Math.min(...values);
  if (how === "max") return Math.max(...values);
  if (how === "median") {
    const s = Float64Array.from(values).sort();
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  if (how !== "sd") return mean;
  if (n < 2) return 0;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/** Rows of a sweep as they arrive, and the heat-map buckets of the current options. */
export class SweepGrid {
  /** Rows by cell index (holes until they arrive). */
  readonly rows: Row[] = [];
  count = 0;
  failed = 0;
  private levels = new Map<string, Levels>();
  private options: GridOptions;
  private buckets = new Map<string, Bucket>();
  private mixed = new Set<string>();
  private read: (row: Row) => number | null;
  private drawnRows = 0;

  /** Starts an empty grid; a plan's axis values are known before any row, so the picture's size never jumps. */
  constructor(plan: SweepPlan | null, options: GridOptions) {
    this.options = options;
    this.read = metricReader(options.metric);
    for (const dim of plan?.dims ?? []) {
      dim.paths.forEach((path, j) => {
        const levels = this.levelsOf(path);
        for (const v of dim.values[j]) levels.add(v);
      });
    }
  }

  private levelsOf(path: string): Levels {
    let l = this.levels.get(path);
    if (!l) this.levels.set(path, (l = new Levels()));
    return l;
  }

  /** The parameter paths seen so far (plan dims first), and the distinct value labels of each. */
  paths(): { path: string; labels: string[] }[] {
    return [...this.levels.entries()].map(([path, l]) => ({ path, labels: l.labels() }));
  }

  /** Paths with more than one value: what can go on an axis, a facet or a filter. */
  varying(): string[] {
    return [...this.levels.entries()].filter(([, l]) => l.size > 1).map(([p]) => p);
  }

  get current(): GridOptions {
    return this.options;
  }

  /** Adds rows (any order); only their buckets are marked for recomputing. */
  add(rows: readonly Row[]): void {
    for (const row of rows) {
      if (this.rows[row.cell] === undefined) {
        this.count++;
        if (row.status !== "ok") this.failed++;
      }
      this.rows[row.cell] = row;
      for (const [k, v] of Object.entries(row.params ?? {})) this.levelsOf(k).add(v);
      this.place(row);
    }
  }

  /** Changes what is drawn; rebuilds the buckets from the stored rows (a few ms for 10,000 rows). */
  setOptions(options: GridOptions): void {
    this.options = options;
    this.read = metricReader(options.metric);
    this.buckets.clear();
    this.mixed.clear();
    this.drawnRows = 0;
    for (const row of this.rows) if (row) this.place(row);
  }

  private place(row: Row): void {
    const o = this.options;
    for (const [path, label] of Object.entries(o.where)) if (valueLabel(paramOf(row, path)) !== label) return;
    const x = valueLabel(paramOf(row, o.x));
    const y = o.y ? valueLabel(paramOf(row, o.y)) : "";
    const f = o.facet ? valueLabel(paramOf(row, o.facet)) : "";
    const key = `${f}\u0000${x}\u0000${y}`;
    let b = this.buckets.get(key);
    const others: Record<string, string> = {};
    for (const [k, v] of Object.entries(row.params ?? {})) {
      if (k !== o.x && k !== o.y && k !== o.facet && !(k in o.where)) others[k] = valueLabel(v);
    }
    if (!b) {
      b = { facet: f, x, y, values: [], failed: 0, others, stat: NaN, dirty: true };
      this.buckets.set(key, b);
    } else if (b.others) {
      let same = true;
      for (const k of Object.keys(others)) {
        if (b.others[k] !== others[k]) {
          this.mixed.add(k);
          same = false;
        }
      }
      // Rows with equal parameters in one bucket: replicates, reduced only by an aggregate.
      if (same) this.mixed.add("replicate");
    }
    this.drawnRows++;
    const v = this.read(row);
    if (v === null) b.failed++;
    else b.values.push(v);
    b.dirty = true;
  }

  /** The picture as it stands: recomputes only the buckets that changed since the last call. */
  snapshot(): Grid {
    const o = this.options;
    const xLabels = this.levelsOf(o.x).labels();
    const yLabels = o.y ? [...this.levelsOf(o.y).labels()].reverse() : [""];
    const facets = o.facet ? this.levelsOf(o.facet).labels() : [""];
    const xi = new Map(xLabels.map((l, i) => [l, i]));
    const yi = new Map(yLabels.map((l, i) => [l, i]));
    const fi = new Map(facets.map((l, i) => [l, i]));
    const nx = xLabels.length;
    const panels: Panel[] = facets.map((label) => ({ label: o.facet ? label : null, values: new Float64Array(nx * yLabels.length).fill(NaN), failed: new Uint8Array(nx * yLabels.length) }));
    const how: Aggregate = o.aggregate === "none" ? "mean" : o.aggregate;
    let min = Infinity;
    let max = -Infinity;
    let depth = 0;
    for (const b of this.buckets.values()) {
      if (b.dirty) {
        b.stat = aggregateOf(b.values, how);
        b.dirty = false;
      }
      const p = panels[fi.get(b.facet) ?? -1];
      const i = xi.get(b.x);
      const j = yi.get(b.y);
      if (!p || i === undefined || j === undefined) continue;
      const at = j * nx + i;
      depth = Math.max(depth, b.values.length + b.failed);
      if (b.values.length === 0) {
        p.failed[at] = b.failed > 0 ? 1 : 0;
        continue;
      }
      p.values[at] = b.stat;
      if (Number.isFinite(b.stat)) {
        if (b.stat < min) min = b.stat;
        if (b.stat > max) max = b.stat;
      }
    }
    const mixed = o.aggregate === "none" ? [...this.mixed] : [];
    return {
      xPath: o.x,
      yPath: o.y,
      facetPath: o.facet,
      xLabels,
      yLabels,
      panels,
      min,
      max,
      metric: o.metric,
      title: gridTitle(o, depth),
      mixed,
      depth,
      drawnRows: this.drawnRows,
    };
  }
}

/** The heat map's title: metric, axes, facet, filters and the aggregation when one is used. */
export function gridTitle(o: GridOptions, depth: number): string {
  const where = Object.entries(o.where).map(([p, v]) => `${p} = ${v}`);
  let t = `${o.metric} over ${o.x}${o.y ? ` x ${o.y}` : ""}`;
  if (o.facet) t += `, one panel per ${o.facet}`;
  if (where.length) t += ` (where ${where.join(", ")})`;
  if (o.aggregate !== "none" && depth > 1) t += `; ${o.aggregate} over the other dimensions (up to ${depth} rows per cell)`;
  return t;
}

/**
 * Default choices for a plan: the first two dims on x and y, the third as facets, any further
 * dims filtered to their first value, so the first picture mixes nothing; replicates averaged.
 */
export function defaultGridOptions(plan: SweepPlan, metric: string): GridOptions {
  const dims = plan.dims.filter((d) => d.length > 1);
  const where: Record<string, string> = {};
  for (const d of dims.slice(3)) where[d.paths[0]] = valueLabel(d.values[0][0]);
  return {
    x: dims[0]?.paths[0] ?? "cell",
    y: dims[1]?.paths[0] ?? null,
    facet: dims[2]?.paths[0] ?? null,
    where,
    metric,
    aggregate: plan.replicates > 1 ? "mean" : "none",
  };
}
