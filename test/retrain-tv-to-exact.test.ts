// tvToExact: how far a finite-sample model's p_t is from the exact population update's p_t.
import { beforeAll, describe, expect, it } from "vitest";
import { presetScenario } from "../src/core/presets.js";
import { isPlurisimError } from "../src/core/errors.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const histogram = (samples: number, overrides: Record<string, unknown> = {}) => {
  const s = presetScenario("drift-loses-basin");
  return { ...s, generations: 6, record: { every: 1 }, ...overrides, retraining: { ...(s.retraining as object), samples } };
};

describe("tvToExact", () => {
  it("is 0 at generation 0, in [0, 1] after, and shrinks as the sample grows", () => {
    const tvAt = (samples: number) => engine.run(histogram(samples), { tvToExact: true }).trajectory.map((m) => m.tvToExact!);
    const small = tvAt(50);
    const large = tvAt(200_000);
    expect(small[0]).toBe(0);
    expect(large[0]).toBe(0);
    for (const tv of [...small, ...large]) expect(tv >= 0 && tv <= 1).toBe(true);
    // Sampling error of a histogram of N draws on this grid: about sqrt(cells / N).
    expect(Math.max(...large.slice(1))).toBeLessThan(0.1);
    expect(Math.max(...small.slice(1))).toBeGreaterThan(Math.max(...large.slice(1)));
  });

  it("equals the TV between this run's p_t and a separate exact run's p_t", () => {
    const s = histogram(1000, { generations: 3 });
    const pOf = (scenario: unknown) => {
      const ps: Float64Array[] = [];
      engine.run(scenario, { onRecord: (_m, p) => ps.push(p()) });
      return ps;
    };
    const sampled = pOf(s);
    const exact = pOf({ ...s, retraining: { model: "exact" } });
    const r = engine.run(s, { tvToExact: true });
    r.trajectory.forEach((m, t) => {
      let d = 0;
      for (let x = 0; x < exact[t].length; x++) d += Math.abs(sampled[t][x] - exact[t][x]);
      expect(m.tvToExact).toBe(d / 2);
    });
  });

  it("is absent without the option and for the exact model, and a run too long to hold its reference is refused by name", () => {
    expect(engine.run(histogram(100)).final.tvToExact).toBeUndefined();
    expect(engine.run({ ...presetScenario("two-groups"), generations: 3 }, { tvToExact: true }).final.tvToExact).toBeUndefined();
    try {
      engine.run(histogram(100, { generations: 100_000, space: { kind: "grid1d", min: -3, max: 3, cells: 1000 } }), { tvToExact: true });
      expect.unreachable();
    } catch (e) {
      expect(isPlurisimError(e) ? [e.code, e.field] : e).toEqual(["MEMORY_LIMIT", "record.every"]);
    }
  });
});
