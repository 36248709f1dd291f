// Messages between the page and its Web Workers (src/web/worker.ts). Plain structured-clone
// data: the compiled WebAssembly.Module itself is posted once, so the .wasm compiles once.
import type { Geometry } from "../core/charts.js";
import type { RunOptions } from "../core/engine.js";
import type { RunResult } from "../core/types.js";
import type { SweepPlan } from "../sweep/spec.js";
import type { CellResult } from "../sweep/task.js";
import type { BrowserCase } from "./bench.js";
import type { FieldSample } from "./flow-field.js";

export type ToWorker =
  | { type: "init"; module: WebAssembly.Module; wasmSha256: string }
  | { type: "run"; id: number; scenario: unknown; options: Omit<RunOptions, "onProgress" | "onRecord"> }
  /** Cells of sweep `sweep`: a worker keeps the first plan it gets for a sweep, so per-plan caches (derived formulas) hold across batches. */
  | { type: "batch"; id: number; sweep: number; plan: SweepPlan; cells: number[] }
  /** The Benchmark tab's kernel suite (src/web/bench.ts), run off the page's thread. */
  | { type: "bench"; id: number; size: "quick" | "full" };

/** An error as it crosses the worker boundary: PlurisimError's code, field and message. */
export interface WireError {
  message: string;
  code?: string;
  field?: string;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; id: number; done: number; total: number }
  /** p_t at a recorded generation while the run goes on (a few a second), for drawing it live; on flow runs with the network's field at that generation. */
  | { type: "frame"; id: number; generation: number; p: Float64Array; geometry: Geometry; field?: FieldSample }
  /** The run; `fields`: a flow run's learned field at every recorded generation after 0 (src/web/flow-field.ts), empty for other models. */
  | { type: "result"; id: number; result: RunResult; geometry: Geometry; p0: Float64Array; checksum: string; fields: FieldSample[] }
  | { type: "rows"; id: number; results: CellResult[] }
  | { type: "bench-case"; id: number; case: BrowserCase; done: number; total: number }
  | { type: "bench"; id: number; cases: BrowserCase[] }
  | { type: "error"; id: number; error: WireError };
