// The K = infinity step for m <= 8 writes p_{t+1} over p_t wherever p_t is not needed after the
// step (between recorded generations, in the module's stretches and in the engine's own loop).
// It must keep every bit: each case's SHA-256 below was computed by the engine that still
// alternated two buffers. The cases cover 1, 2, 3, 5 and 8 groups (and 9, whose kernel builds
// its multiplier in the output and keeps two buffers), real data mixed in, per-generation mixing
// (the engine's loop) and per-sample (the module), zero blocks dying mid-run and switched off,
// snapshots, and grids of one and of several 65,536-atom chunks.
import { beforeAll, describe, expect, it } from "vitest";
import { createEngine, parseScenario, type Engine } from "../src/node/index.js";
import { runDigest } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const wells = (m: number, cells: number, extra: Record<string, unknown> = {}) => ({
  space: { kind: "grid1d", min: -20, max: 20, cells },
  initial: { kind: "gaussian", mean: 0.3, sd: 5 },
  groups: Array.from({ length: m }, (_, i) => ({ weight: (i + 1) / ((m * (m + 1)) / 2), reward: { kind: "quadratic", center: m === 1 ? 0.5 : -2 + (4 * i) / (m - 1), scale: 1.2 } })),
  curation: { K: "inf", temperature: 1 },
  generations: 40,
  record: { every: 9, snapshots: [5, 22] },
  ...extra,
});

const cases: [string, Record<string, unknown>, boolean, string][] = [
  ["one group", wells(1, 3001), true, "7dbded805c14c925e6d5dd3df43367543971771f735673c0040a1bd56a166d08"],
  ["two groups, real data mixed in", wells(2, 4001, { realData: { fraction: 0.15 } }), true, "60c7d9407a3ebc4e04ea7921f8814e92afa4976fe3f1733db6f92c5f517a0c07"],
  ["three groups on three chunks, zero blocks dying", wells(3, 2 * 65536 + 3001), true, "78d9044bca79b40f1e1064d9f6c6e499f1790f21d8c037b305a6cc8e2cbfdf47"],
  ["the same, zero blocks off", wells(3, 2 * 65536 + 3001), false, "78d9044bca79b40f1e1064d9f6c6e499f1790f21d8c037b305a6cc8e2cbfdf47"],
  ["five groups, per-generation mixing (the engine's loop)", wells(5, 3001, { curation: { K: "inf", temperature: 1, mixing: "per-generation" }, seed: 7 }), true, "1e16e4125ef109f5fc28cca9559cae45d50b771ac309f08a0d0c20ebfd5d6d90"],
  ["eight groups, real data", wells(8, 5001, { realData: { fraction: 0.05 } }), true, "c17bccec852f2ae9d06691e2cea3f02723c0783a10994097bf913ce3d2b779ff"],
  ["nine groups (two buffers)", wells(9, 3001), true, "3e974e7da357e147ab5612223ba149d4cec2cc204ce611c66836c38f4febacd2"],
];

describe("K = infinity steps written over p keep every bit", () => {
  for (const [name, scenario, zeroBlocks, expected] of cases) {
    it(name, () => {
      const s = parseScenario(scenario);
      const result = engine.run(s, { final: true, zeroBlocks });
      expect(result.trajectory.map((x) => x.generation)).toEqual([0, 9, 18, 27, 36, 40]);
      expect(runDigest(result)).toBe(expected);
      // Not vacuous: without real data, atoms far from the wells underflowed to 0 (whole zero
      // blocks on the large grid); real data keeps every atom alive.
      const zeros = result.final.p!.filter((v) => v === 0).length;
      if (s.realData.fraction > 0) expect(zeros, name).toBe(0);
      else expect(zeros, name).toBeGreaterThan(s.space.kind === "grid1d" && s.space.cells > 65536 ? 4096 : 0);
    });
  }
});
