// Hostile scenario and sweep documents: deep nesting, prototype keys, overlong strings and
// names, out-of-range coordinates. Each is refused up front with a PlurisimError naming the field,
// never a RangeError from the call stack and never silently used.
import { describe, expect, test } from "vitest";
import { PlurisimError } from "../src/core/errors.js";
import { checkJsonDocument } from "../src/core/json.js";
import { MAX_COORDINATE, MAX_JSON_DEPTH, MAX_NAME_LENGTH, MAX_STRING_LENGTH } from "../src/core/limits.js";
import { parseScenario, parseScenarioJson } from "../src/core/scenario.js";
import { parsePath, setPath } from "../src/sweep/paths.js";
import { parseSweep } from "../src/sweep/spec.js";

const scenario = () => ({
  space: { kind: "grid1d", min: -4, max: 4, cells: 41 },
  groups: [
    { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -1 } },
    { name: "right", weight: 0.5, reward: { kind: "quadratic", center: 1 } },
  ],
  generations: 5,
});

/** A value nested `levels` arrays deep: [[[...[1]...]]], built without recursion. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

function caught(f: () => unknown): PlurisimError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a PlurisimError").toBeInstanceOf(PlurisimError);
  return err as PlurisimError;
}

describe("deeply nested documents", () => {
  test("a scenario with 3000 levels anywhere is INVALID_SCENARIO naming where, not a stack overflow", () => {
    for (const place of ["extra", "initial", "groups"]) {
      const doc: Record<string, unknown> = scenario();
      if (place === "groups") (doc.groups as Record<string, unknown>[])[1].reward = { kind: "vector", values: nested(3000) };
      else doc[place] = place === "initial" ? { kind: "uniform", x: nested(3000) } : nested(3000);
      const e = caught(() => parseScenario(doc));
      expect(e.code).toBe("INVALID_SCENARIO");
      expect(e.message).toContain(`nested more than ${MAX_JSON_DEPTH} levels deep`);
      expect(e.field).toMatch(place === "groups" ? /^groups\[1\]\.reward\.values/ : new RegExp(`^${place}`));
    }
  });

  test("the same from JSON text (JSON.parse itself copes; the check comes before validation)", () => {
    const text = `{"space": {"kind": "grid1d", "min": 0, "max": 1, "cells": 3}, "groups": [{"weight": 1, "reward": ${"[".repeat(5000)}1${"]".repeat(5000)}}]}`;
    const e = caught(() => parseScenarioJson(text));
    expect(e.code).toBe("INVALID_SCENARIO");
    expect(e.field).toMatch(/^groups\[0\]\.reward/);
  });

  test("a cyclic object built in code is refused the same way", () => {
    const doc: Record<string, unknown> = scenario();
    doc.loop = doc;
    expect(caught(() => parseScenario(doc)).code).toBe("INVALID_SCENARIO");
  });

  test("nesting up to the limit passes the shape check; one more level does not", () => {
    expect(() => checkJsonDocument(nested(MAX_JSON_DEPTH), "INVALID_SCENARIO", "scenario")).not.toThrow();
    expect(() => checkJsonDocument(nested(MAX_JSON_DEPTH + 1), "INVALID_SCENARIO", "scenario")).toThrow(PlurisimError);
  });

  test("a sweep nested 3000 levels in keep, an axis value or the base is INVALID_SWEEP", () => {
    const docs = [
      { base: scenario(), axes: { generations: [1, 2] }, keep: { final: true, x: nested(3000) } },
      { base: scenario(), axes: { generations: [nested(3000)] } },
      { base: { ...scenario(), description: nested(3000) }, axes: { generations: [1, 2] } },
    ];
    for (const doc of docs) {
      const e = caught(() => parseSweep(doc));
      expect(e.code).toBe("INVALID_SWEEP");
      expect(e.message).toContain("levels deep");
    }
  });
});

describe("prototype keys", () => {
  test("__proto__ from JSON text (an own key after JSON.parse) is refused, naming the field", () => {
    const good = JSON.stringify(scenario());
    const top = `{"__proto__": {"generations": 7}, ${good.slice(1)}`;
    const e = caught(() => parseScenarioJson(top));
    expect({ code: e.code, field: e.field }).toEqual({ code: "INVALID_SCENARIO", field: "__proto__" });
    const inner = good.replace('"name":"left",', '"name":"left","__proto__":{"x":1},');
    expect(caught(() => parseScenarioJson(inner)).field).toBe("groups[0].__proto__");
  });

  test("constructor and prototype are refused as keys too", () => {
    for (const key of ["constructor", "prototype"]) {
      const doc: Record<string, any> = scenario();
      doc.curation = { [key]: { K: 2 } };
      const e = caught(() => parseScenario(doc));
      expect({ code: e.code, field: e.field }).toEqual({ code: "INVALID_SCENARIO", field: `curation.${key}` });
    }
  });

  test("a sweep axis through __proto__ is refused instead of setting nothing while rows record it", () => {
    for (const path of ["groups[0].__proto__.weight", "curation.prototype.K", "constructor"]) {
      const e = caught(() => parseSweep({ base: scenario(), axes: { [path]: [0.1, 0.2] } }));
      expect(e.code).toBe("INVALID_SWEEP");
      // A whole key "constructor" is caught by the document check, a segment by the path parser.
      expect(e.field).toBe(path === "constructor" ? "axes.constructor" : `axes[${JSON.stringify(path)}]`);
      expect(e.message).toContain("not allowed");
    }
    expect(caught(() => parseSweep({ base: scenario(), derived: { "groups[1].__proto__": "1" } })).code).toBe("INVALID_SWEEP");
  });

  test("a __proto__ key in a sweep document is refused with its path", () => {
    const text = `{"base": ${JSON.stringify(scenario())}, "axes": {"generations": [1, 2]}, "keep": {"__proto__": {"nash": true}}}`;
    const e = caught(() => parseSweep(JSON.parse(text)));
    expect({ code: e.code, field: e.field }).toEqual({ code: "INVALID_SWEEP", field: "keep.__proto__" });
  });

  test("parsePath and setPath refuse the segments themselves, and Object.prototype stays clean", () => {
    expect(() => parsePath("a.__proto__.b", "f")).toThrow(PlurisimError);
    expect(() => setPath({}, ["__proto__", "polluted"], 1, "__proto__.polluted", "f")).toThrow(PlurisimError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("bounded strings, names and coordinates", () => {
  test("a group name over the limit is refused; one at the limit is kept", () => {
    const doc: Record<string, any> = scenario();
    doc.groups[0].name = "a".repeat(MAX_NAME_LENGTH);
    expect(parseScenario(doc).groups[0].name).toHaveLength(MAX_NAME_LENGTH);
    doc.groups[0].name = "a".repeat(MAX_NAME_LENGTH + 1);
    expect(caught(() => parseScenario(doc)).field).toBe("groups[0].name");
  });

  test("any string over MAX_STRING_LENGTH is refused where it is", () => {
    const doc: Record<string, any> = scenario();
    doc.description = "x".repeat(MAX_STRING_LENGTH + 1);
    expect(caught(() => parseScenario(doc)).field).toBe("description");
  });

  test("a sweep name must be a plain file name of bounded length", () => {
    for (const name of ["../../x", "a/b", "nul\u0000byte", "esc\u001b[31m", "..", "", "n".repeat(MAX_NAME_LENGTH + 1)]) {
      const e = caught(() => parseSweep({ name, base: scenario(), axes: { generations: [1] } }));
      expect({ code: e.code, field: e.field }).toEqual({ code: "INVALID_SWEEP", field: "name" });
    }
    expect(parseSweep({ name: "table-5_v2.final", base: scenario(), axes: { generations: [1] } }).name).toBe("table-5_v2.final");
  });

  test("coordinates and Gaussian means beyond MAX_COORDINATE are refused, naming the field", () => {
    const wide: Record<string, any> = scenario();
    wide.space = { kind: "grid1d", min: -1e200, max: 1, cells: 3 };
    expect(caught(() => parseScenario(wide)).field).toBe("space.min");
    const far: Record<string, any> = scenario();
    far.initial = { kind: "gaussian", mean: -2 * MAX_COORDINATE, sd: 1 };
    expect(caught(() => parseScenario(far)).field).toBe("initial.mean");
    const atoms: Record<string, any> = scenario();
    atoms.space = { kind: "atoms", count: 2, coords: [[0, 0], [0, 1e300]] };
    atoms.groups = [{ weight: 1, reward: { kind: "vector", values: [0, 1] } }];
    expect(caught(() => parseScenario(atoms)).field).toBe("space.coords[1][1]");
  });
});
