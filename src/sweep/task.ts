// The batch task: runs a list of cells of a sweep on one engine and returns their rows. The
// Piscina worker (src/node/sweep-worker.ts) and the browser's Web Workers run this same function,
// so it imports nothing from `node:`.
import type { Engine } from "../core/engine.js";
import { isPlurisimError } from "../core/errors.js";
import type { ErrorRow, Metrics, OkRow, Row, RowAudit, RowMetrics, RunResult } from "../core/types.js";
import { cellAt, type Cell, type Keep, type SweepPlan } from "./spec.js";

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
  let cell: Cell | undefined;
  try {
    cell = cellAt(plan, index);
    if (!keep.dynamics) {
      const { welfare, gap, basinMass, outsideMass } = engine.nash(cell.scenario);
      const row: OkRow = { cell: index, replicate: cell.replicate, params: cell.params, seed: cell.seed, status: "ok", nash: { welfare, gap, basinMass, outsideMass }, durationMs: 0 };
      row.durationMs = now() - started;
      return { row };
    }
    // Without a kept trajectory the engine computes metrics only at the kept generations and
    // the last one, and holds no per-generation storage.
    const options = keep.trajectory ? {} : { trajectory: false, recordAt: keep.generations };
    const scenario = keep.trajectory ? withRecording(cell.scenario, keep) : cell.scenario;
    const result = engine.run(scenario, { nash: keep.nash, audit: keep.audit, ...options });
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
export function errorRow(plan: SweepPlan, index: number, e: unknown, durationMs: number, cell?: Cell): ErrorRow {
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

/** Runs a batch of cells in order on one engine (one Wasm instance); never throws for a cell. */
export function runBatch(engine: Engine, plan: SweepPlan, cells: readonly number[], hooks: BatchHooks = {}): CellResult[] {
  const out: CellResult[] = [];
  for (const c of cells) {
    hooks.beforeCell?.(c);
    out.push(runCell(engine, plan, c));
  }
  return out;
}
