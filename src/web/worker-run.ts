// A Web Worker's "run" message: one scenario, parsed and compiled once on the worker's engine
// (the geometry posted with each frame and the run itself share that compiled problem), with
// progress and a few frames a second posted back; on flow runs the network's velocity field is
// sampled at every recorded generation (src/web/flow-field.ts), posted with the frames and kept
// for the replay. Kept apart from worker.ts so Node tests can drive it with a real engine.
import type { Engine } from "../core/engine.js";
import { parseScenario } from "../core/scenario.js";
import { runChecksum } from "./checksum.js";
import { sampleField, type FieldSample } from "./flow-field.js";
import type { FromWorker, ToWorker } from "./protocol.js";

/** Posts a message to the page, transferring the listed buffers. */
export type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** Runs the scenario of a "run" message on `engine` and posts its progress, frames and result. */
export async function runScenarioMessage(engine: Engine, msg: Extract<ToWorker, { type: "run" }>, post: Post): Promise<void> {
  const scenario = parseScenario(msg.scenario);
  const problem = engine.compile(scenario);
  const geometry = { n: problem.n, dim: problem.dim, coords: problem.coords, cellWidth: problem.cellWidth, gridShape: problem.gridShape };
  const fields: FieldSample[] = [];
  let last = 0;
  let lastFrame = performance.now();
  const result = engine.runProblem(
    problem,
    {
      ...msg.options,
      onProgress: (done, total) => {
        const t = performance.now();
        if (t - last > 50 || done === total) {
          last = t;
          post({ type: "progress", id: msg.id, done, total });
        }
      },
      // A few frames a second: drawing p_t costs the page more than computing it costs us.
      // The field exists only now, with this generation's weights: sampled at every recorded
      // generation (a forward pass over 256 points), whether or not a frame goes out.
      onRecord: (metrics, p, field) => {
        const sample = field && metrics.generation > 0 ? sampleField(problem, metrics.generation, field) : null;
        if (sample) fields.push(sample);
        const t = performance.now();
        if (t - lastFrame < 200) return;
        lastFrame = t;
        const frame = p();
        post({ type: "frame", id: msg.id, generation: metrics.generation, p: frame, geometry, ...(sample ? { field: sample } : {}) }, [frame.buffer]);
      },
    },
    scenario,
  );
  post({ type: "result", id: msg.id, result, geometry, p0: problem.p0, checksum: await runChecksum(result), fields }, fields.map((f) => f.v.buffer));
}
