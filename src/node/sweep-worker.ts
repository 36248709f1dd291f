// The Piscina worker of `plurisim sweep`: one Wasm instance per thread on the module compiled
// once by the main thread (a WebAssembly.Module can be posted to worker threads), running
// batches with the same task function as the browser's Web Workers (src/sweep/task.ts).
import { workerData } from "piscina";
import { createEngineFrom } from "../core/engine.js";
import type { SweepPlan } from "../sweep/spec.js";
import { runBatch, type CellResult } from "../sweep/task.js";

/** What the pool hands each worker once, at start-up. */
export interface SweepWorkerData {
  module: WebAssembly.Module;
  wasmSha256: string;
  plan: SweepPlan;
  /** Test-only: the worker thread exits (as if killed, e.g. out of memory) when it reaches one of these cells. */
  exitOnCells?: number[];
}

const data = workerData as SweepWorkerData;
const engine = createEngineFrom({ module: data.module, wasmSha256: data.wasmSha256 });
const exitOn = new Set(data.exitOnCells ?? []);
const beforeCell = exitOn.size > 0 ? (cell: number) => void (exitOn.has(cell) && process.exit(70)) : undefined;

/** Runs one batch of cell indices; returns their rows (and trajectories when kept). */
export default async function runSweepBatch(cells: number[]): Promise<CellResult[]> {
  return runBatch(await engine, data.plan, cells, { beforeCell });
}
