// A flow run hands its learned velocity field to onRecord, so a page or a script can draw it.
import { beforeAll, describe, expect, it } from "vitest";
import { presetScenario } from "../src/core/presets.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const small = (overrides: Record<string, unknown> = {}) => {
  const s = presetScenario("flow-two-groups");
  return { ...s, generations: 2, ...overrides, retraining: { ...(s.retraining as object), samples: 512, hidden: [16, 16], steps: 60, batch: 64, odeSteps: 8 } };
};

describe("onRecord's field on flow runs", () => {
  it("gives finite velocities at the points asked, one per coordinate, that change as the network trains", () => {
    const xs = Float64Array.from({ length: 25 }, (_, i) => -12 + i);
    const seen: Float64Array[] = [];
    engine.run(small(), {
      onRecord: (_m, _p, field) => {
        expect(field).toBeTypeOf("function");
        const v = field!(xs, 0.5);
        expect(v.length).toBe(xs.length);
        expect(v.every(Number.isFinite)).toBe(true);
        seen.push(v);
      },
    });
    expect(seen.length).toBe(3);
    // Generations 1 and 2 come from differently trained networks.
    expect(seen[1].some((v, i) => v !== seen[2][i])).toBe(true);
  });

  it("is absent for the exact model", () => {
    let called = 0;
    engine.run({ ...presetScenario("two-groups"), generations: 2, record: { every: 1 } }, {
      onRecord: (_m, _p, field) => {
        called++;
        expect(field).toBeUndefined();
      },
    });
    expect(called).toBe(3);
  });
});
