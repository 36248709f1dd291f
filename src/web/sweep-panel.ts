// The Sweep tab's run and view: cells go to the Web Worker pool in batches sized to about a
// tenth of a second of work (smaller near the end so the workers finish together), rows land in
// an incremental SweepGrid, and the figure and status are redrawn at most a few times a second
// on animation frames, the latest state winning. The page's thread stays free for the browser.
// The figure is the canvas heat map, or the CLI's line figure: the same core function
// (phaseDiagramSpec, src/core/sweep-figure.ts) groups, aggregates and refuses as `plurisim plot
// --chart line` does, and vega draws its spec. A sweep that names a preset summary (table5,
// k-phase, lemma35) shows it under the figure (src/web/sweep-summary.ts), following the rows.
import { checkPhaseOptions, phaseDiagramSpec, sweepMetricNames, type ChartSpec } from "../core/charts.js";
import { parseSweep, type SweepPlan } from "../sweep/spec.js";
import type { Row } from "../sweep/task.js";
import { rowsChecksum } from "./checksum.js";
import { cellAtPoint, drawHeatmap, formatValue, heatmapSvg, type Layout } from "./heatmap.js";
import { CancelledError, type WorkerPool } from "./pool.js";
import { download, draw, exportChart, latestWins } from "./render.js";
import { MAX_PANELS } from "../core/sweep-figure.js";
import { hideSummary, pageSummaryName, showSummary } from "./sweep-summary.js";
import { AGGREGATES, defaultChart, defaultGridOptions, lineFigureOptions, SweepGrid, type Aggregate, type Grid, type GridOptions, type SweepChart } from "./sweep-grid.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Milliseconds of work one batch aims at: long enough that messages cost nothing, short enough for a live picture. */
const BATCH_MS = 100;
const MAX_BATCH = 512;
/** Least time between two redraws of the figure and status while rows arrive: every redraw is main-thread time the two workers of a 2-core machine share. */
const REDRAW_MS = 500;
/** Least time between two updates of the preset summary while rows arrive, and the most rows it follows live (it reads them all each time). */
const SUMMARY_MS = 1000;
const SUMMARY_LIVE_ROWS = 5_000;

/** What the sweep panel needs from the page: the current pool, or a pool of another size. */
export interface SweepHost {
  pool(workers?: number): WorkerPool;
}

/** Sweeps started so far: each one's batches carry its number. */
let sweeps = 0;

const view = {
  grid: null as SweepGrid | null,
  plan: null as SweepPlan | null,
  total: 0,
  started: 0,
  running: false,
  lastGrid: null as Grid | null,
  layout: null as Layout | null,
  frame: 0,
  lastDraw: 0,
  lastSummary: 0,
  timer: 0,
  /** Metric the user typed that the rows do not carry: drawing keeps the last valid one. */
  metric: "basinMass[0]",
  chart: "heatmap" as SweepChart,
};

function setText(id: string, text: string): void {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
}

/** Asks for a redraw on the next animation frame; requests in between collapse into one. */
export function requestRedraw(): void {
  if (view.frame || view.timer) return;
  const wait = REDRAW_MS - (performance.now() - view.lastDraw);
  const schedule = () => {
    view.timer = 0;
    view.frame = requestAnimationFrame(() => {
      view.frame = 0;
      redraw();
    });
  };
  if (view.running && wait > 0) view.timer = window.setTimeout(schedule, wait);
  else schedule();
}

function statusLine(): string {
  const g = view.grid;
  if (!g) return "";
  const secs = (performance.now() - view.started) / 1000;
  return `${g.count} / ${view.total} cells (${g.failed} failed), ${(g.count / Math.max(secs, 1e-3)).toFixed(0)} cells/s`;
}

/** Redraws the status, the progress bar and the heat map from the grid as it stands. */
function redraw(): void {
  view.lastDraw = performance.now();
  const g = view.grid;
  if (!g) return;
  if (view.running) {
    setText("sweep-status", statusLine());
    $<HTMLProgressElement>("sweep-progress").value = view.total ? g.count / view.total : 0;
    if (view.total <= SUMMARY_LIVE_ROWS) redrawSummary(false);
  }
  if (view.chart === "line") return redrawLines(g);
  $("sweep-lines").hidden = true;
  const grid = g.snapshot();
  view.lastGrid = grid;
  const notice = $("sweep-notice");
  const canvas = $<HTMLCanvasElement>("sweep-canvas");
  if (grid.mixed.length > 0) {
    notice.textContent =
      `${grid.mixed.join(", ")} ${grid.mixed.length > 1 ? "vary" : "varies"} within the cells of this picture and ${grid.mixed.length > 1 ? "are" : "is"} neither plotted, faceted, filtered nor aggregated: ` +
      "choose it as an axis or facet, filter it to one value, or pick an aggregate.";
    notice.hidden = false;
    canvas.hidden = true;
    setText("sweep-title", "");
    return;
  }
  notice.hidden = true;
  canvas.hidden = false;
  setText("sweep-title", grid.title);
  const width = $("sweep-chart").clientWidth || 600;
  view.layout = drawHeatmap(canvas, grid, width);
  canvas.setAttribute("aria-label", `${grid.title}: ${grid.drawnRows} cells drawn, values from ${formatValue(grid.min)} to ${formatValue(grid.max)}`);
}

/** The preset summary the sweep names, of the rows so far; while rows arrive, at most once every SUMMARY_MS unless `now`. */
function redrawSummary(now: boolean): void {
  const name = pageSummaryName(view.plan?.summary);
  if (!name || !view.grid || view.grid.count === 0) return;
  if (!now && performance.now() - view.lastSummary < SUMMARY_MS) return;
  view.lastSummary = performance.now();
  showSummary(name, view.grid.rows.filter(Boolean), view.total);
}

/**
 * The line figure of the rows so far, from the CLI's spec: its refusals (a parameter that varies
 * unplotted, more than 100 lines, a filter that keeps nothing) are shown as the CLI words them.
 */
function redrawLines(g: SweepGrid): void {
  const notice = $("sweep-notice");
  const lines = $("sweep-lines");
  $("sweep-canvas").hidden = true;
  setText("sweep-title", "");
  const rows = g.rows.filter(Boolean);
  if (rows.length === 0) {
    notice.hidden = true;
    lines.hidden = true;
    return;
  }
  let spec: ChartSpec;
  try {
    spec = phaseDiagramSpec(rows, lineFigureOptions(g.current));
  } catch (e) {
    notice.textContent = (e as Error).message;
    notice.hidden = false;
    lines.hidden = true;
    return;
  }
  notice.hidden = true;
  lines.hidden = false;
  // vega names its container with the spec's description: the figure's title, for screen readers.
  void drawLines({ ...spec, description: ((spec.title as { text: string[] }).text ?? []).join(" ") });
}

const requestLines = latestWins();
let lineRequests = 0;

/** Draws a line-figure spec into #sweep-lines, the latest winning; data-state is "drawn" once the last one asked for is on show. */
function drawLines(spec: ChartSpec): Promise<void> {
  const lines = $("sweep-lines");
  const ticket = ++lineRequests;
  lines.dataset.state = "drawing";
  return requestLines(async () => {
    try {
      await draw(lines, spec);
      if (ticket === lineRequests) lines.dataset.state = "drawn";
    } catch (e) {
      lines.dataset.state = "failed";
      $("sweep-error").textContent = `the line figure could not be drawn: ${(e as Error).message}`;
    }
  });
}

/** Shows the chart choice and names the second choice for it: y of a heat map, the series of a line plot. */
function showChart(chart: SweepChart): void {
  view.chart = chart;
  $<HTMLSelectElement>("sweep-chart-kind").value = chart;
  setText("sweep-y-label", chart === "line" ? "series" : "y");
}

function options(): GridOptions {
  const where: Record<string, string> = {};
  for (const s of document.querySelectorAll<HTMLSelectElement>("#sweep-where select")) if (s.value !== "") where[s.dataset.path!] = s.value;
  const y = $<HTMLSelectElement>("sweep-y").value;
  const facet = $<HTMLSelectElement>("sweep-facet").value;
  return {
    x: $<HTMLSelectElement>("sweep-x").value || "cell",
    y: y === "" ? null : y,
    facet: facet === "" ? null : facet,
    where,
    metric: view.metric,
    aggregate: $<HTMLSelectElement>("sweep-aggregate").value as Aggregate,
  };
}

const option = (value: string, text = value) => {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  return o;
};

/** Fills the x, y, facet and filter choices from the paths that vary; keeps the current picks. */
function fillChoices(o: GridOptions): void {
  const g = view.grid;
  if (!g) return;
  const varying = g.varying();
  // Filters are offered for the sweep's own dimensions; a derived parameter follows from them.
  const dimPaths = new Set(view.plan?.dims.map((d) => d.paths[0]) ?? varying);
  const paths = [...new Set([...varying, o.x, ...(o.y ? [o.y] : []), ...(o.facet ? [o.facet] : [])])].filter((p) => p !== "cell");
  const fill = (id: string, none: string | null, value: string | null) => {
    const s = $<HTMLSelectElement>(id);
    const opts = paths.map((p) => option(p));
    if (none !== null) opts.unshift(option("", none));
    else opts.push(option("cell"));
    s.replaceChildren(...opts);
    s.value = value ?? "";
  };
  fill("sweep-x", null, o.x);
  fill("sweep-y", "(none)", o.y);
  fill("sweep-facet", "(none)", o.facet);
  $<HTMLSelectElement>("sweep-aggregate").value = o.aggregate;
  const where = $("sweep-where");
  where.replaceChildren();
  const levels = new Map(g.paths().map((p) => [p.path, p.labels]));
  for (const p of varying) {
    if (p === o.x || p === o.y || p === o.facet || (!dimPaths.has(p) && !(p in o.where))) continue;
    const label = document.createElement("label");
    label.className = "field";
    const span = document.createElement("span");
    span.className = "label";
    span.textContent = `where ${p}`;
    const s = document.createElement("select");
    s.dataset.path = p;
    s.append(option("", "(every value)"), ...(levels.get(p) ?? []).map((v) => option(v)));
    s.value = o.where[p] ?? "";
    s.addEventListener("change", () => applyOptions());
    label.append(span, s);
    where.append(label);
  }
}

/** Re-reads the controls, checks the metric (the CLI's check: field "metric"), rebuilds the buckets and redraws. */
export function applyOptions(): void {
  showChart($<HTMLSelectElement>("sweep-chart-kind").value === "line" ? "line" : "heatmap");
  const g = view.grid;
  if (!g) return;
  const input = $<HTMLInputElement>("sweep-metric");
  const metric = input.value.trim() || "basinMass[0]";
  const err = $("sweep-error");
  err.textContent = "";
  input.removeAttribute("aria-invalid");
  try {
    // Every ok row carries the same metrics: a sample gives the CLI's check and message at no cost.
    const sample = metricSample(g.rows);
    if (sample.length > 0) checkPhaseOptions(sample, { metric });
    view.metric = metric;
  } catch (e) {
    // A metric the rows do not carry: say which ones they do, keep the last figure.
    err.textContent = (e as Error).message;
    input.setAttribute("aria-invalid", "true");
    return;
  }
  const o = options();
  if (o.y === o.x) o.y = null;
  if (o.facet === o.x || o.facet === o.y) o.facet = null;
  for (const p of [o.x, o.y, o.facet]) if (p) delete o.where[p];
  const panels = o.facet ? g.levelCount(o.facet) : 1;
  if (panels > MAX_PANELS) {
    // The CLI's limit and advice (src/core/sweep-figure.ts).
    err.textContent = `--facet ${o.facet} has ${panels} values; a figure holds at most ${MAX_PANELS} panels: filter with --where or facet by another parameter`;
    $("sweep-facet").setAttribute("aria-invalid", "true");
    return;
  }
  $("sweep-facet").removeAttribute("aria-invalid");
  g.setOptions(o);
  fillChoices(o);
  redraw();
}

/** Up to 32 ok rows: enough to read the metric names every ok row carries. */
function metricSample(rows: readonly Row[]): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    if (r?.status === "ok" && out.push(r) >= 32) break;
  }
  return out;
}

function fillMetrics(rows: readonly Row[]): void {
  const list = $("sweep-metrics");
  if (list.childElementCount > 0) return;
  const names = sweepMetricNames(metricSample(rows));
  list.replaceChildren(...names.map((n) => option(n)));
}

/** Batch size for the next request: about BATCH_MS of work, and no more than a fair share of what is left. */
function nextBatch(remaining: number, workers: number, cellMs: number | null): number {
  const byTime = cellMs === null ? 2 : Math.round(BATCH_MS / Math.max(cellMs, 0.01));
  return Math.max(1, Math.min(MAX_BATCH, byTime, Math.ceil(remaining / (workers * 3))));
}

/** Runs a sweep document on the worker pool; the heat map fills in as rows arrive. */
export async function runSweep(host: SweepHost, spec: unknown, workers?: number): Promise<{ checksum: string; rows: Row[] }> {
  const plan = parseSweep(spec);
  const pool = host.pool(workers);
  $<HTMLInputElement>("sweep-workers").value = String(pool.size);
  const metric = $<HTMLInputElement>("sweep-metric").value.trim() || "basinMass[0]";
  view.metric = metric;
  const grid = new SweepGrid(plan, defaultGridOptions(plan, metric));
  showChart(defaultChart(plan));
  Object.assign(view, { grid, plan, total: plan.total, started: performance.now(), running: true, lastSummary: 0 });
  hideSummary();
  $("sweep-metrics").replaceChildren();
  fillChoices(grid.current);
  const progress = $<HTMLProgressElement>("sweep-progress");
  progress.value = 0;
  $<HTMLButtonElement>("sweep-run").disabled = true;
  $<HTMLButtonElement>("sweep-cancel").disabled = false;
  for (const b of document.querySelectorAll<HTMLButtonElement>(".sweep-export")) b.disabled = true;
  setText("sweep-checksum", "");
  // Busy while the count ticks: screen readers announce the final line, not two updates a second.
  $("sweep-status").setAttribute("aria-busy", "true");
  requestRedraw();

  const sweep = ++sweeps;
  let next = 0;
  let doneMs = 0;
  let doneCells = 0;
  let first = true;
  const feed = async (): Promise<void> => {
    while (next < plan.total) {
      const k = nextBatch(plan.total - next, pool.size, doneCells > 0 ? doneMs / doneCells : null);
      const cells = Array.from({ length: Math.min(k, plan.total - next) }, (_, i) => next + i);
      next += cells.length;
      const reply = await pool.submit({ type: "batch", sweep, plan, cells });
      if (reply.type !== "rows") continue;
      const rows = reply.results.map((r) => r.row);
      for (const r of rows) doneMs += r.durationMs;
      doneCells += rows.length;
      grid.add(rows);
      if (first) {
        first = false;
        fillChoices(grid.current);
      }
      requestRedraw();
    }
  };
  try {
    await Promise.all(Array.from({ length: pool.size * 2 }, feed));
  } catch (e) {
    pool.cancel();
    view.running = false;
    setText("sweep-status", e instanceof CancelledError ? `cancelled after ${grid.count} / ${plan.total} cells` : `failed: ${(e as Error).message}`);
    redrawSummary(true);
    throw e;
  } finally {
    view.running = false;
    $("sweep-status").setAttribute("aria-busy", "false");
    $<HTMLButtonElement>("sweep-run").disabled = false;
    $<HTMLButtonElement>("sweep-cancel").disabled = true;
  }
  const seconds = (performance.now() - view.started) / 1000;
  const rows = grid.rows;
  progress.value = 1;
  setText("sweep-status", `${plan.total} cells (${grid.failed} failed) in ${seconds.toFixed(2)} s on ${pool.size} workers`);
  fillMetrics(rows);
  fillChoices(grid.current);
  redraw();
  redrawSummary(true);
  const checksum = await rowsChecksum(rows);
  setText("sweep-checksum", `checksum ${checksum}`);
  for (const b of document.querySelectorAll<HTMLButtonElement>(".sweep-export")) b.disabled = false;
  return { checksum, rows };
}

/** The rows of the last sweep, in cell order. */
export function sweepRows(): Row[] {
  return view.grid?.rows.filter(Boolean) ?? [];
}

/** The heat map as SVG text, the width it is shown at. */
function sweepSvg(): string | null {
  if (!view.lastGrid) return null;
  const canvas = $<HTMLCanvasElement>("sweep-canvas");
  const ctx = canvas.getContext("2d")!;
  return heatmapSvg(view.lastGrid, $("sweep-chart").clientWidth || 600, (t) => ctx.measureText(t).width);
}

/** Saves the figure on show as `<stamp>-phase.svg|png` (heat map) or `<stamp>-lines.svg|png` (line plot). */
export function exportSweepFigure(stamp: string, format: "svg" | "png"): void {
  if (view.chart === "line") {
    if (!$("sweep-lines").hidden) void exportChart($("sweep-lines"), `${stamp}-lines`, format);
    return;
  }
  if (format === "png") return download(`${stamp}-phase.png`, $<HTMLCanvasElement>("sweep-canvas").toDataURL("image/png"));
  const svg = sweepSvg();
  if (svg) download(`${stamp}-phase.svg`, new Blob([svg], { type: "image/svg+xml" }));
}

/** Wires the view controls, hover read-out and resizing. */
export function wireSweepView(): void {
  for (const id of ["sweep-chart-kind", "sweep-x", "sweep-y", "sweep-facet", "sweep-aggregate", "sweep-metric"]) $(id).addEventListener("change", () => applyOptions());
  const agg = $<HTMLSelectElement>("sweep-aggregate");
  agg.replaceChildren(...AGGREGATES.map((a) => option(a, a === "none" ? "none (refuse to mix)" : a)));
  const canvas = $<HTMLCanvasElement>("sweep-canvas");
  canvas.addEventListener("mousemove", (ev) => {
    const grid = view.lastGrid;
    const L = view.layout;
    if (!grid || !L) return;
    const rect = canvas.getBoundingClientRect();
    const hit = cellAtPoint(L, grid, ev.clientX - rect.left, ev.clientY - rect.top);
    if (!hit) return void (canvas.title = "");
    const p = grid.panels[hit.panel];
    const at = hit.j * grid.xLabels.length + hit.i;
    const v = p.values[at];
    const parts = [`${grid.xPath} = ${grid.xLabels[hit.i]}`];
    if (grid.yPath) parts.push(`${grid.yPath} = ${grid.yLabels[hit.j]}`);
    if (p.label !== null) parts.push(`${grid.facetPath} = ${p.label}`);
    parts.push(`${grid.metric} = ${Number.isNaN(v) ? (p.failed[at] ? "failed" : "not run yet") : formatValue(v)}`);
    canvas.title = parts.join("\n");
  });
  // The canvas is drawn at its container's width; the line figure's SVG scales by itself.
  new ResizeObserver(() => {
    if (view.lastGrid && view.chart === "heatmap") requestRedraw();
  }).observe($("sweep-chart"));
}

