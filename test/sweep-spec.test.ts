// Sweep files: the documented form loads as written, cells and seeds expand deterministically, and
// every bad sweep file gets INVALID_SWEEP naming the field and the value.
import { describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { cellAt, cellSeed, MAX_CELLS, parseSweep, sweepPresetDocument, sweepPresets } from "../src/sweep/index.js";

const base = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 101 },
  initial: { kind: "uniform" },
  groups: [
    { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
    { name: "right", weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
  ],
  curation: { K: "inf", temperature: 1 },
  generations: 20,
  record: { every: 10 },
};

// The sweep file of docs/sweep.md (sweeps/q-k-distance.json), with a real base in place of its placeholder.
const issueExample = {
  base,
  axes: { "groups[0].weight": { linspace: [0.1, 0.9, 9] }, "curation.K": [2, 4, 16, "inf"] },
  zip: [{ "groups[0].reward.center": [-0.5, -1, -1.5], "groups[1].reward.center": [0.5, 1, 1.5] }],
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  replicates: 1,
  seed: 7,
  keep: { final: true },
};

function invalid(doc: unknown, field: RegExp | string, opts = {}) {
  try {
    parseSweep(doc, opts);
  } catch (e) {
    expect(isPlurisimError(e, "INVALID_SWEEP"), String(e)).toBe(true);
    const err = e as { field?: string; message: string };
    if (typeof field === "string") expect(err.field).toBe(field);
    else expect(err.field ?? "").toMatch(field);
    return err.message;
  }
  throw new Error("expected INVALID_SWEEP");
}

describe("sweep file", () => {
  it("loads the documented sweep file as written: 9 x 4 x 3 cells, zip and derived applied", () => {
    const plan = parseSweep(issueExample);
    expect(plan.total).toBe(108);
    const c = cellAt(plan, 0);
    expect(c.params).toEqual({ "groups[0].weight": 0.1, "curation.K": 2, "groups[0].reward.center": -0.5, "groups[1].reward.center": 0.5, "groups[1].weight": 0.9 });
    const last = cellAt(plan, 107);
    expect(last.params["curation.K"]).toBe("inf");
    expect(last.params["groups[0].weight"]).toBe(0.9);
    expect(last.params["groups[1].reward.center"]).toBe(1.5);
    expect((last.scenario.groups as { weight: number }[])[1].weight).toBeCloseTo(0.1, 15);
    expect(c.seed).toBe(cellSeed(7, 0));
    expect(c.scenario.seed).toBe(c.seed);
  });

  it("cell seeds: splitmix64 of (seed, cell), u32, distinct, reproducible", () => {
    expect(cellSeed(0, 0)).toBe(cellSeed(0, 0));
    const seen = new Set<number>();
    for (let c = 0; c < 1000; c++) {
      const s = cellSeed(7, c);
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
      seen.add(s);
    }
    expect(seen.size).toBe(1000);
    expect(cellSeed(7, 1)).not.toBe(cellSeed(8, 1));
    // Pinned values, checked against an independent Python splitmix64 (docs/sweep.md).
    expect([cellSeed(0, 0), cellSeed(7, 0), cellSeed(7, 1)]).toEqual([3793791033, 3168421504, 440314428]);
  });

  it("replicates are the fastest-moving dimension and get their own seeds", () => {
    const plan = parseSweep({ base, axes: { "curation.temperature": [1, 2] }, replicates: 3, seed: 1 });
    expect(plan.total).toBe(6);
    expect([0, 1, 2, 3].map((c) => cellAt(plan, c).replicate)).toEqual([0, 1, 2, 0]);
    expect(cellAt(plan, 1).params).toEqual(cellAt(plan, 0).params);
    expect(cellAt(plan, 1).seed).not.toBe(cellAt(plan, 0).seed);
  });

  it("linspace, logspace and integer ranges", () => {
    const plan = parseSweep({ base, axes: { "curation.temperature": { logspace: [-1, 1, 3] }, generations: { range: [10, 31, 10] } } });
    expect(plan.dims[0].values[0]).toEqual([0.1, 1, 10]);
    expect(plan.dims[1].values[0]).toEqual([10, 20, 30]);
  });

  it("the presets parse", () => {
    for (const name of Object.keys(sweepPresets)) expect(parseSweep(sweepPresetDocument(name)).total).toBeGreaterThan(0);
  });
});

describe("bad sweep files: INVALID_SWEEP naming the field and value", () => {
  it("an unknown parameter path", () => {
    const msg = invalid({ base, axes: { "curation.Kay": [2, 4] } }, /curation\.Kay/);
    expect(msg).toMatch(/unknown parameter path "curation.Kay"/);
    invalid({ base, axes: { "groups[5].weight": [0.5] } }, /groups\[5\]/);
    invalid({ base, axes: { "not a path!": [1] } }, /not a path/);
  });
  it("an empty axis", () => {
    expect(invalid({ base, axes: { "curation.K": [] } }, 'axes["curation.K"]')).toMatch(/empty axis/);
    invalid({ base, axes: { "curation.K": { range: [5, 5] } } }, /range/);
    invalid({ base, axes: { "curation.K": { linspace: [1, 2, 0] } } }, /linspace/);
  });
  it("a value of the wrong type", () => {
    const msg = invalid({ base, axes: { "curation.K": [2, "many"] } }, 'axes["curation.K"][1]');
    expect(msg).toMatch(/"many"/);
    invalid({ base, axes: { "curation.temperature": [1, -1] } }, 'axes["curation.temperature"][1]');
    invalid({ base, axes: { "curation.temperature": [1, Number.NaN] } }, /curation.temperature/);
  });
  it("zipped axes of different lengths", () => {
    const msg = invalid({ base, zip: [{ "groups[0].reward.center": [-1, -2], "groups[1].reward.center": [1, 2, 3] }] }, /zip\[0\]/);
    expect(msg).toMatch(/3 values but .* has 2/);
  });
  it("a grid larger than the limit without force", () => {
    const big = { base, axes: { "curation.temperature": { linspace: [1, 2, 2000] }, generations: { range: [1, 1001] } } };
    expect(invalid(big, "axes")).toMatch(new RegExp(`${MAX_CELLS}`));
    expect(parseSweep(big, { force: true }).total).toBe(2_000_000);
  });
  it("derived formulas: unknown names, syntax errors, and a path set twice", () => {
    expect(invalid({ base, axes: { "groups[0].weight": [0.2] }, derived: { "groups[1].weight": "1 - groups[0].wieght" } }, /derived/)).toMatch(/unknown name/);
    invalid({ base, axes: { "groups[0].weight": [0.2] }, derived: { "groups[1].weight": "1 - (" } }, /derived/);
    invalid({ base, axes: { "curation.K": [2] }, derived: { "curation.K": "3" } }, /derived/);
  });
  it("unknown top-level fields, bad base, bad keep", () => {
    invalid({ base, axis: {} }, "axis");
    invalid({ base: "no-such-preset" }, "base");
    invalid({ base: { ...base, curation: { K: 1 } } }, /base/);
    invalid({ base, keep: { metrics: ["basinMas"] } }, "keep.metrics[0]");
    invalid({ base, seed: -1 }, "seed");
    invalid({ base, replicates: 0 }, "replicates");
  });
});
