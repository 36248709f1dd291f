// Shared pieces of the fuzz suites: run counts and seed, hostile values, and mutations of JSON
// documents (delete a key, swap a type, insert a prototype key, nest deeply, blow a string or an
// array up) that fast-check generates and shrinks as plain data.
import fc from "fast-check";
import { ERROR_CODES, PlurisimError } from "../src/core/errors.js";

/** Multiplier of every fuzz test's run count: 1 in `npm test`, more under `npm run fuzz` (FUZZ_RUNS). */
export const FUZZ_SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1) || 1);

/**
 * The seed: FUZZ_SEED when given (to replay a failure fast-check printed), else fixed in `npm test`
 * so every run checks the same cases, and fresh per run under `npm run fuzz`.
 */
export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : 20261202;

/** fast-check parameters for a property meant to run `runs` times in `npm test`. */
export function fuzzParams(runs: number): fc.Parameters<unknown> {
  return { numRuns: runs * FUZZ_SCALE, seed: FUZZ_SEED, endOnFailure: false };
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type PathKey = string | number;

/** A value nested `levels` arrays deep, built without recursion. */
export function nestDeep(value: unknown, levels: number): unknown {
  let v = value;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

/** Numbers and strings that have broken parsers before: extremes, NaN-like text, empty and long strings. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.5,
    2,
    1e-300,
    5e-324,
    -5e-324,
    1e300,
    -1e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    1e12,
    1e21,
    -1e12,
    "NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "-inf",
    "",
    " ",
    "1",
    "0x10",
    "1e400",
    "\u0000",
    "\u001b[31m",
    "../../x",
    "__proto__",
    null,
    true,
    false,
    [],
    {},
    [null],
    [1, 2],
    [[1, 2], [3, 4]],
    { kind: "uniform" },
    { kind: "gaussian", mean: 0, sd: 1 },
  ),
  fc.double(),
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1, max: 50_000 }).map((k) => "x".repeat(k * 5)),
);

/** One edit of a document, as data (so fast-check can shrink it). `at` picks a node by index. */
export type Mutation =
  | { op: "delete"; at: number }
  | { op: "replace"; at: number; value: unknown }
  | { op: "swapType"; at: number }
  | { op: "insertKey"; at: number; key: string; value: unknown }
  | { op: "nest"; at: number; levels: number }
  | { op: "grow"; at: number; times: number };

const KEYS = ["__proto__", "constructor", "prototype", "kind", "values", "weight", "name", "K", "cells", "x", "toString", "hasOwnProperty", "$schema", "zzUnknown"];

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("replace" as const), at: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constant("swapType" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insertKey" as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), value: hostileValue }),
  fc.record({ op: fc.constant("nest" as const), at: fc.nat(), levels: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 60, max: 70 }), fc.constant(2500)) }),
  fc.record({ op: fc.constant("grow" as const), at: fc.nat(), times: fc.integer({ min: 2, max: 300 }) }),
);

/** Every node of a document with its path (root first), without recursion. */
export function nodes(doc: unknown): { path: PathKey[]; value: unknown }[] {
  const out: { path: PathKey[]; value: unknown }[] = [];
  const stack: { path: PathKey[]; value: unknown }[] = [{ path: [], value: doc }];
  // Nodes below depth 80 (past the nesting limit anyway) are not listed: a 2500-deep array would
  // otherwise list millions of path entries.
  while (stack.length > 0 && out.length < 5000) {
    const item = stack.pop()!;
    out.push(item);
    const v = item.value;
    if (item.path.length >= 80) continue;
    // Long numeric arrays: their entries are all alike; visiting a few keeps mutation cheap.
    if (Array.isArray(v)) v.slice(0, 16).forEach((e, i) => stack.push({ path: [...item.path, i], value: e }));
    else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) stack.push({ path: [...item.path, k], value: (v as Record<string, unknown>)[k] });
  }
  return out;
}

function setAt(doc: { root: unknown }, path: PathKey[], value: unknown | typeof REMOVE): void {
  let parent: any = doc;
  let key: PathKey = "root";
  for (const k of path) {
    parent = parent[key];
    key = k;
  }
  if (value === REMOVE) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (key === "__proto__" || key === "constructor" || key === "prototype") {
    Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  } else parent[key] = value;
}

const REMOVE = Symbol("remove");

function swapType(v: unknown): unknown {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return v === "" ? 0 : Number.isNaN(Number(v)) ? [v] : Number(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (Array.isArray(v)) return Object.fromEntries(v.map((e, i) => [String(i), e]));
  if (v !== null && typeof v === "object") return Object.values(v);
  return "null";
}

/** Applies the mutations in order to a deep copy of `doc` (parsed-JSON semantics: own `__proto__` keys). */
export function mutate(doc: unknown, mutations: readonly Mutation[]): unknown {
  const box = { root: structuredClone(doc) };
  for (const m of mutations) {
    const all = nodes(box.root);
    const { path, value } = all[m.at % all.length];
    switch (m.op) {
      case "delete":
        if (path.length > 0) setAt(box, path, REMOVE);
        break;
      case "replace":
        setAt(box, path, structuredClone(m.value));
        break;
      case "swapType":
        setAt(box, path, swapType(value));
        break;
      case "insertKey":
        if (value !== null && typeof value === "object" && !Array.isArray(value)) setAt(box, [...path, m.key], structuredClone(m.value));
        else if (Array.isArray(value)) setAt(box, [...path, value.length], structuredClone(m.value));
        break;
      case "nest":
        setAt(box, path, nestDeep(value, m.levels));
        break;
      case "grow":
        if (Array.isArray(value) && value.length > 0) setAt(box, path, Array.from({ length: value.length * m.times }, (_, i) => value[i % value.length]));
        else if (typeof value === "string" && value.length > 0) setAt(box, path, value.repeat(Math.max(1, Math.min(m.times * 500, Math.floor(300_000 / value.length)))));
        else if (typeof value === "number") setAt(box, path, value * 10 ** (m.times % 320));
        break;
    }
  }
  return box.root;
}

/** Fails unless `e` is a PlurisimError with a known code and a field; returns it. */
export function expectPlurisimError(e: unknown, what: string | { toString(): string }): PlurisimError {
  if (!(e instanceof PlurisimError)) {
    throw new Error(`${what}: expected a PlurisimError, got ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
  }
  if (!(ERROR_CODES as readonly string[]).includes(e.code)) throw new Error(`${what}: unknown error code ${e.code}`);
  if (typeof e.field !== "string" || e.field === "") throw new Error(`${what}: PlurisimError ${e.code} names no field: ${e.message}`);
  if (e.message.includes("[object Object]")) throw new Error(`${what}: unclear message: ${e.message}`);
  return e;
}

/** Throws when any number reachable in `value` is NaN (walked without recursion). */
export function expectNoNaN(value: unknown, what: string | { toString(): string }): void {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: "" }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === "number") {
      if (Number.isNaN(v)) throw new Error(`${what}: NaN at ${path || "(root)"}`);
    } else if (ArrayBuffer.isView(v)) {
      const arr = v as unknown as ArrayLike<number>;
      for (let i = 0; i < arr.length; i++) if (Number.isNaN(arr[i])) throw new Error(`${what}: NaN at ${path}[${i}]`);
    } else if (Array.isArray(v)) v.forEach((e, i) => stack.push({ v: e, path: `${path}[${i}]` }));
    else if (v !== null && typeof v === "object") for (const [k, e] of Object.entries(v)) stack.push({ v: e, path: `${path}.${k}` });
  }
}
