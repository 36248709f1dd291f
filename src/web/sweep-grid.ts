// The sweep heat map's data, kept incrementally: rows are added as batches arrive and only the
// buckets they touch are recomputed, so a 10,000-cell sweep costs the page a few milliseconds
// per redraw rather than a rebuild of every cell. A bucket is one (facet, x, y) position; a
// dimension that varies inside a bucket without being plotted, faceted, filtered or
// aggregated (replicates included) is reported (`mixed`) and the picture refused, as the CLI's
// sweep figures (src/core/sweep-figure.ts) refuse it. No DOM here.
import { metricValue } from "../core/charts.js";
import { AGGREGATES as REDUCTIONS, valueLabel, type Aggregate as Reduction, type SweepFigureOptions } from "../core/sweep-figure.js";
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
  /** Insertion ids of the bucket's facet, x and y values (stable as values arrive). */
  f: number;
  x: number;
  y: number;
  values: number[];
  failed: number;
  /** The bucket's first row (cell index): the others are compared with it to spot mixing. */
  first: number;
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

/** The distinct values of one parameter path: an id per value in order of arrival, and their sorted order. */
class Levels {
  readonly ids = new Map<string, number>();
  private keys: number[] = [];
  private texts: string[] = [];
  private sorted: { labels: string[]; position: Int32Array } | null = null;
  /** The id of a value (by its label), new ones numbered in order of arrival. */
  add(label: string, v: unknown): number {
    let id = this.ids.get(label);
    if (id === undefined) {
      id = this.texts.length;
      this.ids.set(label, id);
      this.texts.push(label);
      this.keys.push(order(v));
      this.sorted = null;
    }
    return id;
  }
  private sort() {
    if (!this.sorted) {
      const idx = this.texts.map((_, i) => i).sort((a, b) => this.keys[a] - this.keys[b] || this.texts[a].localeCompare(this.texts[b]));
      const position = new Int32Array(idx.length);
      idx.forEach((id, k) => (position[id] = k));
      this.sorted = { labels: idx.map((i) => this.texts[i]), position };
    }
    return this.sorted;
  }
  /** Labels in order (numbers ascending, "inf" last, then text). */
  labels(): string[] {
    return this.sort().labels;
  }
  /** Sorted position of each id. */
  positions(): Int32Array {
    return this.sort().position;
  }
  get size(): number {
    return this.texts.length;
  }
}

/** Compiles a metric name once (`basinMass[0]`, `basinMass.0`, `nashGap`) into a reader of a row's final metrics. */
function metricReader(metric: string): (row: Row) => number | null {
  const m = /^([A-Za-z_$][\w$]*)(?:\[(\d+)\]|\.(\d+))?$/.exec(metric);
  if (!m) return () => null;
  const key = m[1];
  const index = m[2] ?? m[3];
  if (index === undefined) return (row) => (row.status === "ok" ? metricValue(row.final as Record<string, unknown> | undefined, key) : null);
  const i = Number(index);
  return (row) => {
    if (row.status !== "ok") return null;
    const v = (row.final as Record<string, unknown> | undefined)?.[key];
    if (!Array.isArray(v)) return null;
    const x = typeof v[i] === "string" ? Number(v[i]) : v[i];
    return typeof x === "number" && Number.isFinite(x) ? x : null;
  };
}

function aggregateOf(values: number[], how: Reduction): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (n === 1) return how === "sd" ? 0 : values[0];
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
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

const AXIS_IDS = 2 ** 20;

/** Rows of a sweep as they arrive, and the heat-map buckets of the current options. */
export class SweepGrid {
  /** Rows by cell index (holes until they arrive). */
  readonly rows: Row[] = [];
  count = 0;
  failed = 0;
  /** Parameter paths by id, their values, and each row's value ids (by path id). */
  private pathIds = new Map<string, number>();
  private pathNames: string[] = [];
  private levels: Levels[] = [];
  private rowIds: Int32Array[] = [];
  private options: GridOptions;
  private read: (row: Row) => number | null;
  private buckets = new Map<number, Bucket>();
  private dirty: Bucket[] = [];
  private mixed = new Set<string>();
  private drawnRows = 0;
  /** Path ids of the current x, y, facet (-1: none), the filters, and the paths compared for mixing. */
  private ax = { x: -1, y: -1, f: -1, where: [] as [number, number][], others: [] as number[] };
  /** The picture as last drawn; rebuilt in full when the options or the values on x, y or facet change. */
  private picture: Grid | null = null;
  private relayout = true;

  /** Starts an empty grid; a plan's axis values are known before any row, so the picture's size never jumps. */
  constructor(plan: SweepPlan | null, options: GridOptions) {
    this.pathOf("cell");
    for (const dim of plan?.dims ?? []) {
      dim.paths.forEach((path, j) => {
        const levels = this.levels[this.pathOf(path)];
        for (const v of dim.values[j]) levels.add(valueLabel(v), v);
      });
    }
    this.options = options;
    this.read = metricReader(options.metric);
    this.bind();
  }

  private pathOf(path: string): number {
    let id = this.pathIds.get(path);
    if (id === undefined) {
      id = this.pathNames.length;
      this.pathIds.set(path, id);
      this.pathNames.push(path);
      this.levels.push(new Levels());
      this.ax.others?.push(id);
    }
    return id;
  }

  /** Resolves the options to path and value ids. */
  private bind(): void {
    const o = this.options;
    const id = (p: string | null) => (p === null ? -1 : this.pathOf(p));
    const x = id(o.x);
    const y = id(o.y);
    const f = id(o.facet);
    const where: [number, number][] = Object.entries(o.where).map(([p, label]) => {
      const pid = this.pathOf(p);
      return [pid, this.levels[pid].ids.get(label) ?? -2];
    });
    const taken = new Set([x, y, f, ...where.map((w) => w[0]), this.pathIds.get("cell")!]);
    this.ax = { x, y, f, where, others: [] };
    this.ax.others = this.pathNames.map((_, i) => i).filter((i) => !taken.has(i));
  }

  /** The parameter paths seen so far (plan dims first), and the distinct value labels of each. */
  paths(): { path: string; labels: string[] }[] {
    return this.pathNames.map((path, i) => ({ path, labels: this.levels[i].labels() })).filter((p) => p.path !== "cell");
  }

  /** Paths with more than one value: what can go on an axis, a facet or a filter. */
  varying(): string[] {
    return this.pathNames.filter((p, i) => p !== "cell" && this.levels[i].size > 1);
  }

  /** Distinct values of a path so far. */
  levelCount(path: string): number {
    const id = this.pathIds.get(path);
    return id === undefined ? 0 : this.levels[id].size;
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
      const ids = new Int32Array(this.pathNames.length + 8).fill(-1);
      const cellPath = this.pathIds.get("cell")!;
      const put = (pid: number, v: unknown) => {
        const levels = this.levels[pid];
        const before = levels.size;
        const vid = levels.add(valueLabel(v), v);
        if (levels.size !== before && (pid === this.ax.x || pid === this.ax.y || pid === this.ax.f)) this.relayout = true;
        return vid;
      };
      let out = ids;
      for (const [k, v] of Object.entries(row.params ?? {})) {
        const pid = this.pathOf(k);
        if (pid >= out.length) {
          const grown = new Int32Array(pid + 8).fill(-1);
          grown.set(out);
          out = grown;
        }
        out[pid] = put(pid, v);
      }
      out[cellPath] = put(cellPath, row.cell);
      this.rowIds[row.cell] = out;
      this.place(row);
    }
  }

  /** Changes what is drawn; rebuilds the buckets from the stored rows (milliseconds for 10,000 rows). */
  setOptions(options: GridOptions): void {
    this.options = options;
    this.read = metricReader(options.metric);
    this.bind();
    this.buckets.clear();
    this.dirty = [];
    this.mixed.clear();
    this.drawnRows = 0;
    this.relayout = true;
    for (const row of this.rows) if (row) this.place(row);
  }

  private place(row: Row): void {
    const ids = this.rowIds[row.cell];
    const { x, y, f, where, others } = this.ax;
    const at = (pid: number) => (pid < 0 ? 0 : pid < ids.length ? ids[pid] : -1);
    for (const [pid, vid] of where) if (at(pid) !== vid) return;
    const xi = at(x);
    const yi = at(y);
    const fi = at(f);
    if (xi < 0 || yi < 0 || fi < 0) return;
    const key = (fi * AXIS_IDS + yi) * AXIS_IDS + xi;
    let b = this.buckets.get(key);
    if (!b) {
      b = { f: fi, x: xi, y: yi, values: [], failed: 0, first: row.cell, stat: NaN, dirty: false };
      this.buckets.set(key, b);
    } else {
      const first = this.rowIds[b.first];
      let same = true;
      for (const pid of others) {
        const a = pid < ids.length ? ids[pid] : -1;
        const c = pid < first.length ? first[pid] : -1;
        if (a !== c) {
          this.mixed.add(this.pathNames[pid]);
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
    if (!b.dirty) {
      b.dirty = true;
      this.dirty.push(b);
    }
  }

  /** The picture as it stands: recomputes only the buckets that changed since the last call. */
  snapshot(): Grid {
    const o = this.options;
    const { x, y, f } = this.ax;
    const how: Reduction = o.aggregate === "none" ? "mean" : o.aggregate;
    if (this.relayout || !this.picture) {
      this.relayout = false;
      const xLabels = this.levels[x].labels();
      const yLabels = y >= 0 ? [...this.levels[y].labels()].reverse() : [""];
      const facets = f >= 0 ? this.levels[f].labels() : [""];
      const nx = xLabels.length;
      const panels: Panel[] = facets.map((label) => ({ label: o.facet ? label : null, values: new Float64Array(nx * yLabels.length).fill(NaN), failed: new Uint8Array(nx * yLabels.length) }));
      this.picture = { xPath: o.x, yPath: o.y, facetPath: o.facet, xLabels, yLabels, panels, min: Infinity, max: -Infinity, metric: o.metric, title: "", mixed: [], depth: 0, drawnRows: 0 };
      for (const b of this.dirty) b.dirty = false;
      this.dirty = [...this.buckets.values()];
    }
    const pic = this.picture;
    const nx = pic.xLabels.length;
    const ny = pic.yLabels.length;
    const xPos = this.levels[x].positions();
    const yPos = y >= 0 ? this.levels[y].positions() : null;
    const fPos = f >= 0 ? this.levels[f].positions() : null;
    let depth = pic.depth;
    for (const b of this.dirty) {
      b.dirty = false;
      b.stat = aggregateOf(b.values, how);
      const panel = pic.panels[fPos ? fPos[b.f] : 0];
      const at = (yPos ? ny - 1 - yPos[b.y] : 0) * nx + xPos[b.x];
      depth = Math.max(depth, b.values.length + b.failed);
      panel.values[at] = b.values.length === 0 ? NaN : b.stat;
      panel.failed[at] = b.values.length === 0 && b.failed > 0 ? 1 : 0;
    }
    this.dirty = [];
    let min = Infinity;
    let max = -Infinity;
    for (const p of pic.panels) {
      for (const v of p.values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    Object.assign(pic, { min, max, depth, drawnRows: this.drawnRows, title: gridTitle(o, depth), mixed: o.aggregate === "none" ? [...this.mixed] : [] });
    return { ...pic };
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

/** How the page draws a sweep: its canvas heat map, or the CLI's line figure (vega). */
export type SweepChart = "heatmap" | "line";

/**
 * The page's choices as the CLI's sweep-figure options (`plot --chart line --x ... --series ...
 * --facet ... --where PATH=VALUE --metric ... --aggregate ...`): y becomes the series, each
 * filter a where clause, aggregate "none" no --aggregate, so the core refuses what the CLI
 * refuses (src/core/sweep-figure.ts).
 */
export function lineFigureOptions(o: GridOptions): Omit<SweepFigureOptions, "read"> {
  return {
    chart: "line",
    x: o.x,
    ...(o.y !== null ? { series: o.y } : {}),
    ...(o.facet !== null ? { facet: o.facet } : {}),
    where: Object.entries(o.where).map(([path, value]) => ({ path, value })),
    metric: o.metric,
    ...(o.aggregate !== "none" ? { aggregate: o.aggregate } : {}),
  };
}

/** The first chart of a plan, as the CLI chooses without --chart: a heat map when two or more dimensions vary, else lines. */
export function defaultChart(plan: SweepPlan): SweepChart {
  return plan.dims.filter((d) => d.length > 1).length >= 2 ? "heatmap" : "line";
}
