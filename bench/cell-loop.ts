// One Table-5 cell (n = 3001, T = 400, K = infinity) run over and over on one engine; prints the
// median milliseconds per cell as JSON. bench/whole-run.ts starts one copy, then two at once, to
// show what running two copies of the same computation costs each of them on this machine.
import { twoWells } from "../src/core/presets.js";
import { parseScenario } from "../src/core/scenario.js";
import { createEngine } from "../src/node/index.js";

const engine = await createEngine();
const problem = engine.compile(parseScenario(twoWells([-1, 1], 0.3, { record: { every: 400 } })));
for (let i = 0; i < 200; i++) engine.runProblem(problem, { trajectory: false });
const times: number[] = [];
for (let k = 0; k < 15; k++) {
  const t = performance.now();
  for (let i = 0; i < 200; i++) engine.runProblem(problem, { trajectory: false });
  times.push((performance.now() - t) / 200);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ medianMs: times[7] }));
