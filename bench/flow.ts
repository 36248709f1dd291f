// Flow-model benchmark suite: one generation of flow retraining in the engine's retrainer
// (K candidates drawn by the ODE sampler, curation, 500 Adam steps of batch 256, N fresh
// samples binned), its training and sampling parts alone, and the same network and optimiser
// in NumPy (bench/numpy_flow.py) in the same run. Reports milliseconds of wall time and of
// process CPU time (steadier on a shared machine), the ratio to NumPy and the GFLOP/s achieved
// (multiply and add counted as two).
import { compileScenario, rewardEvaluator } from "../src/core/compile.js";
import { createFlowNet, sequentialIds } from "../src/core/flow.js";
import { instantiateKernels } from "../src/core/kernels.js";
import { presetScenario } from "../src/core/presets.js";
import { createRetrainer } from "../src/core/retrain.js";
import { parseScenario } from "../src/core/scenario.js";
import { loadWasmBytes } from "../src/node/wasm.js";
import { runNumpy, timeMs } from "../src/bench/common.js";

const N = 4096;
const HIDDEN = [64, 64];
const STEPS = 500;
const BATCH = 256;
const ODE = 32;
const TIME_FEATURES = 8;

type FlowCase = {
  wasmMs: number;
  numpyMs: number | null;
  numpyOverWasm: number | null;
  gflops: number;
  /** The same from process CPU time (least of three runs): steadier than wall time on a shared machine. */
  wasmCpuMs: number;
  numpyCpuMs: number | null;
  numpyOverWasmCpu: number | null;
  gflopsCpu: number;
};

/** Least process CPU time (user + system) of `reps` calls of fn, in milliseconds. */
function cpuMs(fn: () => number, reps = 3): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    sink += fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  if (!Number.isFinite(sink)) throw new Error(`non-finite result ${sink}`);
  return best;
}

function flowCase(wallMs: number, cpu: number, flops: number, numpyMs?: number, numpyCpuMs?: number): FlowCase {
  return {
    wasmMs: wallMs,
    numpyMs: numpyMs ?? null,
    numpyOverWasm: numpyMs === undefined ? null : numpyMs / wallMs,
    gflops: flops / (wallMs * 1e6),
    wasmCpuMs: cpu,
    numpyCpuMs: numpyCpuMs ?? null,
    numpyOverWasmCpu: numpyCpuMs === undefined ? null : numpyCpuMs / cpu,
    gflopsCpu: flops / (cpu * 1e6),
  };
}

/** Multiply-adds of one forward pass for one point: sum over layers of in x out. */
function macs(dim: number): number {
  const w = [dim + TIME_FEATURES, ...HIDDEN, dim];
  let s = 0;
  for (let l = 0; l + 1 < w.length; l++) s += w[l] * w[l + 1];
  return s;
}

/** Flops of one training example: forward, weight gradients, input gradients past the first layer. */
function trainFlops(dim: number): number {
  const w = [dim + TIME_FEATURES, ...HIDDEN, dim];
  return 2 * (2 * macs(dim) + macs(dim) - w[0] * w[1]);
}

/** Runs the flow suite: cases keyed `flow-<part>:dim=..,N=..,hidden=..,steps=..,batch=..,ode=..`. */
export async function flowSuite(): Promise<{ cases: Record<string, FlowCase>; notes: string[]; meta: Record<string, unknown> }> {
  const notes: string[] = [
    "the CPU is shared with other processes (load average above the core count during these runs): absolute times vary between runs, ratios less",
    "Wasm SIMD has no fused multiply-add: a multiply-add is two f32x4 instructions, so one core peaks at 8 flops per cycle with two SIMD ports",
  ];
  const k = await instantiateKernels(new WebAssembly.Module((await loadWasmBytes()) as Uint8Array<ArrayBuffer>));
  const cases: Record<string, FlowCase> = {};
  for (const dim of [1, 2] as const) {
    const size = `dim=${dim},N=${N},hidden=${HIDDEN.join("x")},steps=${STEPS},batch=${BATCH},ode=${ODE}`;
    const numpy = runNumpy("numpy_flow.py", { N, dim, hidden: HIDDEN, steps: STEPS, batch: BATCH, odeSteps: ODE, lr: 0.001 }, notes);

    // Training alone.
    k.reset();
    const box = dim === 1 ? new Float64Array([-4, 4, 0, 0]) : new Float64Array([-4, 4, -4, 4]);
    const net = createFlowNet(k, { dim, hidden: HIDDEN, activation: "silu", batch: BATCH, ot: false }, box);
    net.init(1, 0);
    const data = k.allocF64(N * dim);
    k.write(data, Float64Array.from({ length: N * dim }, (_, j) => ((j * 0.6180339887) % 1) * 6 - 3));
    let stream = 0;
    const trainOnce = () => {
      net.resetOptimiser();
      const losses = net.train(data, N, 1, stream++, 0, STEPS, 0.001);
      return losses[losses.length - 1];
    };
    const trainMs = await timeMs(`flow-train:${size}`, trainOnce, { iterations: 3, time: 100 });
    cases[`flow-train:${size}`] = flowCase(trainMs, cpuMs(trainOnce), trainFlops(dim) * BATCH * STEPS, numpy.train, numpy.trainCpu);

    // Sampling alone: N points, Euler.
    const out = k.allocF64(N * dim);
    const ids = sequentialIds(N);
    const sampleOnce = () => {
      const clamped = net.sample(ids, "fresh", 1, stream++, ODE, false, 16, out);
      return clamped + k.f64(out, 1)[0];
    };
    const sampleMs = await timeMs(`flow-sample:${size}`, sampleOnce, { iterations: 3, time: 100 });
    cases[`flow-sample:${size}`] = flowCase(sampleMs, cpuMs(sampleOnce), 2 * macs(dim) * N * ODE, numpy.sample, numpy.sampleCpu);

    // One generation of the retrainer (after generation 0, which draws from p_0): K = infinity
    // with a pool of N network samples, or K = 4 candidates per curated sample.
    for (const [label, K, poolFactor] of [["K=inf,pool=N", "inf", 1], ["K=4", 4, 1]] as const) {
      const base = presetScenario("flow-two-groups");
      const scenario = parseScenario({
        ...base,
        ...(dim === 2 ? { space: { kind: "grid2d", min: [-4, -4], max: [4, 4], cells: [40, 40] }, groups: [
          { name: "left", weight: 0.3, reward: { kind: "quadratic", center: [-2, 0], scale: 1 } },
          { name: "right", weight: 0.7, reward: { kind: "quadratic", center: [2, 0], scale: 1 } },
        ] } : {}),
        curation: { K, temperature: 1 },
        retraining: { model: "flow", samples: N, hidden: HIDDEN, steps: STEPS, batch: BATCH, odeSteps: ODE, poolFactor },
      });
      const problem = compileScenario(scenario);
      k.reset();
      const pPtr = k.allocF64(problem.n);
      const outPtr = k.allocF64(problem.n);
      const wPtr = k.allocF64(problem.m * problem.n);
      const rPtr = k.allocF64(problem.m * problem.n);
      k.write(rPtr, problem.r);
      const maxPtr = k.allocF64(problem.m);
      k.raw.computeWeights(rPtr, wPtr, problem.n, problem.m, problem.tau, maxPtr);
      k.write(pPtr, problem.p0);
      const rt = createRetrainer(k, problem, { wPtr, rewardAt: scenario.groups.map((g) => rewardEvaluator(g.reward, scenario.space)) });
      rt.step(pPtr, outPtr, 0);
      let generation = 1;
      const genOnce = () => {
        rt.step(pPtr, outPtr, generation++);
        return k.raw.sum(outPtr, problem.n);
      };
      const genMs = await timeMs(`flow-generation:${label},${size}`, genOnce, { iterations: 3, time: 100 });
      const sampled = (K === "inf" ? N : 4 * N) + N;
      cases[`flow-generation:${label},${size}`] = flowCase(genMs, cpuMs(genOnce), trainFlops(dim) * BATCH * STEPS + 2 * macs(dim) * sampled * ODE);
    }
  }
  return { cases, notes, meta: { N, hidden: HIDDEN, steps: STEPS, batch: BATCH, odeSteps: ODE } };
}

if (process.argv[1]?.endsWith("flow.js") || process.argv[1]?.endsWith("flow.ts")) {
  const out = await flowSuite();
  console.table(Object.fromEntries(Object.entries(out.cases).map(([c, r]) => [c, Object.fromEntries(Object.entries(r).map(([key, v]) => [key, typeof v === "number" ? Number(v.toPrecision(4)) : v]))])));
  for (const note of out.notes) console.log(`note: ${note}`);
}
