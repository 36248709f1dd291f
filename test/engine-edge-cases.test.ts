// Edge cases found in review: each one used to give a silently wrong number or a stack trace.
import { beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

/** The PlurisimError `fn` throws (failing the test when it throws anything else or nothing). */
function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isPlurisimError(e)) return e;
    throw e;
  }
  throw new Error("expected a PlurisimError");
}

const wells = (K: number | "inf", extra: Record<string, unknown> = {}) => ({
  space: { kind: "grid1d", min: -3, max: 3, cells: 60 },
  groups: [
    { weight: 0.5, reward: { kind: "quadratic", center: -2 } },
    { weight: 0.5, reward: { kind: "quadratic", center: 2 } },
  ],
  curation: { K },
  generations: 2,
  ...extra,
});

describe("limits of the 32-bit kernels", () => {
  it("K beyond 2^31 - 1 is refused (it used to wrap to a small K)", () => {
    const e = refusal(() => engine.run(wells(2 ** 32 + 2)));
    expect(e.code).toBe("INVALID_SCENARIO");
    expect(e.field).toBe("curation.K");
    expect(e.message).toContain("4294967298");
  });

  it("K = 2^31 - 1 runs, and lies between K = 2^20 and K = infinity", () => {
    const p = (K: number | "inf") => engine.run(wells(K), { final: true }).final.p!;
    const [big, bigger, inf] = [p(2 ** 20), p(2 ** 31 - 1), p("inf")];
    const l1 = (a: number[], b: number[]) => a.reduce((s, v, x) => s + Math.abs(v - b[x]), 0);
    expect(l1(bigger, inf)).toBeLessThan(l1(big, inf));
  });

  it("seeds of 2^32 and more are refused (they used to alias seed mod 2^32)", () => {
    const e = refusal(() => engine.run(wells("inf", { seed: 2 ** 32 + 1 })));
    expect(e.field).toBe("seed");
  });

  it("a run whose Wasm memory would pass 4 GiB is a MEMORY_LIMIT error, not a crash in the Wasm", () => {
    const e = refusal(() =>
      engine.run({
        space: { kind: "grid2d", min: [0, 0], max: [1, 1], cells: [4, 4] },
        groups: [{ weight: 1, reward: { kind: "formula", expr: "-(x - 0.5)^2 - (y - 0.5)^2" } }],
        curation: { K: 2 ** 27 },
        generations: 1,
        retraining: { model: "kde", bandwidth: 0.1, samples: 1 },
      }),
    );
    expect(e.code).toBe("MEMORY_LIMIT");
  });
});

describe("weights that underflow", () => {
  it("exact finite K refuses a step that loses mass to 0/0 (it used to renormalise it away)", () => {
    // Atoms 2 and 3 have weights e^-800 and e^-900: 0 in f64. Two candidates drawn there (mass
    // 1/2, so probability 1/4) make Luce's rule 0/0; the step would lose a quarter of the mass.
    const e = refusal(() =>
      engine.run({
        space: { kind: "atoms", count: 4 },
        groups: [{ weight: 1, reward: { kind: "vector", values: [0, -1, -800, -900] } }],
        curation: { K: 2 },
        generations: 1,
      }),
    );
    expect(e.code).toBe("REWARD_UNDERFLOW");
    expect(e.message).toContain("0.25");
  });

  it("a finite-sample model that drifts off a steep basin reports the loss instead of aborting", () => {
    // Wells at -6 and +6 of curvature 10: far from its basin a group's weights underflow, so
    // once the histogram has no atom near +6 the minority's Z is 0.
    for (const K of [4, "inf"] as const) {
      const s = {
        space: { kind: "grid1d", min: -12, max: 12, cells: 241 },
        groups: [
          { weight: 0.93, reward: { kind: "quadratic", center: -6, scale: 10 } },
          { weight: 0.07, reward: { kind: "quadratic", center: 6, scale: 10 } },
        ],
        curation: { K },
        generations: 400,
        record: { every: 400 },
        retraining: { model: "histogram", samples: 50 },
        seed: 1,
      };
      const r = engine.run(s);
      expect(r.final.lostBasins, `K ${K}`).toBe(1);
      expect(r.final.basinMass[1]).toBe(0);
      expect(r.final.logPartition[1]).toBe(-Infinity);
      expect(r.final.nashGap).toBe(Infinity);
      expect(engine.runReplicates(s, 3).basinSurvival[1], `K ${K}`).toBe(0);
    }
  });
});

describe("finite-sample models off the atoms", () => {
  it("a reward that is finite on the atoms but NaN between them is refused when a candidate lands there", () => {
    // Cell centres are 0.05, 0.15, ...: log(x - 0.04) is finite there and NaN on [0, 0.04).
    const e = refusal(() =>
      engine.run({
        space: { kind: "grid1d", min: 0, max: 1, cells: 10 },
        groups: [{ weight: 1, reward: { kind: "formula", expr: "log(x - 0.04)" } }],
        curation: { K: 8 },
        generations: 5,
        retraining: { model: "kde", bandwidth: 0.05, samples: 2000 },
        seed: 3,
      }),
    );
    expect(e.code).toBe("REWARD_NOT_FINITE");
    expect(e.field).toBe("groups[0].reward");
  });

  it("a fitted density loses a basin when it holds less than half a sample's worth, 1/(2N)", () => {
    // One Gaussian component cannot hold two separated modes: it sits on the majority's.
    const r = engine.run({
      space: { kind: "grid1d", min: -6, max: 6, cells: 121 },
      groups: [
        { weight: 0.9, reward: { kind: "quadratic", center: -3 } },
        { weight: 0.1, reward: { kind: "quadratic", center: 3 } },
      ],
      curation: { K: 16 },
      generations: 60,
      record: { every: 60 },
      retraining: { model: "gmm", components: 1, samples: 200 },
    });
    expect(r.final.basinMass[1]).toBeLessThan(1 / 400);
    expect(r.final.basinMass[1]).toBeGreaterThan(0);
    expect(r.final.lostBasins).toBe(1);
  });
});
