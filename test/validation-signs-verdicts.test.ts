// Reported signs and verdicts that must hold exactly: a variance of a constant is 0 however large
// the constant, the Nash gap is a bound and never negative, the audit's outside decay looks only
// at atoms the dynamics can reach, and replicates call a basin lost by the same rule as the run.
import { beforeAll, describe, expect, test } from "vitest";
import type { AuditCheck } from "../src/core/audit.js";
import { createEngine, type Engine } from "../src/node/index.js";

type AuditWithCheck = { check: AuditCheck };

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

describe("rewardVariance", () => {
  test("is 0 for a constant reward of 1e300 (and 1e150), not Infinity or 1e268", () => {
    for (const c of [1e300, 1e150, -1e300]) {
      const s = {
        space: { kind: "grid1d", min: -1, max: 1, cells: 3001 },
        groups: [
          { weight: 0.5, reward: { kind: "vector", values: new Array(3001).fill(c) } },
          { weight: 0.5, reward: { kind: "quadratic", center: 0 } },
        ],
        generations: 3,
      };
      const r = engine.run(s);
      for (const m of r.trajectory) {
        expect(m.rewardVariance[0]).toBe(0);
        expect(Math.abs(m.expectedReward[0] - c)).toBeLessThan(1e-12 * Math.abs(c));
      }
    }
  });

  test("is still the variance for an ordinary reward", () => {
    // Two atoms with mass 1/2 each and rewards 0 and 2: variance 1.
    const s = {
      space: { kind: "atoms", count: 2 },
      groups: [{ weight: 1, reward: { kind: "vector", values: [1e12, 1e12 + 2] } }],
      curation: { temperature: 1e6 },
      generations: 0,
    };
    expect(engine.run(s).final.rewardVariance[0]).toBeCloseTo(1, 12);
  });
});

describe("nashGap", () => {
  test("is never negative, also where rounding leaves max W(x) a hair under 1", async () => {
    const { nashGap } = await import("../src/core/nash.js");
    // With p uniform on 9 atoms and one constant reward, sum p > 1 by an ulp, so W = 1/sum p < 1.
    for (let n = 2; n <= 40; n++) {
      const p = new Float64Array(n).fill(1 / n);
      expect(nashGap(p, new Float64Array(n).fill(1), n, 1, new Float64Array([1]), p)).toBeGreaterThanOrEqual(0);
      const s = { space: { kind: "atoms", count: n }, groups: [{ weight: 1, reward: { kind: "vector", values: new Array(n).fill(3) } }], generations: 2 };
      const r = engine.run(s, { nash: true });
      expect(r.nash!.gap).toBeGreaterThanOrEqual(0);
      for (const m of r.trajectory) expect(m.nashGap).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("audit: outside decay", () => {
  // Atoms A, B (the two maxima), C (outside, 0.2 below both maxima) and D (outside, far below).
  // W(C) is about 1.6 > 1, so C would grow if it held mass; W(D) is about 0.013.
  const landscape = (p0C: number) => ({
    space: { kind: "atoms", count: 4 },
    initial: { kind: "vector", values: [0.45, 0.45, p0C, 0.1 - p0C] },
    groups: [
      { weight: 0.5, reward: { kind: "vector", values: [0, -5, -0.2, -5] } },
      { weight: 0.5, reward: { kind: "vector", values: [-5, 0, -0.2, -5] } },
    ],
    generations: 150,
  });

  test("holds when the outside mass falls to about 1e-280 and the outside atom with W > 1 is unreachable (p0 = 0)", () => {
    const r = engine.run(landscape(0), { audit: true });
    expect(r.final.outsideMass).toBeLessThan(1e-250);
    expect((r.audit as AuditWithCheck).check.held.outsideDecays).toBe(true);
  });

  test("fails when that atom is reachable: its mass grows instead", () => {
    const r = engine.run(landscape(0.01), { audit: true });
    expect(r.final.outsideMass).toBeGreaterThan(0.01);
    expect((r.audit as AuditWithCheck).check.held.outsideDecays).toBe(false);
  });
});

describe("replicates", () => {
  test("a gmm or kde basin below 1/(2N) is lost, as lostBasins says, not survived", async () => {
    const { aggregateReplicates, lostBasinThreshold } = await import("../src/core/replicates.js");
    const finals = [{ final: { basinMass: [0.999, 1e-147] } }, { final: { basinMass: [0.9, 0.1] } }];
    for (const model of ["gmm", "kde"]) {
      const { basinSurvival } = aggregateReplicates(finals, 2, lostBasinThreshold({ model, samples: 1000 }));
      expect(basinSurvival).toEqual([1, 0.5]);
    }
    // A histogram basin is lost only with no mass at all.
    expect(aggregateReplicates(finals, 2, lostBasinThreshold({ model: "histogram", samples: 1000 })).basinSurvival).toEqual([1, 1]);
  });

  test("runReplicates counts survival with the run's own lostBasins rule", () => {
    const s = {
      space: { kind: "grid1d", min: -3, max: 3, cells: 61 },
      groups: [
        { weight: 0.9, reward: { kind: "quadratic", center: -1.5, scale: 4 } },
        { weight: 0.1, reward: { kind: "quadratic", center: 1.5, scale: 4 } },
      ],
      retraining: { model: "kde", samples: 20, bandwidth: 0.3 },
      curation: { K: 4 },
      generations: 20,
      seed: 3,
    };
    const res = engine.runReplicates(s, 6);
    const lostTotal = res.finals.reduce((acc, f) => acc + (f.lostBasins ?? 0), 0);
    const lostFromSurvival = res.basinSurvival.reduce((acc, sv) => acc + (1 - sv) * 6, 0);
    expect(lostFromSurvival).toBeCloseTo(lostTotal, 9);
  });

  test("more replicates than the limit, or a non-integer count, is a PlurisimError, not a RangeError", async () => {
    const { MAX_REPLICATES } = await import("../src/core/limits.js");
    const s = { space: { kind: "atoms", count: 2 }, groups: [{ weight: 1, reward: { kind: "vector", values: [0, 1] } }], generations: 1 };
    for (const R of [1e12, MAX_REPLICATES + 1, 0, 2.5, Number.NaN]) {
      let err: unknown;
      try {
        engine.runReplicates(s, R);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ name: "PlurisimError", code: "INVALID_SCENARIO", field: "replicates" });
    }
  });
});
