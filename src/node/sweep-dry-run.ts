// `plurisim sweep --dry-run`: what a sweep would do, without writing anything: its cells, the
// shard's slice, the threads it would use, and an estimated time from a short calibration (a
// few cells of the slice run on the main thread, spread over it since cost varies with the
// parameters: K, the grid size, the generations).
import { sanitizeForTerminal } from "../core/text.js";
import { shardCells, type SweepPlan } from "../sweep/spec.js";
import { runCell } from "../sweep/task.js";
import { createEngine } from "./index.js";
import { capWorkers, MAIN_THREAD_CELL_MS, START_THREADS_AFTER_MS } from "./pool.js";
import { duration } from "./progress.js";

/** What `sweep --dry-run` reports. */
export interface SweepDryRun {
  name: string;
  /** Cells in the whole sweep, and how they factor: one entry per axis or zip group, then replicates. */
  total: number;
  factors: { paths: string[]; length: number }[];
  replicates: number;
  shard: { index: number; count: number; cells: number };
  workers: number;
  /** The cells run to calibrate, and milliseconds per cell measured on each (after one warm-up run). */
  calibration: { cells: number[]; msPerCell: number[]; failed: number };
  /** shard cells x mean ms per cell / workers, in seconds (thread start-up not included). */
  estimatedSeconds: number;
}

/** Plans a sweep and times `samples` of its cells; writes nothing. */
export async function sweepDryRun(
  plan: SweepPlan,
  options: { shard?: { index: number; count: number }; workers?: number; samples?: number } = {},
): Promise<SweepDryRun> {
  const shard = options.shard ?? { index: 0, count: 1 };
  const slice = shardCells(plan.total, shard.index, shard.count);
  const workers = capWorkers(options.workers, slice.length);
  const samples = Math.min(options.samples ?? 3, slice.length);
  const picks = [...new Set(Array.from({ length: samples }, (_, k) => slice[Math.floor((k * (slice.length - 1)) / Math.max(samples - 1, 1))]))];
  const engine = await createEngine();
  const msPerCell: number[] = [];
  let failed = 0;
  // One untimed run first: the first cell also pays for compiling the JavaScript on the hot path.
  if (picks.length > 0) runCell(engine, plan, picks[0]);
  for (const cell of picks) {
    const t0 = performance.now();
    const r = runCell(engine, plan, cell);
    msPerCell.push(performance.now() - t0);
    if (r.row.status !== "ok") failed++;
  }
  const mean = msPerCell.length ? msPerCell.reduce((a, b) => a + b, 0) / msPerCell.length : 0;
  // Without --workers the sweep starts on the main thread and starts threads only when the cells
  // left would take longer than START_THREADS_AFTER_MS there (src/node/pool.ts): a sweep that short
  // runs on the main thread alone.
  const mainThreadOnly = options.workers === undefined && slice.length * mean <= START_THREADS_AFTER_MS && mean <= MAIN_THREAD_CELL_MS;
  const threads = mainThreadOnly ? 0 : workers;
  return {
    name: plan.name,
    total: plan.total,
    factors: plan.dims.map((d) => ({ paths: d.paths, length: d.length })),
    replicates: plan.replicates,
    shard: { ...shard, cells: slice.length },
    workers: threads,
    calibration: { cells: picks, msPerCell, failed },
    estimatedSeconds: (slice.length * mean) / 1000 / Math.max(threads, 1),
  };
}

/** The dry run as the lines `sweep --dry-run` prints (the sweep's name and paths with control characters escaped). */
export function formatDryRun(d: SweepDryRun): string {
  const factors = [...d.factors.map((f) => `${f.length} (${f.paths.map(sanitizeForTerminal).join(", ")})`), ...(d.replicates > 1 ? [`${d.replicates} replicates`] : [])];
  const ms = d.calibration.msPerCell.map((t) => t.toFixed(1)).join(", ");
  return [
    `sweep ${sanitizeForTerminal(d.name)}: ${d.total} cells = ${factors.join(" x ") || "1"}`,
    d.shard.count > 1 ? `shard ${d.shard.index}/${d.shard.count}: ${d.shard.cells} cells (every cell c with c mod ${d.shard.count} = ${d.shard.index})` : `one shard: all ${d.shard.cells} cells (split with --shard i/n)`,
    `workers: ${d.workers === 0 ? "the main thread" : d.workers}`,
    `calibration: cells ${d.calibration.cells.join(", ")} took ${ms} ms each${d.calibration.failed ? ` (${d.calibration.failed} failed: see the rows when it runs)` : ""}`,
    `estimated time: ${duration(d.estimatedSeconds)} (${d.shard.cells} cells x ${(d.calibration.msPerCell.reduce((a, b) => a + b, 0) / Math.max(d.calibration.msPerCell.length, 1)).toFixed(1)} ms / ${Math.max(d.workers, 1)} ${d.workers > 1 ? "threads, plus thread start-up" : "thread"})`,
    "nothing was written (--dry-run)",
  ].join("\n");
}
