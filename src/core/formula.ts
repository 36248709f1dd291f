// Reward formulas such as `-(x + 2)^2` or `exp(-(x^2 + y^2) / 2)`: a hand-written
// recursive-descent parser (never eval or new Function) and an evaluator that runs each AST
// node over a chunk of points at a time, so one formula over 1e6 atoms is a handful of tight
// loops rather than 1e6 tree walks.
//
// Grammar, loosest binding first:
//   expr     := cond
//   cond     := compare ( "?" expr ":" expr )?
//   compare  := additive ( ("<" | "<=" | ">" | ">=" | "==" | "!=") additive )?
//   additive := term ( ("+" | "-") term )*
//   term     := unary ( ("*" | "/") unary )*
//   unary    := ("-" | "+") unary | power
//   power    := primary ( ("^" | "**") unary )?        right-associative
//   primary  := number | name | name "(" expr ("," expr)* ")" | "(" expr ")"
// so `-x^2` is `-(x^2)`, `2^-x` is `2^(-x)` and `2^3^2` is `2^(3^2)`, as in mathematics.

import { dmath } from "./detmath.js";
import { PlurisimError } from "./errors.js";
import { sanitizeForTerminal } from "./text.js";

export type FormulaVar = "x" | "y";

export type FormulaNode =
  | { type: "num"; value: number; pos: number }
  | { type: "var"; name: FormulaVar; pos: number }
  | { type: "neg"; arg: FormulaNode; pos: number }
  | { type: "bin"; op: BinaryOp; left: FormulaNode; right: FormulaNode; pos: number }
  | { type: "call"; name: string; args: FormulaNode[]; pos: number }
  | { type: "cond"; test: FormulaNode; then: FormulaNode; else: FormulaNode; pos: number };

export type BinaryOp = "+" | "-" | "*" | "/" | "^" | "<" | "<=" | ">" | ">=" | "==" | "!=";

/** A compiled formula: evaluates over arrays of points. */
export interface CompiledFormula {
  readonly expr: string;
  /** Variables the formula may use (those given to compileFormula). */
  readonly vars: readonly FormulaVar[];
  /** Variables the formula actually uses. */
  readonly uses: readonly FormulaVar[];
  /** Writes f(xs[k], ys[k]) to out[k] for k < count. `ys` may be null when y is unused. */
  evaluate(xs: Float64Array, ys: Float64Array | null, out: Float64Array, count: number): void;
  /** f at one point (slow path, for messages and tests). */
  evaluateAt(x: number, y?: number): number;
}

/** Named constants. */
export const FORMULA_CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

interface FunctionSpec {
  min: number;
  max: number;
  f: (...a: number[]) => number;
}

const sign = (a: number): number => Math.sign(a);

/** Functions and their arities (max = Infinity for variadic ones). */
export const FORMULA_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  exp: { min: 1, max: 1, f: (a) => dmath.exp(a) },
  log: { min: 1, max: 1, f: (a) => dmath.log(a) },
  log2: { min: 1, max: 1, f: (a) => dmath.log2(a) },
  log10: { min: 1, max: 1, f: (a) => dmath.log10(a) },
  sqrt: { min: 1, max: 1, f: Math.sqrt },
  abs: { min: 1, max: 1, f: Math.abs },
  sin: { min: 1, max: 1, f: (a) => dmath.sin(a) },
  cos: { min: 1, max: 1, f: (a) => dmath.cos(a) },
  tan: { min: 1, max: 1, f: (a) => dmath.tan(a) },
  atan: { min: 1, max: 1, f: (a) => dmath.atan(a) },
  sinh: { min: 1, max: 1, f: (a) => dmath.sinh(a) },
  cosh: { min: 1, max: 1, f: (a) => dmath.cosh(a) },
  tanh: { min: 1, max: 1, f: (a) => dmath.tanh(a) },
  floor: { min: 1, max: 1, f: Math.floor },
  ceil: { min: 1, max: 1, f: Math.ceil },
  sign: { min: 1, max: 1, f: sign },
  pow: { min: 2, max: 2, f: (a, b) => dmath.pow(a, b) },
  atan2: { min: 2, max: 2, f: (a, b) => dmath.atan2(a, b) },
  min: { min: 2, max: Infinity, f: Math.min },
  max: { min: 2, max: Infinity, f: Math.max },
  hypot: { min: 2, max: Infinity, f: (...a: number[]) => a.reduce((h, v) => dmath.hypot(h, v), 0) },
};

const MAX_LENGTH = 10_000;
const MAX_DEPTH = 200;

type Token =
  | { kind: "num"; value: number; pos: number; text: string }
  | { kind: "name"; name: string; pos: number; text: string }
  | { kind: "op"; op: string; pos: number; text: string }
  | { kind: "end"; pos: number; text: string };

/** A formula error carries the 0-based character position it points at. */
export class FormulaError extends PlurisimError {
  readonly position: number;
  constructor(code: "FORMULA_SYNTAX" | "FORMULA_UNKNOWN_NAME" | "FORMULA_ARITY", message: string, expr: string, position: number, field?: string) {
    super(code, message, { field, value: expr });
    this.name = "FormulaError";
    this.position = position;
  }
}

/** The expression with a caret under `pos` (a window of it when the expression is long). */
export function caretExcerpt(expr: string, pos: number): string {
  // One character per position keeps the caret aligned: whitespace becomes a space, any other
  // control character (ESC, C1, bidi overrides) a visible U+FFFD, never raw terminal input.
  const flat = expr.replace(/[\r\n\t]/g, " ").replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "\ufffd");
  const width = 70;
  let start = 0;
  if (flat.length > width) start = Math.max(0, Math.min(pos - (width >> 1), flat.length - width));
  const end = Math.min(flat.length, start + width);
  const prefix = start > 0 ? "..." : "";
  const suffix = end < flat.length ? "..." : "";
  const line = prefix + flat.slice(start, end) + suffix;
  const caret = " ".repeat(prefix.length + Math.max(0, pos - start)) + "^";
  return `  ${line}\n  ${caret}`;
}

function tokenize(expr: string, fail: (pos: number, msg: string) => never, paths = false): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = expr.length;
  while (i < n) {
    const c = expr[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const start = i;
    if ((c >= "0" && c <= "9") || (c === "." && i + 1 < n && expr[i + 1] >= "0" && expr[i + 1] <= "9")) {
      while (i < n && expr[i] >= "0" && expr[i] <= "9") i++;
      if (expr[i] === ".") {
        i++;
        while (i < n && expr[i] >= "0" && expr[i] <= "9") i++;
      }
      if (expr[i] === "e" || expr[i] === "E") {
        let j = i + 1;
        if (expr[j] === "+" || expr[j] === "-") j++;
        if (j < n && expr[j] >= "0" && expr[j] <= "9") {
          while (j < n && expr[j] >= "0" && expr[j] <= "9") j++;
          i = j;
        } else {
          fail(i, "malformed exponent in number");
        }
      }
      const text = expr.slice(start, i);
      const value = Number(text);
      if (!Number.isFinite(value)) fail(start, `number ${text} is out of range`);
      tokens.push({ kind: "num", value, pos: start, text });
      continue;
    }
    if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_") {
      while (i < n && /[A-Za-z0-9_]/.test(expr[i])) i++;
      // Path mode (parseExpression): `groups[0].reward.center` is one name.
      while (paths) {
        const rest = expr.slice(i);
        const step = /^(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])/.exec(rest);
        if (!step) break;
        i += step[0].length;
      }
      const name = expr.slice(start, i);
      tokens.push({ kind: "name", name, pos: start, text: name });
      continue;
    }
    const two = expr.slice(i, i + 2);
    if (two === "**" || two === "<=" || two === ">=" || two === "==" || two === "!=") {
      tokens.push({ kind: "op", op: two === "**" ? "^" : two, pos: start, text: two });
      i += 2;
      continue;
    }
    if ("+-*/^(),?:<>".includes(c)) {
      tokens.push({ kind: "op", op: c, pos: start, text: c });
      i++;
      continue;
    }
    fail(start, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: "end", pos: n, text: "end of expression" });
  return tokens;
}

function editDistance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** Parses `expr` into an AST, checking names and arities. Throws FormulaError. */
export function parseFormula(expr: string, vars: readonly FormulaVar[], field?: string): FormulaNode {
  return parseWith(expr, vars, field, false);
}

/**
 * Parses an expression over arbitrary named values, such as a sweep's derived parameter
 * `1 - groups[0].weight`: path-like names (dots and [i]) are one name, and only `names` (plus the
 * constants and functions) are allowed. The AST's "var" nodes then carry those names; evaluate
 * it with evaluateExpression. Throws FormulaError like parseFormula.
 */
export function parseExpression(expr: string, names: readonly string[], field?: string): FormulaNode {
  return parseWith(expr, names, field, true);
}

/** Evaluates an AST from parseExpression, reading each name through `lookup`. */
export function evaluateExpression(node: FormulaNode, lookup: (name: string) => number): number {
  switch (node.type) {
    case "num": return node.value;
    case "var": return lookup(node.name);
    case "neg": return -evaluateExpression(node.arg, lookup);
    case "bin": return binaryScalar(node.op, evaluateExpression(node.left, lookup), evaluateExpression(node.right, lookup));
    case "cond": return condScalar(evaluateExpression(node.test, lookup), evaluateExpression(node.then, lookup), evaluateExpression(node.else, lookup));
    case "call": return FORMULA_FUNCTIONS[node.name].f(...node.args.map((a) => evaluateExpression(a, lookup)));
  }
}

function parseWith(expr: string, vars: readonly string[], field: string | undefined, paths: boolean): FormulaNode {
  const where = field ? `${field}: ` : "";
  const fail = (code: "FORMULA_SYNTAX" | "FORMULA_UNKNOWN_NAME" | "FORMULA_ARITY", pos: number, msg: string, note = ""): never => {
    const text = `${where}${msg} at column ${pos + 1} of formula ${sanitizeForTerminal(JSON.stringify(expr))}\n${caretExcerpt(expr, pos)}${note ? "\n  " + note : ""}`;
    throw new FormulaError(code, text, expr, pos, field);
  };
  if (typeof expr !== "string") throw new FormulaError("FORMULA_SYNTAX", `${where}formula must be a string`, String(expr), 0, field);
  if (expr.length > MAX_LENGTH) fail("FORMULA_SYNTAX", MAX_LENGTH, `formula is longer than ${MAX_LENGTH} characters`);
  const tokens = tokenize(expr, (pos, msg) => fail("FORMULA_SYNTAX", pos, msg), paths);
  let k = 0;
  let depth = 0;
  const peek = (): Token => tokens[k];
  const isOp = (t: Token, op: string): boolean => t.kind === "op" && t.op === op;
  const describe = (t: Token): string => (t.kind === "end" ? "end of expression" : JSON.stringify(t.text));
  const expect = (op: string, context: string): void => {
    const t = peek();
    if (!isOp(t, op)) fail("FORMULA_SYNTAX", t.pos, `expected "${op}" ${context} but found ${describe(t)}`);
    k++;
  };
  const enter = (pos: number): void => {
    if (++depth > MAX_DEPTH) fail("FORMULA_SYNTAX", pos, `formula is nested more than ${MAX_DEPTH} levels deep`);
  };

  const validNames = (): string => {
    const fns = Object.keys(FORMULA_FUNCTIONS).map((f) => `${f}()`);
    return [...vars, ...Object.keys(FORMULA_CONSTANTS), ...fns].join(", ");
  };
  const unknownName = (name: string, pos: number, asFunction: boolean): never => {
    const candidates = asFunction ? Object.keys(FORMULA_FUNCTIONS) : [...vars, ...Object.keys(FORMULA_CONSTANTS), ...Object.keys(FORMULA_FUNCTIONS)];
    let best = "";
    let bestD = Infinity;
    for (const c of candidates) {
      const dd = editDistance(name.toLowerCase(), c);
      if (dd < bestD) {
        bestD = dd;
        best = c;
      }
    }
    let hint = "";
    if (paths) hint = bestD <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean ${best}?)` : "";
    else if (name === "y" && !vars.includes("y")) hint = " (y is only defined on 2-D spaces)";
    else if (name === "x" && !vars.includes("x")) hint = " (this space has no coordinates)";
    else if (bestD <= Math.max(1, Math.floor(name.length / 3))) hint = ` (did you mean ${best}?)`;
    return fail("FORMULA_UNKNOWN_NAME", pos, `unknown ${asFunction ? "function" : "name"} "${name}"${hint}`, `valid names: ${validNames()}`);
  };

  const parseExpr = (): FormulaNode => {
    const t = peek();
    enter(t.pos);
    const node = parseCond();
    depth--;
    return node;
  };

  const parseCond = (): FormulaNode => {
    const test = parseCompare();
    const t = peek();
    if (!isOp(t, "?")) return test;
    k++;
    const then = parseExpr();
    expect(":", "in a conditional a ? b : c");
    const otherwise = parseExpr();
    return { type: "cond", test, then, else: otherwise, pos: t.pos };
  };

  const parseCompare = (): FormulaNode => {
    const left = parseAdditive();
    const t = peek();
    if (t.kind === "op" && ["<", "<=", ">", ">=", "==", "!="].includes(t.op)) {
      k++;
      const right = parseAdditive();
      const after = peek();
      if (after.kind === "op" && ["<", "<=", ">", ">=", "==", "!="].includes(after.op)) {
        fail("FORMULA_SYNTAX", after.pos, "comparisons cannot be chained; use parentheses");
      }
      return { type: "bin", op: t.op as BinaryOp, left, right, pos: t.pos };
    }
    return left;
  };

  const parseAdditive = (): FormulaNode => {
    let left = parseTerm();
    for (;;) {
      const t = peek();
      if (t.kind === "op" && (t.op === "+" || t.op === "-")) {
        k++;
        left = { type: "bin", op: t.op, left, right: parseTerm(), pos: t.pos };
      } else return left;
    }
  };

  const parseTerm = (): FormulaNode => {
    let left = parseUnary();
    for (;;) {
      const t = peek();
      if (t.kind === "op" && (t.op === "*" || t.op === "/")) {
        k++;
        left = { type: "bin", op: t.op, left, right: parseUnary(), pos: t.pos };
      } else return left;
    }
  };

  const parseUnary = (): FormulaNode => {
    const t = peek();
    if (t.kind === "op" && (t.op === "-" || t.op === "+")) {
      k++;
      enter(t.pos);
      const arg = parseUnary();
      depth--;
      return t.op === "-" ? { type: "neg", arg, pos: t.pos } : arg;
    }
    return parsePower();
  };

  const parsePower = (): FormulaNode => {
    const base = parsePrimary();
    const t = peek();
    if (isOp(t, "^")) {
      k++;
      enter(t.pos);
      const exponent = parseUnary();
      depth--;
      return { type: "bin", op: "^", left: base, right: exponent, pos: t.pos };
    }
    return base;
  };

  const parsePrimary = (): FormulaNode => {
    const t = peek();
    if (t.kind === "num") {
      k++;
      return { type: "num", value: t.value, pos: t.pos };
    }
    if (t.kind === "name") {
      k++;
      if (isOp(peek(), "(")) {
        const spec = FORMULA_FUNCTIONS[t.name];
        if (!Object.hasOwn(FORMULA_FUNCTIONS, t.name) || !spec) return unknownName(t.name, t.pos, true);
        k++;
        const args: FormulaNode[] = [];
        if (!isOp(peek(), ")")) {
          args.push(parseExpr());
          while (isOp(peek(), ",")) {
            k++;
            args.push(parseExpr());
          }
        }
        expect(")", `to close the arguments of ${t.name}(`);
        if (args.length < spec.min || args.length > spec.max) {
          const want = spec.max === Infinity ? `at least ${spec.min} arguments` : spec.min === 1 ? "1 argument" : `${spec.min} arguments`;
          fail("FORMULA_ARITY", t.pos, `${t.name}() takes ${want}, got ${args.length}`);
        }
        return { type: "call", name: t.name, args, pos: t.pos };
      }
      if (vars.includes(t.name)) return { type: "var", name: t.name as FormulaVar, pos: t.pos };
      if (Object.hasOwn(FORMULA_CONSTANTS, t.name)) return { type: "num", value: FORMULA_CONSTANTS[t.name], pos: t.pos };
      if (Object.hasOwn(FORMULA_FUNCTIONS, t.name)) fail("FORMULA_SYNTAX", peek().pos, `function ${t.name} must be called with arguments, as in ${t.name}(x)`);
      return unknownName(t.name, t.pos, false);
    }
    if (isOp(t, "(")) {
      k++;
      const inner = parseExpr();
      expect(")", "to close the parenthesis");
      return inner;
    }
    return fail("FORMULA_SYNTAX", t.pos, t.kind === "end" ? "expected a number, name or ( but the expression ended" : `expected a number, name or ( but found ${describe(t)}`);
  };

  const root = parseExpr();
  const t = peek();
  if (t.kind !== "end") {
    fail("FORMULA_SYNTAX", t.pos, isOp(t, ")") ? `unmatched ")"` : `unexpected ${describe(t)} after a complete expression`);
  }
  return root;
}

function binaryScalar(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case "+": return a + b;
    case "-": return a - b;
    case "*": return a * b;
    case "/": return a / b;
    case "^": return dmath.pow(a, b);
    case "<": return a < b ? 1 : 0;
    case "<=": return a <= b ? 1 : 0;
    case ">": return a > b ? 1 : 0;
    case ">=": return a >= b ? 1 : 0;
    case "==": return a === b ? 1 : 0;
    case "!=": return a !== b ? 1 : 0;
  }
}

function condScalar(t: number, a: number, b: number): number {
  return t !== t ? NaN : t !== 0 ? a : b;
}

/** Evaluates an AST at one point. */
export function evaluateNode(node: FormulaNode, x: number, y: number): number {
  switch (node.type) {
    case "num": return node.value;
    case "var": return node.name === "x" ? x : y;
    case "neg": return -evaluateNode(node.arg, x, y);
    case "bin": return binaryScalar(node.op, evaluateNode(node.left, x, y), evaluateNode(node.right, x, y));
    case "cond": return condScalar(evaluateNode(node.test, x, y), evaluateNode(node.then, x, y), evaluateNode(node.else, x, y));
    case "call": {
      const f = FORMULA_FUNCTIONS[node.name].f;
      const args = node.args.map((a) => evaluateNode(a, x, y));
      return f(...args);
    }
  }
}

const CHUNK = 2048;

/** A compiled node: returns a buffer whose first `len` entries hold the node over points off..off+len. */
type Kernel = (xs: Float64Array, ys: Float64Array | null, off: number, len: number) => Float64Array;

interface Compiled {
  kernel: Kernel;
  /** Set when the node is a constant (folded at compile time). */
  constant?: number;
}

function constantKernel(value: number): Compiled {
  const buf = new Float64Array(CHUNK).fill(value);
  return { kernel: () => buf, constant: value };
}

function compileNode(node: FormulaNode): Compiled {
  switch (node.type) {
    case "num":
      return constantKernel(node.value);
    case "var": {
      if (node.name === "x") return { kernel: (xs, _ys, off, len) => xs.subarray(off, off + len) };
      return { kernel: (_xs, ys, off, len) => (ys as Float64Array).subarray(off, off + len) };
    }
    case "neg": {
      const a = compileNode(node.arg);
      if (a.constant !== undefined) return constantKernel(-a.constant);
      const out = new Float64Array(CHUNK);
      const ka = a.kernel;
      return {
        kernel: (xs, ys, off, len) => {
          const va = ka(xs, ys, off, len);
          for (let i = 0; i < len; i++) out[i] = -va[i];
          return out;
        },
      };
    }
    case "bin":
      return compileBinary(node.op, compileNode(node.left), compileNode(node.right));
    case "cond": {
      const t = compileNode(node.test);
      const a = compileNode(node.then);
      const b = compileNode(node.else);
      if (t.constant !== undefined) {
        if (t.constant !== t.constant) return constantKernel(NaN);
        return t.constant !== 0 ? a : b;
      }
      const out = new Float64Array(CHUNK);
      const kt = t.kernel;
      const ka = a.kernel;
      const kb = b.kernel;
      return {
        kernel: (xs, ys, off, len) => {
          const vt = kt(xs, ys, off, len);
          const va = ka(xs, ys, off, len);
          const vb = kb(xs, ys, off, len);
          for (let i = 0; i < len; i++) out[i] = condScalar(vt[i], va[i], vb[i]);
          return out;
        },
      };
    }
    case "call":
      return compileCall(node.name, node.args.map(compileNode));
  }
}

function compileCall(name: string, args: Compiled[]): Compiled {
  const f = FORMULA_FUNCTIONS[name].f;
  if (args.every((a) => a.constant !== undefined)) return constantKernel(f(...args.map((a) => a.constant as number)));
  // Variadic min / max / hypot fold pairwise for min and max (same result as Math.min(a, b, c));
  // hypot is not associative in floating point, so it goes through the general path.
  if ((name === "min" || name === "max") && args.length > 2) {
    let acc = compileCall(name, [args[0], args[1]]);
    for (let j = 2; j < args.length; j++) acc = compileCall(name, [acc, args[j]]);
    return acc;
  }
  const out = new Float64Array(CHUNK);
  if (args.length === 1) {
    const ka = args[0].kernel;
    const g = f as (a: number) => number;
    return {
      kernel: (xs, ys, off, len) => {
        const va = ka(xs, ys, off, len);
        for (let i = 0; i < len; i++) out[i] = g(va[i]);
        return out;
      },
    };
  }
  if (args.length === 2) {
    const ka = args[0].kernel;
    const kb = args[1].kernel;
    const g = f as (a: number, b: number) => number;
    return {
      kernel: (xs, ys, off, len) => {
        const va = ka(xs, ys, off, len);
        const vb = kb(xs, ys, off, len);
        for (let i = 0; i < len; i++) out[i] = g(va[i], vb[i]);
        return out;
      },
    };
  }
  const kernels = args.map((a) => a.kernel);
  const tmp = new Array<number>(args.length);
  return {
    kernel: (xs, ys, off, len) => {
      const vals = kernels.map((kk) => kk(xs, ys, off, len));
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < vals.length; j++) tmp[j] = vals[j][i];
        out[i] = f(...tmp);
      }
      return out;
    },
  };
}

function compileBinary(op: BinaryOp, a: Compiled, b: Compiled): Compiled {
  if (a.constant !== undefined && b.constant !== undefined) return constantKernel(binaryScalar(op, a.constant, b.constant));
  const out = new Float64Array(CHUNK);
  const ka = a.kernel;
  const kb = b.kernel;
  // The four arithmetic operators and squaring get their own loops (the common reward shapes);
  // everything else goes through binaryScalar.
  if (b.constant !== undefined) {
    const c = b.constant;
    switch (op) {
      case "+": return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = v[i] + c; return out; } };
      case "-": return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = v[i] - c; return out; } };
      case "*": return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = v[i] * c; return out; } };
      case "/": return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = v[i] / c; return out; } };
      case "^":
        if (c === 2) return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = v[i] * v[i]; return out; } };
        return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = dmath.pow(v[i], c); return out; } };
      default:
        return { kernel: (xs, ys, off, len) => { const v = ka(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = binaryScalar(op, v[i], c); return out; } };
    }
  }
  if (a.constant !== undefined) {
    const c = a.constant;
    switch (op) {
      case "+": return { kernel: (xs, ys, off, len) => { const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = c + v[i]; return out; } };
      case "-": return { kernel: (xs, ys, off, len) => { const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = c - v[i]; return out; } };
      case "*": return { kernel: (xs, ys, off, len) => { const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = c * v[i]; return out; } };
      case "/": return { kernel: (xs, ys, off, len) => { const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = c / v[i]; return out; } };
      default:
        return { kernel: (xs, ys, off, len) => { const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = binaryScalar(op, c, v[i]); return out; } };
    }
  }
  switch (op) {
    case "+": return { kernel: (xs, ys, off, len) => { const u = ka(xs, ys, off, len); const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = u[i] + v[i]; return out; } };
    case "-": return { kernel: (xs, ys, off, len) => { const u = ka(xs, ys, off, len); const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = u[i] - v[i]; return out; } };
    case "*": return { kernel: (xs, ys, off, len) => { const u = ka(xs, ys, off, len); const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = u[i] * v[i]; return out; } };
    case "/": return { kernel: (xs, ys, off, len) => { const u = ka(xs, ys, off, len); const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = u[i] / v[i]; return out; } };
    default:
      return { kernel: (xs, ys, off, len) => { const u = ka(xs, ys, off, len); const v = kb(xs, ys, off, len); for (let i = 0; i < len; i++) out[i] = binaryScalar(op, u[i], v[i]); return out; } };
  }
}

function collectVars(node: FormulaNode, into: Set<FormulaVar>): void {
  switch (node.type) {
    case "var": into.add(node.name); break;
    case "neg": collectVars(node.arg, into); break;
    case "bin": collectVars(node.left, into); collectVars(node.right, into); break;
    case "cond": collectVars(node.test, into); collectVars(node.then, into); collectVars(node.else, into); break;
    case "call": for (const a of node.args) collectVars(a, into); break;
    default: break;
  }
}

/**
 * Parses and compiles `expr` over the variables `vars`; returns an evaluator over arrays.
 * Throws FormulaError (FORMULA_SYNTAX, FORMULA_UNKNOWN_NAME, FORMULA_ARITY); `field` prefixes
 * the message and is stored on the error.
 */
export function compileFormula(expr: string, vars: readonly FormulaVar[], field?: string): CompiledFormula {
  const ast = parseFormula(expr, vars, field);
  const used = new Set<FormulaVar>();
  collectVars(ast, used);
  const uses = (["x", "y"] as const).filter((v) => used.has(v));
  const root = compileNode(ast);
  const kernel = root.kernel;
  return {
    expr,
    vars: [...vars],
    uses,
    evaluate(xs, ys, out, count) {
      if (used.has("y") && !ys) throw new PlurisimError("FORMULA_UNKNOWN_NAME", `formula ${JSON.stringify(expr)} uses y but no y values were given`, { field, value: expr });
      for (let off = 0; off < count; off += CHUNK) {
        const len = Math.min(CHUNK, count - off);
        const v = kernel(xs, ys, off, len);
        if (len === v.length) out.set(v, off);
        else out.set(v.subarray(0, len), off);
      }
    },
    evaluateAt(x, y = 0) {
      return evaluateNode(ast, x, y);
    },
  };
}
