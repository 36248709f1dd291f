// A Web Worker: one engine on its own Wasm instance of the module the page compiled. Runs whole
// scenarios (src/web/worker-run.ts, posting progress), sweep batches through runBatch, the same
// task function the Piscina workers run (src/sweep/task.ts), and the Benchmark tab's kernel suite.
import { createEngineFrom, type Engine } from "../core/engine.js";
import type { SweepPlan } from "../sweep/spec.js";
import { runBatch } from "../sweep/task.js";
import type { FromWorker, ToWorker, WireError } from "./protocol.js";
import { runScenarioMessage } from "./worker-run.js";

// A dedicated worker scope has the postMessage/onmessage pair of a Worker seen from outside.
const scope = self as unknown as Worker;

let engine: Promise<Engine> | undefined;
let module: WebAssembly.Module | undefined;
let plan: { sweep: number; plan: SweepPlan } | undefined;
const post = (m: FromWorker) => scope.postMessage(m);

function wire(e: unknown): WireError {
  const err = e as { message?: string; code?: string; field?: string };
  return { message: err?.message ?? String(e), code: err?.code, field: err?.field };
}

scope.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    module = msg.module;
    engine = createEngineFrom({ module: msg.module, wasmSha256: msg.wasmSha256 });
    await engine;
    post({ type: "ready" });
    return;
  }
  try {
    if (!engine) throw new Error("worker used before init");
    const e = await engine;
    if (msg.type === "run") {
      await runScenarioMessage(e, msg, (m, transfer = []) => scope.postMessage(m, transfer));
    } else if (msg.type === "batch") {
      if (!plan || plan.sweep !== msg.sweep) plan = { sweep: msg.sweep, plan: msg.plan };
      post({ type: "rows", id: msg.id, results: runBatch(e, plan.plan, msg.cells) });
    } else if (msg.type === "bench") {
      // Loaded on demand: sweep workers never pay for tinybench.
      const { runKernelSuite } = await import("./bench.js");
      const cases = await runKernelSuite(module!, msg.size, (c, done, total) => post({ type: "bench-case", id: msg.id, case: c, done, total }));
      post({ type: "bench", id: msg.id, cases });
    }
  } catch (err) {
    post({ type: "error", id: (msg as { id: number }).id, error: wire(err) });
  }
};
