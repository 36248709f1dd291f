// Compile once per scenario, solve once per run: replicates compile their scenario once (they
// differ only in the seed), a Web Worker's run compiles once for its geometry and its run, and
// `run --nash --audit` solves the Nash problem once for both. compileScenario and solveNash are
// wrapped with counters; the numbers are the same as without the sharing.
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { replicateSeed } from "../src/core/replicates.js";
import { createEngine, type Engine } from "../src/node/index.js";
import type { FromWorker } from "../src/web/protocol.js";
import { runScenarioMessage } from "../src/web/worker-run.js";

const calls = vi.hoisted(() => ({ compileScenario: 0, solveNash: 0 }));

vi.mock("../src/core/compile.js", async (importOriginal) => {
  const mod = await importOriginal<typeof import("../src/core/compile.js")>();
  return {
    ...mod,
    compileScenario: (...args: Parameters<typeof mod.compileScenario>) => {
      calls.compileScenario++;
      return mod.compileScenario(...args);
    },
  };
});

vi.mock("../src/core/nash.js", async (importOriginal) => {
  const mod = await importOriginal<typeof import("../src/core/nash.js")>();
  return {
    ...mod,
    solveNash: (...args: Parameters<typeof mod.solveNash>) => {
      calls.solveNash++;
      return mod.solveNash(...args);
    },
  };
});

const twoGroups = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 201 },
  groups: [
    { name: "left", weight: 0.4, reward: { kind: "quadratic", center: -2, scale: 1 } },
    { name: "right", weight: 0.6, reward: { kind: "quadratic", center: 2, scale: 1 } },
  ],
  generations: 30,
  record: { every: 10 },
  seed: 3,
};
const histogram = { ...twoGroups, retraining: { model: "histogram", samples: 300 } };

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});
beforeEach(() => {
  calls.compileScenario = 0;
  calls.solveNash = 0;
});

describe("replicates", () => {
  it("compile the scenario once for R seeds, with each replicate's numbers those of a run with its seed", () => {
    const res = engine.runReplicates(histogram, 4);
    expect(calls.compileScenario).toBe(1);
    res.seeds.forEach((seed, r) => {
      expect(seed).toBe(replicateSeed(3, r));
      const alone = engine.run({ ...histogram, seed });
      expect(res.finals[r], `replicate ${r}`).toEqual(alone.final);
    });
    // The seeds matter: a finite-sample run differs from one replicate to the next.
    expect(res.finals[1].basinMass).not.toEqual(res.finals[0].basinMass);
  });
});

describe("the Web Worker's run message", () => {
  it("parses and compiles the scenario once for the frames' geometry and the run", async () => {
    const posted: FromWorker[] = [];
    await runScenarioMessage(engine, { type: "run", id: 7, scenario: twoGroups, options: { nash: true } }, (m) => posted.push(m));
    expect(calls.compileScenario).toBe(1);
    const result = posted.find((m) => m.type === "result");
    if (result?.type !== "result") throw new Error(`no result posted: ${posted.map((m) => m.type).join(", ")}`);
    expect(result.geometry.n).toBe(201);
    expect(result.p0).toHaveLength(201);
    const direct = engine.run(twoGroups, { nash: true });
    expect(result.result.final).toEqual(direct.final);
    expect(result.result.nash).toEqual(direct.nash);
  });
});

describe("run with nash and audit", () => {
  it("solves the Nash problem once and the audit reads that solution", () => {
    const both = engine.run(twoGroups, { nash: true, audit: true });
    expect(calls.solveNash).toBe(1);
    const nash = both.nash!;
    const audit = both.audit!;
    expect(audit.nash).toBeDefined();
    expect(audit.nash!.gap).toBe(nash.gap);
    expect(audit.nash!.outsideMass).toBeCloseTo(nash.outsideMass, 14);
    // The audit on its own solves it itself, to the same numbers.
    calls.solveNash = 0;
    const alone = engine.run(twoGroups, { audit: true });
    expect(calls.solveNash).toBe(1);
    expect(alone.audit!.nash).toEqual(audit.nash);
  });
});
