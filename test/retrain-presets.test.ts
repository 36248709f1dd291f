// Finite-sample retraining through the public engine API: the issue-3 presets show what they
// claim, and the same seed gives bit-identical numbers run twice and on another thread.
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { presetScenario } from "../src/core/presets.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const bytesOf = (p: number[]) => Buffer.from(Float64Array.from(p).buffer).toString("hex");

describe("drift presets (5 replicates each)", () => {
  it("small N loses the minority basin for good where the exact dynamics keep it", () => {
    const sampled = engine.runReplicates(presetScenario("drift-loses-basin"), 5);
    expect(sampled.basinSurvival).toEqual([1, 0]);
    const exact = presetScenario("drift-loses-basin");
    exact.retraining = { model: "exact" };
    const kept = engine.run(exact).final.basinMass[1];
    expect(kept).toBeGreaterThan(0.06);
  });

  it("real data or smoothing keeps both basins", () => {
    for (const name of ["drift-real-data", "drift-smoothing"]) {
      const r = engine.runReplicates(presetScenario(name), 5);
      expect(r.basinSurvival, name).toEqual([1, 1]);
      expect((r.mean.basinMass as number[])[1], name).toBeGreaterThan(0.03);
    }
  });

  it("histogram retraining on one reward collapses onto the reward's best outputs", () => {
    const r = engine.run(presetScenario("histogram-collapse"));
    expect(r.final.basinMass[0]).toBeGreaterThan(0.999);
    expect(r.final.supportSize!).toBeLessThan(10);
  });
});

describe("determinism", () => {
  it("the same seed gives bit-identical results twice, another seed differs", () => {
    for (const name of ["drift-real-data", "histogram-collapse"]) {
      const a = engine.run(presetScenario(name), { final: true }).final.p!;
      const b = engine.run(presetScenario(name), { final: true }).final.p!;
      expect(bytesOf(a), name).toBe(bytesOf(b));
      const other = presetScenario(name);
      other.seed = 99;
      expect(bytesOf(engine.run(other, { final: true }).final.p!), name).not.toBe(bytesOf(a));
    }
  });

  it("a worker thread gives the same bytes as the main thread (compiled engine in dist/)", async () => {
    const entry = new URL("../dist/src/node/index.js", import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      import(workerData.entry).then(async ({ createEngine, presetScenario }) => {
        const engine = await createEngine();
        const out = workerData.names.map((n) => engine.run(presetScenario(n), { final: true }).final.p);
        parentPort.postMessage(out);
      });`;
    const names = ["gmm-2d", "drift-smoothing", "mixing-per-generation"];
    const fromWorker: number[][] = await new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { entry, names } });
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    names.forEach((name, k) => {
      const here = engine.run(presetScenario(name), { final: true }).final.p!;
      expect(bytesOf(fromWorker[k]), name).toBe(bytesOf(here));
    });
  });
});
