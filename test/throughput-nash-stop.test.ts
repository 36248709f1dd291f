// Stop when certified: earlyStop.nashGap ends a K = infinity per-sample run at the first
// generation whose nashGap (a certified bound on F* - F(p_t)) is at most the tolerance; and
// sweeps that keep only the Nash solution of each cell run no dynamics.
import { beforeAll, describe, expect, it } from "vitest";
import { twoWells } from "../src/core/presets.js";
import { isPlurisimError } from "../src/core/errors.js";
import { parseScenario } from "../src/core/scenario.js";
import { createEngine, type Engine } from "../src/node/index.js";
import { parseSweep } from "../src/sweep/spec.js";
import { runCell } from "../src/sweep/task.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

function codeOf(f: () => unknown): { code?: string; field?: string } {
  try {
    f();
  } catch (e) {
    if (isPlurisimError(e)) return { code: e.code, field: e.field };
    throw e;
  }
  return {};
}

describe("earlyStop.nashGap", () => {
  // nashGap falls like 1 / (2t) on these wells (mass keeps concentrating inside each basin).
  const base = twoWells([-1, 1], 0.3, { generations: 1200, record: { every: 1 } });
  for (const tol of [1e-2, 2e-3, 6e-4]) {
    it(`stops at the first generation with nashGap <= ${tol}`, () => {
      const full = engine.run(base);
      const first = full.trajectory.findIndex((m) => m.generation > 0 && m.nashGap <= tol);
      expect(first).toBeGreaterThan(0);
      const stopped = engine.run({ ...base, earlyStop: { nashGap: tol } }, { trajectory: false });
      expect(stopped.stoppedEarly).toBe(true);
      expect(stopped.final.nashGap).toBeLessThanOrEqual(tol * (1 + 1e-9));
      // The stop reads Z from the update kernel, the metric from the reductions: the two gaps
      // may differ in the last bits, so the stop is the crossing up to that rounding.
      const t = stopped.generationsRun;
      expect(full.trajectory[t].nashGap).toBeLessThanOrEqual(tol * (1 + 1e-9));
      expect(full.trajectory[t - 1].nashGap).toBeGreaterThan(tol * (1 - 1e-9));
      expect(Math.abs(t - first)).toBeLessThanOrEqual(1);
      expect(stopped.final.basinMass).toEqual(full.trajectory[t].basinMass);
    });
  }

  it("with both rules, the first one met stops the run", () => {
    const r = engine.run({ ...twoWells([-1, 1], 0.3), earlyStop: { nashGap: 1e-300, tolerance: 3e-3 } });
    expect(r.stoppedEarly).toBe(true);
    expect(r.final.l1Step).toBeLessThan(3e-3);
  });

  it("is refused where nashGap certifies nothing (finite K, per-generation mixing, finite samples), and an empty earlyStop is refused", () => {
    const refused = { code: "INVALID_SCENARIO", field: "earlyStop.nashGap" };
    expect(codeOf(() => parseScenario({ ...base, curation: { K: 4, temperature: 1 }, earlyStop: { nashGap: 1e-6 } }))).toEqual(refused);
    expect(codeOf(() => parseScenario({ ...base, curation: { K: "inf", temperature: 1, mixing: "per-generation" }, earlyStop: { nashGap: 1e-6 } }))).toEqual(refused);
    expect(codeOf(() => parseScenario({ ...base, retraining: { model: "histogram", samples: 100 }, earlyStop: { nashGap: 1e-6 } }))).toEqual(refused);
    expect(codeOf(() => parseScenario({ ...base, earlyStop: {} }))).toEqual({ code: "INVALID_SCENARIO", field: "earlyStop" });
    expect(codeOf(() => parseScenario({ ...base, earlyStop: { nashGap: -1 } })).code).toBe("INVALID_SCENARIO");
  });
});

describe("sweeps that keep only the Nash solution", () => {
  const sweep = (keep: Record<string, unknown>) => ({
    name: "nash-only",
    base: twoWells([-1, 1], 0.5),
    axes: { "groups[0].weight": [0.2, 0.5, 0.8] },
    derived: { "groups[1].weight": "1 - groups[0].weight" },
    keep,
  });

  it("keep.dynamics = false: each row holds the cell's Nash solution and nothing of a run", () => {
    const plan = parseSweep(sweep({ nash: true, dynamics: false }));
    for (let c = 0; c < 3; c++) {
      const { row, trajectory } = runCell(engine, plan, c);
      if (row.status !== "ok") throw new Error(`cell ${c} failed: ${row.error}`);
      expect(row.final).toBeUndefined();
      expect(row.generationsRun).toBeUndefined();
      expect(trajectory).toBeUndefined();
      const q = [0.2, 0.5, 0.8][c];
      const direct = engine.nash({ ...twoWells([-1, 1], q), seed: row.seed });
      expect(row.nash).toEqual({ welfare: direct.welfare, gap: direct.gap, basinMass: direct.basinMass, outsideMass: direct.outsideMass });
      // The same solution a run with keep.nash reports.
      const withRun = runCell(engine, parseSweep(sweep({ nash: true })), c).row;
      expect(withRun).toMatchObject({ status: "ok", nash: row.nash });
    }
  });

  it("keep.dynamics = false needs keep.nash and refuses what needs a run", () => {
    const field = (keep: Record<string, unknown>) => codeOf(() => parseSweep(sweep(keep))).field;
    expect(field({ dynamics: false })).toBe("keep.dynamics");
    expect(field({ dynamics: false, nash: true, final: true })).toBe("keep.final");
    expect(field({ dynamics: false, nash: true, generations: [10] })).toBe("keep.generations");
    expect(field({ dynamics: false, nash: true, trajectory: true })).toBe("keep.trajectory");
  });
});
