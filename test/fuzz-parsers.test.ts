// Property-based fuzzing of the input parsers, in process: the scenario parser (objects and JSON
// text), the sweep parser and the formula parser. Documents start from the presets and are mutated
// (keys deleted, types swapped, extreme numbers, NaN-like strings, prototype keys, deep nesting,
// long strings and arrays). Whatever comes in, a parser returns a valid result or throws a
// PlurisimError with a known code naming a field: never another exception (a stack trace at the
// CLI), never NaN in a result, and never a silent acceptance of a document known to be invalid.
// About 12,000 cases here; `npm run fuzz` multiplies them (FUZZ_RUNS) with a fresh seed.
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { compileScenario } from "../src/core/compile.js";
import { formatPath, PlurisimError } from "../src/core/errors.js";
import { compileFormula, evaluateExpression, parseExpression } from "../src/core/formula.js";
import { MAX_JSON_DEPTH } from "../src/core/limits.js";
import { presets, presetScenario } from "../src/core/presets.js";
import { atomCount, parseScenario, parseScenarioJson, SUM_TOLERANCE, type Scenario } from "../src/core/scenario.js";
import { canonicalJson, cellAt, parseSweep, sweepPresetDocument, sweepPresets } from "../src/sweep/index.js";
import { createEngine } from "../src/node/index.js";
import { expectNoNaN, expectPlurisimError, FUZZ_SCALE, fuzzParams, mutate, mutation, nestDeep, nodes, type PathKey } from "./fuzz-mutate.js";

// Each test takes a few seconds in `npm test`; `npm run fuzz` multiplies the cases and the time.
const TIMEOUT = 120_000 * FUZZ_SCALE;

beforeAll(async () => {
  // Sweep axes (logspace) use the Wasm's libm: an engine installs it.
  await createEngine();
});

const PRESET_NAMES = Object.keys(presets);
// Small copies of the presets: the same structure, few atoms, so each case parses in well under a millisecond.
const small = (name: string): Record<string, unknown> => {
  const s = presetScenario(name) as Record<string, any>;
  const space = s.space;
  if (space.kind === "grid1d") space.cells = Math.min(space.cells, 61);
  if (space.kind === "grid2d") space.cells = [Math.min(space.cells[0], 9), Math.min(space.cells[1], 9)];
  for (const g of s.groups) if (g.reward.kind === "vector" && space.kind !== "atoms") g.reward = { kind: "quadratic", center: 0 };
  if (s.initial?.kind === "vector" && space.kind !== "atoms") s.initial = { kind: "uniform" };
  s.generations = Math.min(s.generations ?? 100, 20);
  return s;
};
const SMALL = PRESET_NAMES.map(small);

type What = string | { toString(): string };

function ok(cond: boolean, what: What, detail: string): void {
  if (!cond) throw new Error(`${String(what)}: ${detail}`);
}

/** Invariants of an accepted scenario: what "valid" means beyond "no exception". */
function checkAccepted(s: Scenario, what: What): void {
  expectNoNaN(s, what);
  ok(s.groups.length >= 1, what, "no groups");
  const q = s.groups.reduce((acc, g) => acc + g.weight, 0);
  ok(Math.abs(q - 1) <= SUM_TOLERANCE * 10, what, `weights sum to ${q}`);
  for (const g of s.groups) ok(g.weight > 0 && typeof g.name === "string" && g.name.length > 0, what, `group ${JSON.stringify(g).slice(0, 100)}`);
  ok(Number.isInteger(s.generations) && s.generations >= 0, what, `generations ${s.generations}`);
  ok(s.curation.K === "inf" || (Number.isInteger(s.curation.K) && s.curation.K >= 2), what, `K ${s.curation.K}`);
  ok(s.curation.temperature > 0 && Number.isFinite(s.curation.temperature), what, `tau ${s.curation.temperature}`);
  // Validation is idempotent: an accepted scenario is accepted again, unchanged.
  ok(canonicalJson(parseScenario(s)) === canonicalJson(s), what, "reparsing changes the scenario");
}

/** Parses `doc`; a PlurisimError is a fine outcome, anything else fails. Compiles small accepted ones. */
function parseOrRefuse(doc: unknown, what: What): Scenario | PlurisimError {
  let s: Scenario;
  try {
    s = parseScenario(doc);
  } catch (e) {
    return expectPlurisimError(e, what);
  }
  checkAccepted(s, what);
  if (atomCount(s.space) <= 20_000) {
    try {
      const problem = compileScenario(s);
      expectNoNaN(problem, what);
      const mass = problem.p0.reduce((a, b) => a + b, 0);
      ok(Math.abs(mass - 1) < 1e-9, what, `p0 sums to ${mass}`);
    } catch (e) {
      expectPlurisimError(e, what);
    }
  }
  return s;
}

const describeDoc = (name: string, muts: unknown) => ({ toString: () => `preset ${name} with ${JSON.stringify(muts).slice(0, 400)}` });

describe("scenario parser", () => {
  test("mutated presets: a valid scenario or a PlurisimError naming a field", () => {
    fc.assert(
      fc.property(fc.nat(SMALL.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (k, muts) => {
        parseOrRefuse(mutate(SMALL[k], muts), describeDoc(PRESET_NAMES[k], muts));
      }),
      fuzzParams(2000),
    );
  }, TIMEOUT);

  test("random JSON values are refused cleanly", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (doc) => {
        parseOrRefuse(doc, { toString: () => `random ${JSON.stringify(doc).slice(0, 200)}` });
      }),
      fuzzParams(1000),
    );
  }, TIMEOUT);

  test("mutated JSON text (cut, spliced, doubled) is refused or parsed, never thrown past", () => {
    const texts = SMALL.map((s) => JSON.stringify(s));
    fc.assert(
      fc.property(fc.nat(texts.length - 1), fc.nat(), fc.nat(), fc.string({ maxLength: 6 }), (k, a, b, insert) => {
        const t = texts[k];
        const i = a % (t.length + 1);
        const j = i + (b % Math.max(1, Math.min(40, t.length - i + 1)));
        const text = t.slice(0, i) + insert + t.slice(j);
        try {
          const s = parseScenarioJson(text);
          checkAccepted(s, text);
        } catch (e) {
          expectPlurisimError(e, text.slice(0, 200));
        }
      }),
      fuzzParams(1500),
    );
  }, TIMEOUT);

  // Edits that make any document invalid: the parser must refuse each, naming where.
  const objectPaths = (doc: unknown) => nodes(doc).filter((n) => n.value !== null && typeof n.value === "object" && !Array.isArray(n.value));
  const numberPaths = (doc: unknown) => nodes(doc).filter((n) => typeof n.value === "number");
  const set = (doc: unknown, path: PathKey[], key: PathKey, value: unknown) => {
    let o: any = doc;
    for (const k of path) o = o[k];
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  };

  test("a prototype key or an unknown key anywhere is refused with its path", () => {
    fc.assert(
      fc.property(fc.nat(SMALL.length - 1), fc.nat(), fc.constantFrom("__proto__", "constructor", "prototype", "zzUnknown"), (k, at, key) => {
        const doc = structuredClone(SMALL[k]);
        const targets = objectPaths(doc);
        const { path } = targets[at % targets.length];
        set(doc, path, key, { kind: "uniform" });
        const e = expectPlurisimError(catching(() => parseScenario(doc)), `${key} at ${formatPath(path)}`);
        expect(e.field).toBe(formatPath([...path, key]));
      }),
      fuzzParams(800),
    );
  }, TIMEOUT);

  test("a number replaced by a string, NaN or Infinity is refused, naming that number or its parent", () => {
    fc.assert(
      fc.property(fc.nat(SMALL.length - 1), fc.nat(), fc.constantFrom<unknown>("1", "NaN", "Infinity", Number.NaN, Infinity, -Infinity, null, [], {}), (k, at, value) => {
        const doc = structuredClone(SMALL[k]);
        const targets = numberPaths(doc);
        const { path } = targets[at % targets.length];
        set(doc, path.slice(0, -1), path[path.length - 1], value);
        const e = expectPlurisimError(catching(() => parseScenario(doc)), `${String(value)} at ${formatPath(path)}`);
        const leaf = formatPath(path);
        expect(leaf.startsWith(e.field!) || e.field === "scenario", `field ${e.field} for ${leaf}`).toBe(true);
      }),
      fuzzParams(800),
    );
  }, TIMEOUT);

  test("nesting past the limit anywhere is refused, never a stack overflow", () => {
    fc.assert(
      fc.property(fc.nat(SMALL.length - 1), fc.nat(), fc.integer({ min: MAX_JSON_DEPTH + 1, max: 4000 }), (k, at, levels) => {
        const doc = structuredClone(SMALL[k]);
        const all = nodes(doc).filter((n) => n.path.length > 0);
        const { path, value } = all[at % all.length];
        set(doc, path.slice(0, -1), path[path.length - 1], nestDeep(value, levels));
        const e = expectPlurisimError(catching(() => parseScenario(doc)), `nested ${levels} at ${formatPath(path)}`);
        expect(e.message).toContain("levels deep");
      }),
      fuzzParams(300),
    );
  }, TIMEOUT);
});

function catching(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected the document to be refused, but it was accepted");
}

describe("sweep parser", () => {
  const base = SMALL[0];
  const SWEEPS = Object.keys(sweepPresets).map((name) => {
    const doc = sweepPresetDocument(name) as Record<string, any>;
    doc.base = structuredClone(base);
    return { name, doc };
  });
  SWEEPS.push({
    name: "every-feature",
    doc: {
      name: "f",
      base,
      axes: { "groups[0].weight": { linspace: [0.2, 0.8, 3] }, "curation.K": [2, 4, "inf"], "curation.temperature": { logspace: [-1, 0, 2] } },
      zip: [{ "groups[0].reward.center": [-1, -2], "groups[1].reward.center": [1, 2] }],
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      replicates: 2,
      seed: 5,
      keep: { final: true, generations: [0, 5], metrics: ["basinMass", "nashGap"], nash: true },
    },
  });

  test("mutated sweep files: a plan whose cells build, or INVALID_SWEEP naming a field", () => {
    fc.assert(
      fc.property(fc.nat(SWEEPS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (k, muts) => {
        const doc = mutate(SWEEPS[k].doc, muts);
        const what = { toString: () => `sweep ${SWEEPS[k].name} with ${JSON.stringify(muts).slice(0, 300)}` };
        let plan;
        try {
          plan = parseSweep(doc);
        } catch (e) {
          expectPlurisimError(e, what);
          return;
        }
        ok(Number.isSafeInteger(plan.total) && plan.total >= 1, what, `total ${plan.total}`);
        expectNoNaN(plan, what);
        for (const c of [0, plan.total - 1]) {
          try {
            const cell = cellAt(plan, c);
            expectNoNaN(cell, what);
            parseScenario(cell.scenario);
          } catch (e) {
            // Combinations of values are only checked when their cell runs: an error row, not a crash.
            expectPlurisimError(e, what);
          }
        }
      }),
      fuzzParams(250),
    );
  }, TIMEOUT);

  test("random JSON values as sweep files are refused cleanly", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (doc) => {
        try {
          parseSweep(doc);
        } catch (e) {
          expectPlurisimError(e, JSON.stringify(doc).slice(0, 200));
        }
      }),
      fuzzParams(500),
    );
  }, TIMEOUT);

  test("axis paths with prototype segments are refused, wherever the segment sits", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("groups[0]", "reward", "curation", "K", "weight", "x"), { maxLength: 3 }), fc.constantFrom("__proto__", "constructor", "prototype"), fc.nat(3), (parts, bad, at) => {
        const segs: string[] = [...parts];
        segs.splice(at % (segs.length + 1), 0, bad);
        const path = segs.join(".");
        const e = expectPlurisimError(catching(() => parseSweep({ base, axes: { [path]: [1, 2] } })), path);
        expect(e.code).toBe("INVALID_SWEEP");
        expect(Object.prototype).not.toHaveProperty("weight");
      }),
      fuzzParams(300),
    );
  }, TIMEOUT);
});

describe("formula parser", () => {
  const TOKENS = ["x", "y", "1", "2.5", "1e308", "1e-320", ".5", "pi", "e", "+", "-", "*", "/", "^", "**", "(", ")", ",", "?", ":", "<", "<=", "==", "!=", "exp", "log", "sqrt", "min", "max", "hypot", "pow", "abs", "sin", "atan2", "floor", "foo", "__proto__", "constructor", " ", "@", "\u001b", "Infinity", "NaN"];
  const tokens = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join(""));
  const VALID = ["-(x + 2)^2", "exp(-(x^2 + y^2) / 2)", "max(-(x-2)^2, -(x+2)^2)", "x > 0 ? 1 : 0", "hypot(x, y, 1)", "2^3^2", "-abs(x - 1)"];
  const mutated = fc.tuple(fc.constantFrom(...VALID), fc.nat(), fc.nat(5), fc.constantFrom(...TOKENS)).map(([f, at, cut, tok]) => {
    const i = at % (f.length + 1);
    return f.slice(0, i) + tok + f.slice(i + cut);
  });

  test("token soup and mutated formulas compile or give FORMULA_* errors; compiled ones evaluate to numbers", () => {
    fc.assert(
      fc.property(fc.oneof(tokens, mutated, fc.string({ maxLength: 40 })), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (expr, x) => {
        let f;
        try {
          f = compileFormula(expr, ["x", "y"], "groups[0].reward.expr");
        } catch (e) {
          const err = expectPlurisimError(e, JSON.stringify(expr));
          expect(err.code.startsWith("FORMULA_"), err.code).toBe(true);
          return;
        }
        expect(typeof f.evaluateAt(x, -x)).toBe("number");
        const out = new Float64Array(2);
        f.evaluate(new Float64Array([x, 0]), new Float64Array([-x, 1]), out, 2);
        expect(Object.is(out[0], f.evaluateAt(x, -x)) || (Number.isNaN(out[0]) && Number.isNaN(f.evaluateAt(x, -x))), expr).toBe(true);
      }),
      fuzzParams(2500),
    );
  }, TIMEOUT);

  test("long chains and deep nesting are refused or evaluated, never a stack overflow", () => {
    fc.assert(
      fc.property(fc.constantFrom("+x", "*x", "-1", "^1", "?1:1"), fc.integer({ min: 1, max: 1500 }), fc.constantFrom("(", "-", "+", "sqrt(", ""), fc.integer({ min: 0, max: 250 }), (step, n, open, depth) => {
        const close = open === "(" || open === "sqrt(" ? ")".repeat(depth) : "";
        const expr = open.repeat(depth) + "x" + step.repeat(n) + close;
        try {
          const f = compileFormula(expr, ["x"], "expr");
          expect(typeof f.evaluateAt(0.5)).toBe("number");
        } catch (e) {
          expectPlurisimError(e, expr.slice(0, 80));
        }
      }),
      fuzzParams(40),
    );
  }, TIMEOUT);

  test("derived-parameter expressions over paths parse or give FORMULA_* errors", () => {
    const names = ["groups[0].weight", "curation.K", "generations"];
    fc.assert(
      fc.property(fc.oneof(tokens, fc.constantFrom("1 - groups[0].weight", "curation.K * 2", "groups[1].weight", "groups[0].__proto__", "constructor")), (expr) => {
        try {
          const node = parseExpression(expr, names, "derived");
          expect(typeof evaluateExpression(node, () => 0.25)).toBe("number");
        } catch (e) {
          expectPlurisimError(e, expr);
        }
      }),
      fuzzParams(1000),
    );
  }, TIMEOUT);
});
