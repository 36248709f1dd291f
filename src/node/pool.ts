// A Piscina pool of sweep workers, or the main thread when workers = 0. The compiled module is
// posted to every worker; each instantiates its own engine.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { createEngineFrom, type WasmSource } from "../core/engine.js";
import type { SweepPlan } from "../sweep/spec.js";
import { runBatch, type CellResult } from "../sweep/task.js";
import type { SweepWorkerData } from "./sweep-worker.js";

export interface SweepPool {
  /** Threads running cells (0: the main thread). */
  readonly workers: number;
  /** Runs a batch; rejects if the worker running it dies (or the pool is destroyed). */
  run(cells: number[]): Promise<CellResult[]>;
  destroy(): Promise<void>;
}

export interface SweepPoolOptions {
  plan: SweepPlan;
  wasm: WasmSource;
  /** Worker threads; 0 runs batches on the main thread. Default: the available cores. */
  workers?: number;
  /** Test-only: a worker exits when it reaches one of these cells. */
  exitOnCells?: number[];
}

/** The default worker count: os.availableParallelism(). */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * The threads a run of `cells` cells uses: the request (default: the cores), at most one per core
 * and one per cell, since more only adds start-up time and memory; 0 (the main thread) stays 0.
 * A request that is lowered is reported through `note`.
 */
export function capWorkers(requested: number | undefined, cells: number, note: (text: string) => void = () => {}, cores = availableParallelism()): number {
  if (requested === 0) return 0;
  const want = requested ?? cores;
  const cap = Math.max(1, Math.min(cores, cells));
  if (want <= cap) return want;
  if (requested !== undefined) {
    const why = cells < cores ? `${cells} cell${cells === 1 ? "" : "s"} to run` : `${cores} core${cores === 1 ? "" : "s"}`;
    note(`--workers ${requested}: using ${cap} (only ${why})`);
  }
  return cap;
}

/**
 * The compiled worker file. Under dist/ it sits beside this one; when this module runs from
 * src/ (vitest), the compiled copy in dist/src/node/ is used (build it first: npm run build:ts).
 */
export function workerFile(): string {
  const here = new URL("./sweep-worker.js", import.meta.url);
  const path = fileURLToPath(here);
  if (existsSync(path)) return path;
  const dist = fileURLToPath(new URL("../../dist/src/node/sweep-worker.js", import.meta.url));
  if (existsSync(dist)) return dist;
  throw new Error(`sweep worker not found at ${path} or ${dist}: run npm run build:ts`);
}

/** A pool for one sweep plan. */
export async function createSweepPool(options: SweepPoolOptions): Promise<SweepPool> {
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isSafeInteger(workers) || workers < 0) throw new RangeError(`workers must be a non-negative integer (got ${workers})`);
  if (workers === 0) {
    const engine = await createEngineFrom(options.wasm);
    return {
      workers: 0,
      run: async (cells) => runBatch(engine, options.plan, cells),
      destroy: async () => {},
    };
  }
  const workerData: SweepWorkerData = {
    module: options.wasm.module,
    wasmSha256: options.wasm.wasmSha256,
    plan: options.plan,
    exitOnCells: options.exitOnCells,
  };
  const piscina = new Piscina({
    filename: workerFile(),
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
    maxQueue: "auto",
    workerData,
  });
  return {
    workers,
    run: (cells) => piscina.run(cells) as Promise<CellResult[]>,
    destroy: () => piscina.destroy(),
  };
}
