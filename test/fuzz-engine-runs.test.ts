// Fuzzing past the parser: mutated presets that the parser accepts are run for a few
// generations (with the Nash solver and the audit). A run either returns a result without a NaN
// anywhere, or refuses with a PlurisimError naming a field: an accepted document never crashes
// the engine or leaks NaN.
import fc from "fast-check";
import { beforeAll, describe, test } from "vitest";
import { presets, presetScenario } from "../src/core/presets.js";
import { atomCount, parseScenario, type Scenario } from "../src/core/scenario.js";
import { createEngine, type Engine } from "../src/node/index.js";
import { expectNoNaN, expectPlurisimError, FUZZ_SCALE, fuzzParams, mutate, mutation, nodes } from "./fuzz-mutate.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const NAMES = Object.keys(presets);
const small = (name: string): Record<string, unknown> => {
  const s = presetScenario(name) as Record<string, any>;
  if (s.space.kind === "grid1d") s.space.cells = Math.min(s.space.cells, 61);
  if (s.space.kind === "grid2d") s.space.cells = [Math.min(s.space.cells[0], 9), Math.min(s.space.cells[1], 9)];
  for (const g of s.groups) if (g.reward.kind === "vector" && s.space.kind !== "atoms") g.reward = { kind: "quadratic", center: 0 };
  if (s.initial?.kind === "vector" && s.space.kind !== "atoms") s.initial = { kind: "uniform" };
  s.generations = 3;
  s.record = { every: 1 };
  return s;
};
const SMALL = NAMES.map(small);

/** A run small enough to fuzz: few atoms, generations and samples (mutations can ask for 10^7). */
function affordable(s: Scenario): boolean {
  const rt = s.retraining as { model: string; samples?: number; steps?: number; emIterations?: number };
  const samples = rt.samples ?? 0;
  return atomCount(s.space) <= 5000 && s.generations <= 50 && samples <= 5000 && (rt.steps ?? 0) <= 200 && (rt.emIterations ?? 0) <= 200 && (s.record.snapshots?.length ?? 0) <= 100;
}

/** Runs `doc` if the parser accepts it and it is small; checks the outcome. Returns whether it ran. */
function runChecked(doc: unknown, what: { toString(): string }): boolean {
  let s: Scenario;
  try {
    s = parseScenario(doc);
  } catch (e) {
    expectPlurisimError(e, what);
    return false;
  }
  if (!affordable(s)) return false;
  try {
    const r = engine.run(s, { nash: true, audit: true, final: true });
    expectNoNaN({ trajectory: r.trajectory, final: r.final, nash: r.nash, audit: r.audit }, what);
  } catch (e) {
    expectPlurisimError(e, what);
  }
  return true;
}

const EXTREME = [0, -0, 1e-300, 5e-324, 1e-12, 0.999999999999, 1 - 1e-16, 1e12, 1e100, 1e300, -1e300, 2, 3, 7, 2 ** 31 - 1, 1.5, -1];

describe("engine runs of accepted mutated documents", () => {
  test("every number of a preset set to an extreme: a result without NaN, or a PlurisimError", () => {
    fc.assert(
      fc.property(fc.nat(SMALL.length - 1), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...EXTREME)), { minLength: 1, maxLength: 2 }), (k, edits) => {
        const doc = structuredClone(SMALL[k]) as Record<string, unknown>;
        for (const [at, value] of edits) {
          const leaves = nodes(doc).filter((n) => typeof n.value === "number");
          const { path } = leaves[at % leaves.length];
          let o: any = doc;
          for (const key of path.slice(0, -1)) o = o[key];
          o[path[path.length - 1]] = value;
        }
        runChecked(doc, { toString: () => `preset ${NAMES[k]} with ${JSON.stringify(edits)}` });
      }),
      fuzzParams(500),
    );
  }, 300_000 * FUZZ_SCALE);

  test("a result without NaN, or a PlurisimError naming a field", () => {
    fc.assert(
      fc.property(fc.nat(SMALL.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (k, muts) => {
        runChecked(mutate(SMALL[k], muts), { toString: () => `preset ${NAMES[k]} with ${JSON.stringify(muts).slice(0, 400)}` });
      }),
      fuzzParams(300),
    );
  }, 300_000 * FUZZ_SCALE);
});
