// Sweep limits that keep validation itself bounded: a long axis is checked on a sample whose size
// does not grow with the axis, yet a value of a stray type anywhere in it is still refused up front.
import { describe, expect, test } from "vitest";
import { PlurisimError } from "../src/core/errors.js";
import { MAX_CHECKED_VALUES, parseSweep, valuesToCheck } from "../src/sweep/spec.js";

const base = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 41 },
  groups: [
    { weight: 0.5, reward: { kind: "quadratic", center: -1 } },
    { weight: 0.5, reward: { kind: "quadratic", center: 1 } },
  ],
  generations: 5,
};

describe("up-front checks of long axes", () => {
  test("a dim of a million numbers checks at most MAX_CHECKED_VALUES of them, every one of a new kind included", () => {
    const values = Array.from({ length: 1_000_000 }, (_, k) => 0.5 + k * 1e-6);
    values[500_000] = -3;
    (values as unknown[])[700_000] = "2";
    const picked = valuesToCheck({ paths: ["curation.temperature"], values: [values], length: values.length });
    expect(picked.length).toBeLessThanOrEqual(MAX_CHECKED_VALUES + 2);
    expect(picked).toContain(500_000);
    expect(picked).toContain(700_000);
    expect(picked).toContain(1);
    expect(picked).toContain(999_999);
  });

  test("short dims are checked in full", () => {
    const values = Array.from({ length: 50 }, (_, k) => k + 1);
    expect(valuesToCheck({ paths: ["generations"], values: [values], length: 50 })).toEqual(values.slice(1).map((_, i) => i + 1));
  });

  test("a stray string in the middle of a 12,000-value axis is refused, naming its index", () => {
    const values: unknown[] = Array.from({ length: 12_000 }, (_, k) => 0.5 + k * 1e-4);
    values[6_000] = "fast";
    let err: unknown;
    try {
      parseSweep({ base, axes: { "curation.temperature": values } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlurisimError);
    expect((err as PlurisimError).field).toBe('axes["curation.temperature"][6000]');
  });
});
