import { describe, expect, test } from "vitest";
import { PlurisimError, formatValue } from "../src/core/errors.js";
import { parseScenario, parseScenarioJson, scenarioJsonSchema } from "../src/core/scenario.js";
import { compileScenario } from "../src/core/compile.js";

// The scenario document shown in the README and docs/scenario.md, exactly as written there.
const EXAMPLE = `{ "space": { "kind": "grid1d", "min": -12, "max": 12, "cells": 3001 },
  "initial": { "kind": "uniform" },
  "groups": [
    { "name": "left",  "weight": 0.3, "reward": { "kind": "formula", "expr": "-(x + 2)^2" } },
    { "name": "right", "weight": 0.7, "reward": { "kind": "quadratic", "center": 2, "scale": 1 } } ],
  "curation": { "K": "inf", "temperature": 1, "mixing": "per-sample" },
  "realData": { "fraction": 0 },
  "generations": 400, "record": { "every": 10 }, "basinEpsilon": 0.1, "seed": 1 }`;

const base = () => JSON.parse(EXAMPLE) as Record<string, any>;

/** Parses (and compiles) `input`, expecting a PlurisimError with this code and field whose message shows `shown`. */
function expectError(input: unknown, code: string, field: string | undefined, shown?: string): PlurisimError {
  let err: unknown;
  try {
    compileScenario(parseScenario(input));
  } catch (e) {
    err = e;
  }
  expect(err, "expected an error").toBeInstanceOf(PlurisimError);
  const e = err as PlurisimError;
  expect({ code: e.code, field: e.field }).toEqual({ code, field });
  if (field) expect(e.message).toContain(field);
  if (shown !== undefined) expect(e.message).toContain(shown);
  return e;
}

describe("the README's example document", () => {
  test("loads as written, with defaults filled in", () => {
    const s = parseScenarioJson(EXAMPLE);
    expect(s.groups.map((g) => g.name)).toEqual(["left", "right"]);
    expect(s.curation).toEqual({ K: "inf", temperature: 1, mixing: "per-sample" });
    expect(s.retraining).toEqual({ model: "exact" });
    expect(s.normalize).toBe(false);
    expect(s.record.every).toBe(10);
    const p = compileScenario(s);
    expect(p.n).toBe(3001);
    expect(p.m).toBe(2);
    expect(p.K).toBe(Infinity);
    expect(Array.from(p.q)).toEqual([0.3, 0.7]);
    expect(p.generations).toBe(400);
    expect(p.seed).toBe(1);
    expect(p.earlyStopTolerance).toBeNull();
    expect(p.snapshots).toEqual([]);
  });

  test("a minimal document gets every default", () => {
    const s = parseScenario({ space: { kind: "atoms", count: 3 }, groups: [{ weight: 1, reward: { kind: "vector", values: [0, 1, 2] } }] });
    expect(s.initial).toEqual({ kind: "uniform" });
    expect(s.groups[0].name).toBe("g0");
    expect(s.curation).toEqual({ K: "inf", temperature: 1, mixing: "per-sample" });
    expect(s.realData.fraction).toBe(0);
    expect(s.generations).toBe(100);
    expect(s.record.every).toBe(1);
    expect(s.basinEpsilon).toBe(0.1);
    expect(s.seed).toBe(0);
    expect(s.retraining).toEqual({ model: "exact" });
  });

  test("does not mutate its input, and accepts typed arrays from the API", () => {
    const input = { space: { kind: "atoms", count: 3 }, normalize: true, groups: [{ weight: 2, reward: { kind: "vector", values: new Float64Array([0, 1, 2]) } }] };
    const s = parseScenario(input);
    expect(input.groups[0].weight).toBe(2);
    expect(s.groups[0].weight).toBe(1);
    expect(s.groups[0].reward).toEqual({ kind: "vector", values: [0, 1, 2] });
  });
});

describe("bad input names the field and shows the value", () => {
  test("NaN and infinite numbers anywhere", () => {
    const a = base();
    a.space.min = NaN;
    expectError(a, "INVALID_SCENARIO", "space.min", "(got NaN)");
    const b = base();
    b.groups[1].reward.center = Infinity;
    expectError(b, "INVALID_SCENARIO", "groups[1].reward.center", "(got Infinity)");
    const c = base();
    c.curation.K = Infinity;
    expectError(c, "INVALID_SCENARIO", "curation.K", '"inf"');
    const d = base();
    d.initial = { kind: "vector", values: new Array(3001).fill(1 / 3001) };
    d.initial.values[7] = -Infinity;
    expectError(d, "INVALID_SCENARIO", "initial.values[7]", "-Infinity");
  });

  test("negative masses", () => {
    const a = base();
    a.initial = { kind: "vector", values: new Array(3001).fill(0) };
    a.initial.values[0] = 1.5;
    a.initial.values[5] = -0.5;
    expectError(a, "INVALID_SCENARIO", "initial.values[5]", "-0.5");
    const b = base();
    b.realData.distribution = { kind: "mixture", weights: [1.5, -0.5], means: [0, 1], sds: [1, 1] };
    expectError(b, "INVALID_SCENARIO", "realData.distribution.weights[1]", "-0.5");
  });

  test("masses and weights that do not sum to 1, and the same accepted with normalize", () => {
    const a = base();
    a.groups[1].weight = 0.6;
    const e = expectError(a, "INVALID_SCENARIO", "groups[].weight", "[0.3, 0.6]");
    expect(e.message).toContain("0.9");
    a.normalize = true;
    const s = parseScenario(a);
    expect(s.groups[0].weight + s.groups[1].weight).toBeCloseTo(1, 15);
    expect(s.groups[0].weight).toBeCloseTo(1 / 3, 15);

    const b = base();
    b.initial = { kind: "vector", values: new Array(3001).fill(1) };
    expectError(b, "INVALID_SCENARIO", "initial.values", "3001 entries");
    b.normalize = true;
    const p = compileScenario(parseScenario(b));
    expect(p.p0[0]).toBeCloseTo(1 / 3001, 15);

    const c = base();
    c.initial = { kind: "mixture", weights: [0.5, 0.4], means: [-2, 2], sds: [1, 1] };
    expectError(c, "INVALID_SCENARIO", "initial.weights", "[0.5, 0.4]");
    // Within 1e-9 of 1 is accepted as is.
    c.initial.weights = [0.5, 0.5 + 5e-10];
    expect(() => parseScenario(c)).not.toThrow();
  });

  test("K < 2 and non-integer K", () => {
    for (const K of [1, 0, -3, 2.5, "infinity", "2"]) {
      const a = base();
      a.curation.K = K;
      expectError(a, "INVALID_SCENARIO", "curation.K", `(got ${formatValue(K)})`);
    }
    const ok = base();
    ok.curation.K = 2;
    expect(compileScenario(parseScenario(ok)).K).toBe(2);
  });

  test("tau <= 0", () => {
    for (const t of [0, -1]) {
      const a = base();
      a.curation.temperature = t;
      const e = expectError(a, "INVALID_SCENARIO", "curation.temperature", `(got ${t})`);
      expect(e.message).toBe(`curation.temperature must be > 0 (got ${t})`);
      expect(e.value).toBe(t);
    }
  });

  test("lambda outside [0, 1)", () => {
    for (const f of [1, -0.1, 1.5]) {
      const a = base();
      a.realData.fraction = f;
      expectError(a, "INVALID_SCENARIO", "realData.fraction", `(got ${f})`);
    }
  });

  test("unknown fields (strict objects) and unknown kinds", () => {
    const a = base();
    a.curation.temprature = 2;
    const e = expectError(a, "INVALID_SCENARIO", "curation.temprature", "(got 2)");
    expect(e.message).toContain("temperature");
    const b = base();
    b.generation = 5;
    expectError(b, "INVALID_SCENARIO", "generation", "(got 5)");
    const c = base();
    c.groups[0].reward.exp = "x";
    expectError(c, "INVALID_SCENARIO", "groups[0].reward.exp");
    const d = base();
    d.groups[1].reward.kind = "cubic";
    expectError(d, "INVALID_SCENARIO", "groups[1].reward.kind", '"cubic"');
    const f = base();
    f.space.kind = "grid3d";
    expectError(f, "INVALID_SCENARIO", "space.kind", '"grid3d"');
    const g = base();
    g.curation.mixing = "per-batch";
    expectError(g, "INVALID_SCENARIO", "curation.mixing", '"per-batch"');
  });

  test("vector whose length is not the atom count", () => {
    const a = base();
    a.groups[1].reward = { kind: "vector", values: new Array(10).fill(0) };
    const e = expectError(a, "INVALID_SCENARIO", "groups[1].reward.values");
    expect(e.message).toContain("groups[1].reward.values has 10 entries but the space has 3001 atoms");
    const b = base();
    b.realData.distribution = { kind: "vector", values: [1] };
    expectError(b, "INVALID_SCENARIO", "realData.distribution.values", "1 entries");
  });

  test("formula syntax error and unknown name", () => {
    const a = base();
    a.groups[0].reward.expr = "-(x + 2^2";
    const e = expectError(a, "FORMULA_SYNTAX", "groups[0].reward.expr", '"-(x + 2^2"');
    expect(e.message).toContain("column 10");
    expect(e.message).toContain("^");
    const b = base();
    b.groups[0].reward.expr = "-(z + 2)^2";
    const e2 = expectError(b, "FORMULA_UNKNOWN_NAME", "groups[0].reward.expr", '"z"');
    expect(e2.message).toContain("valid names: x, pi, e");
    const c = base();
    c.groups[0].reward.expr = "-(x + y)^2";
    const e3 = expectError(c, "FORMULA_UNKNOWN_NAME", "groups[0].reward.expr", '"y"');
    expect(e3.message).toContain("2-D");
    const d = base();
    d.groups[0].reward.expr = "exp(x, 2)";
    expectError(d, "FORMULA_ARITY", "groups[0].reward.expr", "exp() takes 1 argument, got 2");
  });

  test("rewards that are not finite on an atom name the group and the coordinate", () => {
    const a = base();
    a.groups[0].reward.expr = "log(x)";
    const e = expectError(a, "REWARD_NOT_FINITE", "groups[0].reward", "NaN");
    expect(e.message).toContain("x = -11.996");
    expect(e.message).toContain('"left"');
  });

  test("rewards so steep that all weights but one underflow", () => {
    const a = base();
    // Centre off the symmetric pair of atoms around 2, so one atom alone is nearest.
    a.groups[1].reward.center = 2.001;
    a.curation.temperature = 1e-9;
    const e = expectError(a, "REWARD_UNDERFLOW", "groups[0].reward");
    expect(e.message).toContain("temperature");
    // A steep but representable landscape is fine.
    a.curation.temperature = 0.05;
    expect(() => compileScenario(parseScenario(a))).not.toThrow();
  });

  test("scenario over the memory limit names the sizes", () => {
    const a = base();
    a.space = { kind: "grid2d", min: [0, 0], max: [1, 1], cells: [20000, 20000] };
    a.groups[0].reward = { kind: "quadratic", center: [0, 0] };
    a.groups[1].reward = { kind: "quadratic", center: [1, 1] };
    const e = expectError(a, "MEMORY_LIMIT", "space", "400000000 atoms");
    expect(e.message).toContain("GiB");
    const b = base();
    b.groups = Array.from({ length: 256 }, (_, i) => ({ weight: 1 / 256, reward: { kind: "linear", slope: i } }));
    b.space.cells = 2_000_000;
    expectError(b, "MEMORY_LIMIT", "space", "256 groups");
  });

  test("group count", () => {
    const a = base();
    a.groups = [];
    expectError(a, "INVALID_SCENARIO", "groups", "(got [])");
    const b = base();
    b.groups = Array.from({ length: 257 }, () => ({ weight: 1 / 257, reward: { kind: "linear", slope: 1 } }));
    expectError(b, "INVALID_SCENARIO", "groups", "257 entries");
    const c = base();
    c.groups = Array.from({ length: 64 }, (_, i) => ({ weight: 1 / 64, reward: { kind: "quadratic", center: -6 + (12 * i) / 63 } }));
    const p = compileScenario(parseScenario(c));
    expect(p.m).toBe(64);
    expect(p.groupNames[63]).toBe("g63");
  });

  test("other static checks", () => {
    const a = base();
    a.groups[1].weight = 0;
    expectError(a, "INVALID_SCENARIO", "groups[1].weight", "(got 0)");
    const b = base();
    b.space.max = -12;
    expectError(b, "INVALID_SCENARIO", "space.max", "(got -12)");
    const c = base();
    c.space.cells = 10.5;
    expectError(c, "INVALID_SCENARIO", "space.cells", "(got 10.5)");
    const d = base();
    d.groups[1].name = "left";
    expectError(d, "INVALID_SCENARIO", "groups[1].name", '"left"');
    const e = base();
    e.record.snapshots = [0, 500];
    expectError(e, "INVALID_SCENARIO", "record.snapshots[1]", "(got 500)");
    const f = base();
    f.groups[1].reward.center = [1, 2];
    expectError(f, "INVALID_SCENARIO", "groups[1].reward.center", "[1, 2]");
    const g = base();
    delete g.space;
    expectError(g, "INVALID_SCENARIO", "space", "is required");
    const h = base();
    h.seed = -1;
    expectError(h, "INVALID_SCENARIO", "seed", "(got -1)");
    const i = base();
    i.initial = { kind: "gaussian", mean: 0 };
    expectError(i, "INVALID_SCENARIO", "initial.sd", "required");
    const j = base();
    j.earlyStop = { tolerance: 0 };
    expectError(j, "INVALID_SCENARIO", "earlyStop.tolerance", "(got 0)");
    expect(() => parseScenarioJson("{ not json")).toThrow(PlurisimError);
    expectError([1, 2], "INVALID_SCENARIO", "scenario");
    const k = { space: { kind: "atoms", count: 2 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }] };
    expectError(k, "INVALID_SCENARIO", "groups[0].reward.kind", "coordinates");
  });
});

describe("retraining section", () => {
  const withRetraining = (retraining: unknown, patch: (s: Record<string, any>) => void = () => {}) => {
    const s = base();
    s.retraining = retraining;
    patch(s);
    return s;
  };

  test("valid sections load with their defaults", () => {
    expect(parseScenario(withRetraining({ model: "histogram", samples: 1000 })).retraining).toEqual({ model: "histogram", samples: 1000, smoothing: 0 });
    const p = compileScenario(parseScenario(withRetraining({ model: "gmm", samples: 500, components: 2 })));
    expect(p.retraining).toEqual({ model: "gmm", samples: 500, components: 2, emIterations: 50, varianceFloor: 1e-6 * 24 * 24 });
    expect(compileScenario(parseScenario(withRetraining({ model: "kde", samples: 10, bandwidth: 0.5 }))).retraining).toEqual({ model: "kde", samples: 10, bandwidth: 0.5 });
  });

  test("N < 1 and non-integer N", () => {
    for (const N of [0, -5, 2.5]) {
      expectError(withRetraining({ model: "histogram", samples: N }), "INVALID_SCENARIO", "retraining.samples", `(got ${N})`);
    }
  });

  test("C < 1", () => {
    expectError(withRetraining({ model: "gmm", samples: 100, components: 0 }), "INVALID_SCENARIO", "retraining.components", "(got 0)");
  });

  test("h <= 0", () => {
    for (const h of [0, -1]) expectError(withRetraining({ model: "kde", samples: 100, bandwidth: h }), "INVALID_SCENARIO", "retraining.bandwidth", `(got ${h})`);
  });

  test("negative smoothing, unknown model and unknown keys", () => {
    expectError(withRetraining({ model: "histogram", samples: 10, smoothing: -1 }), "INVALID_SCENARIO", "retraining.smoothing", "(got -1)");
    expectError(withRetraining({ model: "vae", samples: 10 }), "INVALID_SCENARIO", "retraining.model", '"vae"');
    expectError(withRetraining({ model: "kde", samples: 10, bandwidth: 1, bandwith: 1 }), "INVALID_SCENARIO", "retraining.bandwith");
  });

  test("N x K too large", () => {
    const e = expectError(withRetraining({ model: "histogram", samples: 1_000_000 }, (s) => (s.curation.K = 1024)), "MEMORY_LIMIT", "retraining.samples");
    expect(e.message).toContain("1000000 x 1024");
    expect(() => parseScenario(withRetraining({ model: "histogram", samples: 100_000 }, (s) => (s.curation.K = 1024)))).not.toThrow();
  });

  test("gmm and kde need a grid", () => {
    const s = { space: { kind: "atoms", count: 2, coords: [0, 1] }, groups: [{ weight: 1, reward: { kind: "linear", slope: 1 } }], retraining: { model: "kde", samples: 10, bandwidth: 1 } };
    expectError(s, "INVALID_SCENARIO", "retraining.model", '"kde"');
  });
});

describe("JSON Schema", () => {
  test("is generated from the validator and describes the fields", () => {
    const schema = scenarioJsonSchema() as any;
    expect(schema.$schema).toContain("2020-12");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["space", "groups"]);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["space", "initial", "groups", "curation", "realData", "generations", "record", "earlyStop", "basinEpsilon", "seed", "normalize", "retraining"]));
    expect(schema.properties.curation.properties.temperature).toMatchObject({ default: 1, exclusiveMinimum: 0 });
    const kinds = schema.properties.groups.items.properties.reward.oneOf.map((o: any) => o.properties.kind.const);
    expect(kinds).toEqual(["quadratic", "gaussian", "linear", "plateau", "box", "vector", "formula"]);
  });
});
