// The flow retraining model in the engine: with two groups and K = infinity a learned
// generator keeps both basins near the Nash masses; with one reward it collapses into the
// reward's basin, and real data stops that; every curation mode runs; the same seed gives the
// same bytes (also in a worker thread); bad settings are named errors, never NaN rows.
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { presetScenario } from "../src/core/presets.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

// Smaller than the presets (which use N = 2048 and a [64, 64] network) so the file stays fast.
const FAST = { samples: 1024, hidden: [32, 32], steps: 300, batch: 128, odeSteps: 16, lr: 0.005 };

function fast(name: string, overrides: Record<string, unknown> = {}, retraining: Record<string, unknown> = {}): Record<string, unknown> {
  const s = presetScenario(name);
  return { ...s, generations: 8, ...overrides, retraining: { ...(s.retraining as object), ...FAST, ...retraining } };
}

const bytesOf = (p: ArrayLike<number>) => Buffer.from(Float64Array.from(p).buffer).toString("base64");

describe("flow retraining reproduces the paper's result with a learned generator", () => {
  it("two groups (q = 0.3 / 0.7), K = infinity: basin masses after 8 generations within 0.08 of the Nash masses (seeds 1, 2, 3)", () => {
    for (const seed of [1, 2, 3]) {
      const r = engine.run(fast("flow-two-groups", { seed }), { nash: true });
      const nash = r.nash!.basinMass;
      expect(nash[0]).toBeCloseTo(0.3, 3);
      r.final.basinMass.forEach((b, i) => expect(Math.abs(b - nash[i]), `seed ${seed}, basin ${i}: ${b} vs ${nash[i]}`).toBeLessThanOrEqual(0.08));
      expect(r.final.lostBasins).toBe(0);
    }
  });

  it("one reward: the support shrinks and the basin holds >= 0.9 of the mass", () => {
    const r = engine.run(fast("flow-collapse"));
    const first = r.trajectory[0];
    expect(r.final.basinMass[0]).toBeGreaterThanOrEqual(0.9);
    expect(r.final.effectiveSupport).toBeLessThan(first.effectiveSupport / 3);
  });

  it("one reward with 20% real data: mass stays outside the basin (the collapse run keeps less than 0.02 there)", () => {
    const withData = engine.run(fast("flow-real-data"));
    const without = engine.run(fast("flow-real-data", { realData: { fraction: 0 } }));
    expect(withData.final.outsideMass).toBeGreaterThan(0.04);
    expect(without.final.outsideMass).toBeLessThan(0.02);
  });
});

describe("flow retraining runs every curation mode", () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["K = 4, per-sample mixing", { curation: { K: 4, temperature: 1 } }, {}],
    ["K = infinity, per-generation mixing, Heun, tanh, no warm start", { curation: { K: "inf", temperature: 1, mixing: "per-generation" } }, { solver: "heun", activation: "tanh", warmStart: false }],
    ["minibatch OT coupling in 1-D", {}, { coupling: "ot" }],
    [
      "a 2-D grid with three groups, K = 3, OT coupling",
      {
        space: { kind: "grid2d", min: [-3, -3], max: [3, 3], cells: [24, 24] },
        groups: [
          { weight: 0.5, reward: { kind: "quadratic", center: [-1.5, 0], scale: 1 } },
          { weight: 0.3, reward: { kind: "quadratic", center: [1.5, 1], scale: 1 } },
          { weight: 0.2, reward: { kind: "formula", expr: "-(x^2 + (y + 1.5)^2)" } },
        ],
        curation: { K: 3, temperature: 1 },
      },
      { coupling: "ot", batch: 64, samples: 512 },
    ],
  ];
  for (const [name, overrides, retraining] of cases) {
    it(name, () => {
      const r = engine.run(fast("flow-two-groups", { generations: 3, ...overrides }, { steps: 60, ...retraining }), { final: true });
      expect(r.trajectory).toHaveLength(4);
      const p = r.final.p!;
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (const m of r.trajectory) {
        expect(Number.isFinite(m.entropy) && Number.isFinite(m.nashWelfare), `generation ${m.generation}`).toBe(true);
        m.basinMass.forEach((b) => expect(b).toBeGreaterThanOrEqual(0));
      }
    });
  }
});

describe("flow retraining is deterministic", () => {
  const small = () => fast("flow-two-groups", { generations: 2 }, { steps: 40 });

  it("the same seed gives the same bytes, another seed other bytes", () => {
    const a = engine.run(small(), { final: true }).final.p!;
    const b = engine.run(small(), { final: true }).final.p!;
    const c = engine.run({ ...small(), seed: 9 }, { final: true }).final.p!;
    expect(bytesOf(b)).toBe(bytesOf(a));
    expect(bytesOf(c)).not.toBe(bytesOf(a));
  });

  it("a worker thread gives the same bytes as the main thread (compiled engine in dist/)", async () => {
    const entry = new URL("../dist/src/node/index.js", import.meta.url).href;
    const scenario = small();
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      import(workerData.entry).then(async ({ createEngine }) => {
        const engine = await createEngine();
        parentPort.postMessage(engine.run(workerData.scenario, { final: true }).final.p);
      });`;
    const fromWorker: number[] = await new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { entry, scenario } });
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    expect(bytesOf(fromWorker)).toBe(bytesOf(engine.run(scenario, { final: true }).final.p!));
  });
});

describe("bad flow settings are named errors", () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ["a zero hidden width", { hidden: [64, 0] }, "retraining.hidden[1]"],
    ["no hidden layer", { hidden: [] }, "retraining.hidden"],
    ["steps 0", { steps: 0 }, "retraining.steps"],
    ["lr 0", { lr: 0 }, "retraining.lr"],
    ["lr < 0", { lr: -0.001 }, "retraining.lr"],
    ["odeSteps 0", { odeSteps: 0 }, "retraining.odeSteps"],
    ["batch 0", { batch: 0 }, "retraining.batch"],
    ["an unknown solver", { solver: "rk4" }, "retraining.solver"],
  ];
  for (const [name, retraining, field] of bad) {
    it(`${name}: INVALID_SCENARIO naming ${field}`, () => {
      expect(() => engine.run(fast("flow-two-groups", {}, retraining))).toThrow(expect.objectContaining({ code: "INVALID_SCENARIO", field }));
    });
  }

  it("a loss that stops being finite is a NUMERIC error naming retraining.lr (learning rate 1e30 set past the schema)", async () => {
    const { compileScenario, rewardEvaluator } = await import("../src/core/compile.js");
    const { createRetrainer } = await import("../src/core/retrain.js");
    const { parseScenario } = await import("../src/core/scenario.js");
    const { loadKernels } = await import("./helpers.js");
    const k = await loadKernels();
    const scenario = parseScenario(fast("flow-two-groups", {}, { steps: 50 }));
    const problem = compileScenario(scenario);
    if (problem.retraining.model !== "flow") throw new Error("flow expected");
    problem.retraining.lr = 1e30;
    const { n, m } = problem;
    const p = k.allocF64(n);
    const w = k.allocF64(m * n);
    const r = k.allocF64(m * n);
    k.write(r, problem.r);
    k.raw.computeWeights(r, w, n, m, problem.tau, k.allocF64(m));
    k.write(p, problem.p0);
    const rt = createRetrainer(k, problem, { wPtr: w, rewardAt: scenario.groups.map((g) => rewardEvaluator(g.reward, scenario.space)) });
    expect(() => rt.step(p, k.allocF64(n), 0)).toThrow(expect.objectContaining({ code: "NUMERIC", field: "retraining.lr" }));
  });

  it("atoms are refused: the flow model bins samples into grid cells", () => {
    const s = fast("flow-two-groups", { space: { kind: "atoms", count: 3, coords: [-1, 0, 1] } });
    expect(() => engine.run(s)).toThrow(expect.objectContaining({ code: "INVALID_SCENARIO", field: "retraining.model" }));
  });

  it("OT coupling in 2-D refuses batches over 256 (the exact assignment is cubic)", () => {
    const s = fast("flow-two-groups", { space: { kind: "grid2d", min: [-3, -3], max: [3, 3], cells: [10, 10] }, groups: [{ weight: 1, reward: { kind: "formula", expr: "-(x^2 + y^2)" } }] }, { coupling: "ot", batch: 512 });
    expect(() => engine.run(s)).toThrow(expect.objectContaining({ code: "INVALID_SCENARIO", field: "retraining.batch" }));
  });
});

describe("the learned field, for drawing", () => {
  // At t = 0, x_t is the source noise, independent of the data, so the best field is
  // E[x_1 - x_0 | x_0 = x] = E[x_1] - x: a line of slope -1 through the data's mean, which after
  // the collapse sits at the reward's centre 1.5.
  it("at t = 0 the field is close to (mean of the data) - x: slope -1 through x = 1.5 after the collapse", async () => {
    const { compileScenario, rewardEvaluator } = await import("../src/core/compile.js");
    const { createRetrainer } = await import("../src/core/retrain.js");
    const { parseScenario } = await import("../src/core/scenario.js");
    const { loadKernels } = await import("./helpers.js");
    const k = await loadKernels();
    const scenario = parseScenario(fast("flow-collapse"));
    const problem = compileScenario(scenario);
    const { n, m } = problem;
    const p = k.allocF64(n);
    const out = k.allocF64(n);
    const w = k.allocF64(m * n);
    const r = k.allocF64(m * n);
    k.write(r, problem.r);
    k.raw.computeWeights(r, w, n, m, problem.tau, k.allocF64(m));
    k.write(p, problem.p0);
    const rt = createRetrainer(k, problem, { wPtr: w, rewardAt: scenario.groups.map((g) => rewardEvaluator(g.reward, scenario.space)) });
    for (let g = 0; g < 4; g++) {
      rt.step(p, out, g);
      k.write(p, k.read(out, n));
    }
    const xs = [-1, 0, 1, 2];
    const v = rt.fieldAt!(Float64Array.from(xs), 0);
    xs.forEach((x, j) => expect(Math.abs(v[j] - (1.5 - x)), `field at x = ${x}: ${v[j]}`).toBeLessThan(0.3));
  });
});
