// The Piscina worker of `plurisim sweep`: one Wasm instance per thread on the module compiled
// once by the main thread (a WebAssembly.Module can be posted to worker threads), running
// batches with the same task function as the browser's Web Workers (src/sweep/task.ts).
//
// It loads only what a batch runs: the engine and the cell expansion (src/sweep/task.ts), not
// Piscina's pool (Piscina hands the pool's workerData to the thread unchanged, so
// node:worker_threads gives it), nor the CLI, charts or queue. test/sweep-startup-imports.test.ts
// keeps it so.
import { parentPort, workerData } from "node:worker_threads";
import { createEngineFrom } from "../core/engine.js";
import type { SweepPlan } from "../sweep/spec.js";
import { runBatch, runBatchLines, type BatchLines, type CellResult } from "../sweep/task.js";

/** What the pool hands each worker once, at start-up. */
export interface SweepWorkerData {
  module: WebAssembly.Module;
  wasmSha256: string;
  plan: SweepPlan;
  /** Test-only: the worker thread exits (as if killed, e.g. out of memory) when it reaches one of these cells. */
  exitOnCells?: number[];
}

/** The message a worker posts once its engine exists: a batch can start now (pool.ts counts them). */
export type SweepWorkerReady = "plurisim-sweep-worker-ready";

const data = workerData as SweepWorkerData;
// Awaited while Piscina loads this file, so the thread says it is ready once a batch can run: after
// loading, Piscina waits for tasks in Atomics.wait, where no promise of this thread settles.
const engine = await createEngineFrom({ module: data.module, wasmSha256: data.wasmSha256 });
parentPort?.postMessage("plurisim-sweep-worker-ready" satisfies SweepWorkerReady);
const exitOn = new Set(data.exitOnCells ?? []);
const beforeCell = exitOn.size > 0 ? (cell: number) => void (exitOn.has(cell) && process.exit(70)) : undefined;

/** Runs one batch of cell indices; returns their rows (and trajectories when kept). */
export default async function runSweepBatch(cells: number[]): Promise<CellResult[]> {
  return runBatch(engine, data.plan, cells, { beforeCell });
}

/** Runs one batch of cell indices; returns their file lines, serialised here rather than on the main thread. */
export async function runSweepBatchLines(cells: number[]): Promise<BatchLines> {
  return runBatchLines(engine, data.plan, cells, { beforeCell });
}
