// Two K = infinity generations per memory pass on large grids (m = 2): the result agrees with
// one generation per pass to 1e-13 relative, is itself deterministic, and recorded
// generations and snapshots are exact generations of the dynamics.
import { beforeAll, describe, expect, it } from "vitest";
import { TWO_STEP_MIN_ATOMS } from "../src/core/engine.js";
import { twoWells } from "../src/core/presets.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const n = TWO_STEP_MIN_ATOMS + 1; // odd: the tail atom takes the scalar path
const scenario = (extra: Record<string, unknown> = {}) =>
  twoWells([-1, 1.3], 0.35, { space: { kind: "grid1d", min: -8, max: 8, cells: n }, initial: { kind: "gaussian", mean: 0.4, sd: 3 }, generations: 61, record: { every: 20 }, ...extra });

/** Max relative difference over entries above a floor (below it both are underflow noise). */
function maxRel(a: number[], b: number[], floor = 1e-280): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(b[i]) < floor && Math.abs(a[i]) < floor) continue;
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  }
  return worst;
}

describe("two generations per memory pass", () => {
  it("agrees with one generation per pass to 1e-13 relative (final p and every recorded metric)", () => {
    const two = engine.run(scenario({ record: { every: 20, snapshots: [33] } }), { final: true });
    const one = engine.run(scenario({ record: { every: 20, snapshots: [33] } }), { final: true, twoStep: false });
    expect(maxRel(two.final.p!, one.final.p!)).toBeLessThanOrEqual(1e-13);
    expect(maxRel(two.snapshots![0].p, one.snapshots![0].p)).toBeLessThanOrEqual(1e-13);
    expect(two.trajectory.map((m) => m.generation)).toEqual([0, 20, 40, 60, 61]);
    two.trajectory.forEach((m, i) => {
      const o = one.trajectory[i];
      for (const key of ["nashWelfare", "entropy", "outsideMass", "klFromInitial", "l1Step"] as const) {
        expect(Math.abs(m[key] - o[key]) / Math.max(Math.abs(o[key]), 1e-300), `${key} at ${m.generation}`).toBeLessThanOrEqual(1e-13);
      }
      expect(maxRel(m.basinMass, o.basinMass)).toBeLessThanOrEqual(1e-13);
    });
    expect(two.maxMassDefect).toBeLessThanOrEqual(1e-13);
  });

  it("is deterministic: the same bits run after run, and the paths really differ (the test is not vacuous)", () => {
    const a = engine.run(scenario({ record: { every: 61 } }), { final: true });
    const b = engine.run(scenario({ record: { every: 61 } }), { final: true });
    expect(a.final.p!.every((v, i) => Object.is(v, b.final.p![i]))).toBe(true);
    const one = engine.run(scenario({ record: { every: 61 } }), { final: true, twoStep: false });
    expect(a.final.p!.some((v, i) => v !== one.final.p![i])).toBe(true);
  });

  it("does not apply below the size threshold, with lambda > 0, or with an early stop (same bits as one generation per pass)", () => {
    const small = twoWells([-1, 1], 0.4, { generations: 30 });
    expect(engine.run(small, { final: true }).final.p).toEqual(engine.run(small, { final: true, twoStep: false }).final.p);
    const mixed = scenario({ realData: { fraction: 0.1 } });
    expect(engine.run(mixed, { final: true }).final.p).toEqual(engine.run(mixed, { final: true, twoStep: false }).final.p);
  });
});
