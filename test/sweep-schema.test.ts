// The sweep file's JSON Schema is generated from the zod validator that parseSweep runs: it
// describes every field, takes the base as a preset name or a whole scenario (the scenario
// schema inside it), and build:schema writes it beside the scenario's. Problems the validator
// finds name the field as before, whether zod or a later check finds them.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { toJson } from "../src/core/json.js";
import { scenarioJsonSchema } from "../src/core/scenario.js";
import { writeSweepSchema } from "../src/node/write-schema.js";
import { METRIC_NAMES, parseSweep, sweepJsonSchema, sweepSchema } from "../src/sweep/spec.js";
import { sweepPresetDocument, sweepPresets } from "../src/sweep/presets.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-sweep-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 41 },
  groups: [
    { weight: 0.5, reward: { kind: "quadratic", center: -1 } },
    { weight: 0.5, reward: { kind: "quadratic", center: 1 } },
  ],
  generations: 5,
};

function refusal(doc: unknown): { field?: string; message: string } {
  try {
    parseSweep(doc);
  } catch (e) {
    if (!isPlurisimError(e, "INVALID_SWEEP")) throw e;
    return { field: e.field, message: e.message };
  }
  throw new Error("expected INVALID_SWEEP");
}

describe("the sweep JSON Schema", () => {
  const schema = sweepJsonSchema() as any;

  it("is draft 2020-12 with its own $id, strict at the top, and lists every field", () => {
    expect(schema.$schema).toContain("2020-12");
    expect(schema.$id).toBe("https://plurisim.dev/schema/sweep.schema.json");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["base"]);
    expect(Object.keys(schema.properties)).toEqual(["$schema", "base", "axes", "zip", "derived", "replicates", "seed", "keep", "name", "description", "summary"]);
  });

  it("takes the base as a preset name or a scenario described by the scenario schema", () => {
    const [name, scenario] = schema.properties.base.anyOf;
    expect(name.type).toBe("string");
    const { $schema: _a, $id: _b, ...scenarioBody } = scenarioJsonSchema();
    expect(scenario).toEqual(scenarioBody);
  });

  it("describes an axis as a non-empty list or exactly one of linspace, logspace and range", () => {
    const [list, spaced] = schema.properties.axes.additionalProperties.anyOf;
    expect(list).toMatchObject({ type: "array", minItems: 1 });
    expect(spaced).toMatchObject({ type: "object", additionalProperties: false, minProperties: 1, maxProperties: 1 });
    expect(Object.keys(spaced.properties)).toEqual(["linspace", "logspace", "range"]);
    expect(spaced.properties.linspace.prefixItems).toHaveLength(3);
    expect(spaced.properties.range).toMatchObject({ type: "array", minItems: 2, maxItems: 3, items: { type: "integer" } });
  });

  it("lists the metrics keep.metrics accepts, and bounds seed, replicates and name", () => {
    expect(schema.properties.keep.properties.metrics.items.enum).toEqual([...METRIC_NAMES]);
    expect(schema.properties.seed).toMatchObject({ type: "integer", minimum: 0, maximum: 2 ** 32 - 1 });
    expect(schema.properties.replicates).toMatchObject({ type: "integer", minimum: 1 });
    expect(new RegExp(schema.properties.name.pattern).test("../x")).toBe(false);
    expect(new RegExp(schema.properties.name.pattern).test("table-5_v2.final")).toBe(true);
  });

  it("build:schema writes it as `plurisim schema` prints JSON", async () => {
    const path = await writeSweepSchema(join(dir, "sweep.schema.json"));
    expect(readFileSync(path, "utf8")).toBe(toJson(sweepJsonSchema(), 2) + "\n");
  });
});

describe("the validator behind it", () => {
  it("accepts every sweep preset", () => {
    for (const name of Object.keys(sweepPresets)) expect(sweepSchema.safeParse(sweepPresetDocument(name)).success, name).toBe(true);
  });

  it("names the field inside an axis, a zip group, keep and the name", () => {
    expect(refusal({ base, axes: { generations: { linspace: [1, "a", 3] } } })).toMatchObject({ field: 'axes["generations"].linspace[1]', message: expect.stringContaining("(stop) must be a finite number") });
    expect(refusal({ base, axes: { generations: { range: [1, 2.5] } } }).field).toBe('axes["generations"].range[1]');
    expect(refusal({ base, axes: { generations: { range: [1, 2], linspace: [1, 2, 3] } } }).field).toBe('axes["generations"]');
    expect(refusal({ base, axes: { generations: "x" } }).message).toMatch(/must be a list of values or one of \{"linspace"/);
    expect(refusal({ base, zip: [{}] })).toMatchObject({ field: "zip[0]", message: expect.stringContaining("non-empty object") });
    expect(refusal({ base, zip: [{ generations: 3 }] }).field).toBe('zip[0]["generations"]');
    expect(refusal({ base, derived: { generations: "  " } }).field).toBe('derived["generations"]');
    expect(refusal({ base, keep: { final: "yes" } })).toMatchObject({ field: "keep.final", message: 'keep.final must be true or false (got "yes")' });
    expect(refusal({ base, keep: { x: 1 } }).message).toMatch(/^keep\.x is not a known field; known fields here: final, generations/);
    expect(refusal({ base, seed: 2 ** 32 }).message).toBe("seed must be an integer in [0, 2^32) (got 4294967296)");
    expect(refusal({ base, name: "a/b" }).field).toBe("name");
  });

  it("checks what a schema cannot state after it: counts, empty ranges, keep's combinations, the base's scenario", () => {
    expect(refusal({ base, axes: { generations: { linspace: [1, 2, 0] } } }).message).toMatch(/empty axis: count is 0/);
    expect(refusal({ base, axes: { generations: { range: [1, 5, 0] } } }).field).toBe('axes["generations"].range[2]');
    expect(refusal({ base, keep: { final: false } }).field).toBe("keep");
    expect(refusal({ base: { ...base, generations: -1 } }).field).toBe("base.generations");
    // A path the scenario schema does not know is an unknown parameter path; a known one with a bad value is a bad value.
    expect(refusal({ base, axes: { "groups[0].reward.centre": [1] } }).message).toMatch(/unknown parameter path "groups\[0\]\.reward\.centre"/);
    expect(refusal({ base, axes: { "space.cells": [0] } }).message).toMatch(/value 0 is not valid here/);
  });
});
