// The batch task: runs a list of cells of a sweep on one engine and returns their rows. The
// Piscina worker (src/node/sweep-worker.ts) and the browser's Web Workers run this same function,
// so it imports nothing from `node:`.
import type { Engine } from "../core/engine.js";
import { isPlurisimError } from "../core/errors.js";
import type { ErrorRow, Metrics, OkRow, Row, RowAudit, RowMetrics, RunResult } from "../core/types.js";
import { toJson } from "../core/json.js";
import { cellAt, cellIndices, parsedCellAt, type Cell, type Keep, type SweepPlan } from "./spec.js";

export type { ErrorRow, OkRow, Row } from "../core/types.js";

/** A cell's row and, when kept, its trajectory (written to the trajectories file). */
export interface CellResult {
  row: Row;
  trajectory?: RowMetrics[];
}

export interface BatchHooks {
  /** Called before each cell runs (the Node worker uses it for a test-only crash switch). */
  beforeCell?: (cell: number) => void;
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function pick(m: Metrics, names: string[] | null): RowMetrics {
  if (!names) return { ...m };
  const out: Record<string, unknown> = { generation: m.generation };
  for (const k of names) if (k in m) out[k] = m[k as keyof Metrics];
  return out as RowMetrics;
}

/** Makes the engine record every kept generation: record.every becomes their gcd (with the base's, if trajectories are kept). */
function withRecording(scenario: Record<string, unknown>, keep: Keep): Record<string, unknown> {
  const gens = keep.generations.filter((t) => t > 0);
  if (gens.length === 0) return scenario;
  const record = { ...((scenario.record as Record<string, unknown> | undefined) ?? {}) };
  let every = gens.reduce(gcd);
  if (keep.trajectory && typeof record.every === "number") every = gcd(every, record.every);
  record.every = every;
  return { ...scenario, record };
}

function auditSummary(result: RunResult): RowAudit | undefined {
  const a = result.audit;
  if (!a) return undefined;
  return {
    applicable: a.applicable,
    delta: a.delta,
    Delta: a.Delta,
    kappa: a.kappa,
    qWindow: a.qWindow,
    interval: a.interval,
    held: a.check.held,
    intervalWithSlack: a.check.details.intervalWithSlack,
  };
}

/** Runs one cell; any error becomes a row with status "error", the message and its code. */
export function runCell(engine: Engine, plan: SweepPlan, index: number): CellResult {
  const started = now();
  const keep = plan.keep;
  let cell: Pick<Cell, "params" | "seed" | "replicate"> | undefined;
  try {
    // Without a kept trajectory the engine computes metrics only at the kept generations and
    // the last one, and holds no per-generation storage.
    const options = keep.trajectory ? {} : { trajectory: false, recordAt: keep.generations };
    const recorded = keep.trajectory && keep.generations.some((t) => t > 0);
    // The scenario validated once per swept value (spec.ts parsedCellAt); else built and parsed in full.
    const parsed = keep.dynamics && !recorded ? parsedCellAt(plan, index) : null;
    let result: RunResult;
    if (parsed) {
      cell = parsed;
      result = engine.runProblem(engine.compile(parsed.scenario), { nash: keep.nash, audit: keep.audit, ...options }, parsed.scenario);
    } else {
      const full = cellAt(plan, index);
      cell = full;
      if (!keep.dynamics) {
        const { welfare, gap, basinMass, outsideMass } = engine.nash(full.scenario);
        const row: OkRow = { cell: index, replicate: full.replicate, params: full.params, seed: full.seed, status: "ok", nash: { welfare, gap, basinMass, outsideMass }, durationMs: 0 };
        row.durationMs = now() - started;
        return { row };
      }
      const scenario = keep.trajectory ? withRecording(full.scenario, keep) : full.scenario;
      result = engine.run(scenario, { nash: keep.nash, audit: keep.audit, ...options });
    }
    const row: OkRow = { cell: index, replicate: cell.replicate, params: cell.params, seed: cell.seed, status: "ok", durationMs: 0 };
    if (keep.final) row.final = pick(result.final, keep.metrics);
    if (keep.generations.length > 0) {
      const byGen = new Map(result.trajectory.map((m) => [m.generation, m]));
      row.at = {};
      for (const t of keep.generations) {
        const m = byGen.get(t);
        row.at[String(t)] = m ? pick(m, keep.metrics) : null;
      }
    }
    row.generationsRun = result.generationsRun;
    row.stoppedEarly = result.stoppedEarly;
    row.maxMassDefect = result.maxMassDefect;
    if (result.nash) {
      const { welfare, gap, basinMass, outsideMass } = result.nash;
      row.nash = { welfare, gap, basinMass, outsideMass };
    }
    const audit = auditSummary(result);
    if (audit) row.audit = audit;
    row.durationMs = now() - started;
    const out: CellResult = { row };
    if (keep.trajectory) out.trajectory = result.trajectory.map((m) => pick(m, keep.metrics));
    return out;
  } catch (e) {
    return { row: errorRow(plan, index, e, now() - started, cell) };
  }
}

/** The row of a cell that failed with `e` (also used by the pool when a worker dies). */
export function errorRow(plan: SweepPlan, index: number, e: unknown, durationMs: number, cell?: Pick<Cell, "params" | "seed" | "replicate">): ErrorRow {
  let params: Record<string, unknown> = cell?.params ?? {};
  let seed = cell?.seed ?? 0;
  let replicate = cell?.replicate ?? index % plan.replicates;
  if (!cell) {
    try {
      const c = cellAt(plan, index);
      params = c.params;
      seed = c.seed;
      replicate = c.replicate;
    } catch {
      // The cell's own parameters are what failed (a derived formula); keep the defaults.
    }
  }
  const row: ErrorRow = {
    cell: index,
    replicate,
    params,
    seed,
    status: "error",
    error: e instanceof Error ? e.message : String(e),
    errorCode: isPlurisimError(e) ? e.code : "ERROR",
    durationMs,
  };
  if (isPlurisimError(e) && e.field !== undefined) row.errorField = e.field;
  return row;
}

/**
 * Swept paths whose change the engine's compile cache absorbs (compile.ts): the grid, the rewards,
 * their weights and the masks stay; any other path (a reward, the space, the temperature, ...)
 * makes a cell compile and lay out new arrays.
 */
const LIGHT_PATH = /^(?:seed|generations|normalize|name|description|curation\.(?:K|mixing)|realData\.fraction|groups\[\d+\]\.(?:weight|name)|record\..+|earlyStop\..+)$/;

/**
 * The order in which to run a batch's cells, as positions in `cells`: cells that share the values
 * of every dim setting another path than the light ones run one after the other, so each such
 * set-up is compiled once per batch rather than once per cell (table5's zipped reward centres
 * vary fastest, q slower: its batches run each D's cells together). The given order when no such
 * grouping helps. A cell's row does not depend on the cells run before it on the same engine,
 * so only the time changes.
 */
export function runOrder(plan: SweepPlan, cells: readonly number[]): number[] {
  const positions = cells.map((_, i) => i);
  const heavy = plan.dims.map((d) => d.paths.some((p) => !LIGHT_PATH.test(p)));
  // A derived heavy path depends on dims the grouping does not see.
  if (cells.length < 3 || heavy.every(Boolean) || !heavy.some(Boolean) || plan.derived.some((d) => !LIGHT_PATH.test(d.path))) return positions;
  const groups = new Map<string, number[]>();
  for (const i of positions) {
    const { idx } = cellIndices(plan, cells[i]);
    const key = idx.filter((_, d) => heavy[d]).join(",");
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  }
  return [...groups.values()].flat();
}

/** Runs a batch of cells on one engine (one Wasm instance), in runOrder; never throws for a cell. Results in the order of `cells`. */
export function runBatch(engine: Engine, plan: SweepPlan, cells: readonly number[], hooks: BatchHooks = {}): CellResult[] {
  const out = new Array<CellResult>(cells.length);
  for (const i of runOrder(plan, cells)) {
    hooks.beforeCell?.(cells[i]);
    out[i] = runCell(engine, plan, cells[i]);
  }
  return out;
}

/** A batch's results as the lines of the rows (and trajectories) files: what worker threads hand back. */
export interface BatchLines {
  /** One JSON line per cell (no newline), in the order of the batch's cells. */
  rows: string[];
  /** The trajectory line of each cell when the sweep keeps trajectories, else null. */
  trajectories: string[] | null;
  /** Positions in the batch of the rows whose status is not "ok". */
  failed: number[];
  /** Milliseconds the cells took (their rows' durationMs added up). */
  ms: number;
}

/** True when every number in a JSON-like value is finite. */
function allFinite(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (v === null || typeof v !== "object") return true;
  if (Array.isArray(v)) {
    for (const e of v) if (!allFinite(e)) return false;
    return true;
  }
  for (const k in v) if (!allFinite((v as Record<string, unknown>)[k])) return false;
  return true;
}

/** toJson's text, by JSON.stringify's own fast path when there is no non-finite number to write as a string. */
const jsonLine = (v: unknown): string => (allFinite(v) ? JSON.stringify(v) : toJson(v));

/** The rows-file line of a result. */
export const rowLine = (result: CellResult): string => jsonLine(result.row);

/** The trajectories-file line of a result. */
export const trajectoryLine = (result: CellResult): string => jsonLine({ cell: result.row.cell, trajectory: result.trajectory ?? null });

/** Results as file lines (BatchLines). */
export function toLines(plan: SweepPlan, results: readonly CellResult[]): BatchLines {
  const failed: number[] = [];
  let ms = 0;
  results.forEach((r, i) => {
    if (r.row.status !== "ok") failed.push(i);
    ms += r.row.durationMs;
  });
  return { rows: results.map(rowLine), trajectories: plan.keep.trajectory ? results.map(trajectoryLine) : null, failed, ms };
}

/** runBatch, its results as file lines. */
export function runBatchLines(engine: Engine, plan: SweepPlan, cells: readonly number[], hooks: BatchHooks = {}): BatchLines {
  return toLines(plan, runBatch(engine, plan, cells, hooks));
}
