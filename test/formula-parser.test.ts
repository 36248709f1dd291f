import { describe, expect, test } from "vitest";
import { PlurisimError } from "../src/core/errors.js";
import { compileFormula, FormulaError, parseFormula } from "../src/core/formula.js";
import { dmath } from "../src/core/detmath.js";
import { rng } from "./helpers.js";

/** The formula at one point through the vectorised evaluator. */
function at(expr: string, x = 0, y = 0): number {
  const f = compileFormula(expr, ["x", "y"]);
  const out = new Float64Array(1);
  f.evaluate(new Float64Array([x]), new Float64Array([y]), out, 1);
  return out[0];
}

function formulaError(expr: string, vars: ("x" | "y")[] = ["x"]): FormulaError {
  try {
    compileFormula(expr, vars);
  } catch (e) {
    expect(e).toBeInstanceOf(FormulaError);
    expect(e).toBeInstanceOf(PlurisimError);
    return e as FormulaError;
  }
  throw new Error(`expected ${JSON.stringify(expr)} to fail`);
}


describe("precedence and associativity", () => {
  test("unary minus binds looser than ^", () => {
    expect(at("-x^2", 3)).toBe(-9);
    expect(at("(-x)^2", 3)).toBe(9);
    expect(at("-2^2")).toBe(-4);
    expect(at("2^-1")).toBe(0.5);
    expect(at("--x", 3)).toBe(3);
    expect(at("+x", 3)).toBe(3);
  });

  test("^ is right-associative, ** is an alias", () => {
    expect(at("2^3^2")).toBe(512);
    expect(at("(2^3)^2")).toBe(64);
    expect(at("2**3")).toBe(8);
  });

  test("* / before + -, left-associative", () => {
    expect(at("1 + 2 * 3")).toBe(7);
    expect(at("8 / 4 / 2")).toBe(1);
    expect(at("10 - 3 - 2")).toBe(5);
    expect(at("2 * x^2", 3)).toBe(18);
    expect(at("-(x + 2)^2", 1)).toBe(-9);
  });

  test("comparisons and the conditional", () => {
    expect(at("x > 0 ? 1 : 0", 0.5)).toBe(1);
    expect(at("x > 0 ? 1 : 0", -0.5)).toBe(0);
    expect(at("x >= 1 ? x : x < -1 ? -x : 0", -3)).toBe(3);
    expect(at("x == 2", 2)).toBe(1);
    expect(at("x != 2", 2)).toBe(0);
    expect(at("x <= 2 ? log(x) : 0", 1)).toBe(0);
    // The branch not taken may be NaN without harm.
    expect(at("x > 0 ? log(x) : 0", -1)).toBe(0);
  });

  test("numbers, constants and functions", () => {
    expect(at("1e-3")).toBe(0.001);
    expect(at("2.5E+2")).toBe(250);
    expect(at(".5 + 2.")).toBe(2.5);
    expect(at("pi")).toBe(Math.PI);
    expect(at("e")).toBe(Math.E);
    expect(at("max(-(x-2)^2, -(x+2)^2)", 1)).toBe(-1);
    expect(at("min(3, x, 1)", 2)).toBe(1);
    expect(at("pow(x, 3)", 2)).toBe(8);
    expect(at("sign(x) + floor(2.7) + ceil(2.1)", -4)).toBe(4);
    expect(at("abs(x - 1)", -1)).toBe(2);
    expect(at("exp(-(x^2+y^2)/2)", 1, 1)).toBe(dmath.exp(-1));
    expect(at("hypot(x, y)", 3, 4)).toBe(5);
  });

  test("the AST has the expected shape", () => {
    const ast = parseFormula("-x^2 + 1", ["x"]);
    expect(ast).toMatchObject({ type: "bin", op: "+", left: { type: "neg", arg: { type: "bin", op: "^", left: { type: "var", name: "x" }, right: { type: "num", value: 2 } } }, right: { type: "num", value: 1 } });
  });
});

describe("errors carry a code and a position", () => {
  test("syntax errors point at the offending token with a caret", () => {
    const cases: [string, number][] = [
      ["-(x + 2^2", 9],
      ["x +", 3],
      ["x + * 2", 4],
      ["2 x", 2],
      ["(x))", 3],
      ["x $ 2", 2],
      ["", 0],
      ["1e+", 1],
      ["a < b < c".replace(/[abc]/g, "x"), 6],
      ["exp", 3],
      ["max(1,)", 6],
    ];
    for (const [expr, pos] of cases) {
      const e = formulaError(expr);
      expect({ expr, code: e.code, position: e.position }).toEqual({ expr, code: "FORMULA_SYNTAX", position: pos });
      expect(e.message).toContain(`column ${pos + 1}`);
      const lines = e.message.split("\n");
      expect(lines[2].indexOf("^") - 2).toBe(pos);
    }
  });

  test("unknown names list the valid ones", () => {
    const e = formulaError("-(z + 2)^2");
    expect(e.code).toBe("FORMULA_UNKNOWN_NAME");
    expect(e.position).toBe(2);
    expect(e.message).toContain('unknown name "z"');
    expect(e.message).toContain("valid names: x, pi, e, exp()");
    expect(formulaError("y + x").message).toContain("2-D");
    expect(formulaError("expp(x)").message).toMatch(/unknown function "expp" \(did you mean exp\?\)/);
    expect(formulaError("PI * x").message).toContain("did you mean pi?");
  });

  test("arity is checked", () => {
    expect(formulaError("exp(x, 1)").code).toBe("FORMULA_ARITY");
    expect(formulaError("pow(x)").code).toBe("FORMULA_ARITY");
    expect(formulaError("max(x)").code).toBe("FORMULA_ARITY");
    expect(formulaError("sin()").code).toBe("FORMULA_ARITY");
  });

  test("deep nesting is a syntax error, not a stack overflow", () => {
    expect(formulaError("(".repeat(5000) + "x" + ")".repeat(5000)).code).toBe("FORMULA_SYNTAX");
    expect(formulaError("-".repeat(5000) + "x").code).toBe("FORMULA_SYNTAX");
  });

  test("the field prefixes the message", () => {
    try {
      compileFormula("x +", ["x"], "groups[2].reward.expr");
    } catch (e) {
      expect((e as PlurisimError).field).toBe("groups[2].reward.expr");
      expect((e as PlurisimError).message.startsWith("groups[2].reward.expr: ")).toBe(true);
    }
  });
});

describe("evaluation matches hand-written TypeScript", () => {
  const cases: [string, (x: number, y: number) => number][] = [
    ["-(x + 2)^2", (x) => -((x + 2) * (x + 2))],
    ["-(x - 2)^2", (x) => -((x - 2) ** 2)],
    ["exp(-(x^2+y^2)/2)", (x, y) => dmath.exp(-(x * x + y * y) / 2)],
    ["-abs(x-1)", (x) => -Math.abs(x - 1)],
    ["max(-(x-2)^2, -(x+2)^2)", (x) => Math.max(-((x - 2) ** 2), -((x + 2) ** 2))],
    ["x > 0 ? 1 : 0", (x) => (x > 0 ? 1 : 0)],
    ["3 * sin(x) * cos(y) - tanh(x * y) / 2", (x, y) => (3 * dmath.sin(x) * dmath.cos(y)) - dmath.tanh(x * y) / 2],
    ["x^3 - 2^x + pow(abs(y), 0.5)", (x, y) => dmath.pow(x, 3) - dmath.pow(2, x) + dmath.pow(Math.abs(y), 0.5)],
    ["log(1 + x^2) + sqrt(1 + y^2)", (x, y) => dmath.log(1 + x * x) + Math.sqrt(1 + y * y)],
    ["1 / (1 + exp(-x)) - y / 3", (x, y) => 1 / (1 + dmath.exp(-x)) - y / 3],
    ["min(x, y, 0.5) + floor(x) - ceil(y) + sign(x - y)", (x, y) => Math.min(x, y, 0.5) + Math.floor(x) - Math.ceil(y) + Math.sign(x - y)],
    ["2 * pi * x - e", (x) => 2 * Math.PI * x - Math.E],
  ];

  test("bit-identical on random points, across chunk boundaries", () => {
    const rand = rng(12345);
    const n = 5000;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      xs[k] = (rand() - 0.5) * 20;
      ys[k] = (rand() - 0.5) * 20;
    }
    const out = new Float64Array(n);
    for (const [expr, f] of cases) {
      compileFormula(expr, ["x", "y"]).evaluate(xs, ys, out, n);
      let mismatches = 0;
      for (let k = 0; k < n; k++) if (!Object.is(out[k], f(xs[k], ys[k]))) mismatches++;
      expect({ expr, mismatches }).toEqual({ expr, mismatches: 0 });
      const g = compileFormula(expr, ["x", "y"]);
      for (let k = 0; k < n; k += 501) expect(Object.is(g.evaluateAt(xs[k], ys[k]), out[k])).toBe(true);
    }
  });

  test("count below the array length leaves the rest of out alone; 1-D formulas need no ys", () => {
    const out = new Float64Array(4).fill(7);
    compileFormula("x * 2", ["x"]).evaluate(new Float64Array([1, 2, 3, 4]), null, out, 2);
    expect(Array.from(out)).toEqual([2, 4, 7, 7]);
    const c = compileFormula("3", ["x"]);
    c.evaluate(new Float64Array(3000), null, (out.fill(0), new Float64Array(3000)), 3000);
    expect(c.uses).toEqual([]);
  });

  test("evaluates a million points in one call (chunked), identically to plain TS", () => {
    const n = 1_000_000;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      xs[k] = -12 + (24 * k) / n;
      ys[k] = 1 - xs[k] / 3;
    }
    const out = new Float64Array(n);
    const f = compileFormula("max(-(x-2)^2, -(x+2)^2) + exp(-(x^2+y^2)/2)", ["x", "y"]);
    f.evaluate(xs, ys, out, n);
    for (const k of [0, n >> 1, n - 1]) {
      expect(out[k]).toBe(Math.max(-((xs[k] - 2) ** 2), -((xs[k] + 2) ** 2)) + dmath.exp(-(xs[k] ** 2 + ys[k] ** 2) / 2));
    }
  });
});
