// Axis value lists: a plain list, a linspace, a logspace or an integer range (runs anywhere).
import { dmath } from "../core/detmath.js";
import { formatValue, PlurisimError } from "../core/errors.js";

/** Largest number of values one axis may expand to (a guard against typos such as linspace n = 1e9). */
export const MAX_AXIS_VALUES = 10_000_000;

function bad(field: string, problem: string, value: unknown): never {
  throw new PlurisimError("INVALID_SWEEP", `${field} ${problem} (got ${formatValue(value)})`, { field, value });
}

function finite(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * The values of one axis: a non-empty list, `{ "linspace": [a, b, n] }` (n points from a to b
 * inclusive, numpy's formula a + k (b - a)/(n - 1), the last exactly b), `{ "logspace": [a, b, n] }`
 * (10^ of a linspace, as numpy), or `{ "range": [start, stop, step?] }` (integers from start up to
 * but excluding stop, as Python's range; step defaults to 1 and may be negative).
 */
export function expandAxis(spec: unknown, field: string): unknown[] {
  if (Array.isArray(spec)) {
    if (spec.length === 0) bad(field, "is an empty axis: give at least one value", spec);
    spec.forEach((v, i) => {
      if (typeof v === "number" && !Number.isFinite(v)) bad(`${field}[${i}]`, "must be a finite number (write \"inf\" for K = infinity)", v);
      if (v === undefined) bad(`${field}[${i}]`, "is missing", v);
    });
    return spec;
  }
  if (spec === null || typeof spec !== "object") {
    bad(field, 'must be a list of values or one of {"linspace": [a, b, n]}, {"logspace": [a, b, n]}, {"range": [start, stop, step]}', spec);
  }
  const keys = Object.keys(spec);
  if (keys.length !== 1 || !["linspace", "logspace", "range"].includes(keys[0])) {
    bad(field, 'must be a list of values or one of {"linspace": [a, b, n]}, {"logspace": [a, b, n]}, {"range": [start, stop, step]}', spec);
  }
  const kind = keys[0];
  const args = (spec as Record<string, unknown>)[kind];
  const f = `${field}.${kind}`;
  if (!Array.isArray(args)) bad(f, "must be a list of numbers", args);
  if (kind === "range") {
    if (args.length < 2 || args.length > 3) bad(f, "must be [start, stop] or [start, stop, step]", args);
    args.forEach((v, i) => {
      if (!Number.isSafeInteger(v)) bad(`${f}[${i}]`, "must be an integer", v);
    });
    const [start, stop, step = 1] = args as number[];
    if (step === 0) bad(`${f}[2]`, "(step) must not be 0", step);
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (count === 0) bad(f, "is an empty axis: the range holds no integer", args);
    if (count > MAX_AXIS_VALUES) bad(f, `expands to ${count} values, over the limit of ${MAX_AXIS_VALUES} per axis`, args);
    return Array.from({ length: count }, (_, k) => start + k * step);
  }
  if (args.length !== 3) bad(f, "must be [start, stop, count]", args);
  const [a, b, n] = args as unknown[];
  if (!finite(a)) bad(`${f}[0]`, "(start) must be a finite number", a);
  if (!finite(b)) bad(`${f}[1]`, "(stop) must be a finite number", b);
  if (!Number.isSafeInteger(n) || (n as number) < 0) bad(`${f}[2]`, "(count) must be a non-negative integer", n);
  const count = n as number;
  if (count === 0) bad(f, "is an empty axis: count is 0", args);
  if (count > MAX_AXIS_VALUES) bad(`${f}[2]`, `(count) is over the limit of ${MAX_AXIS_VALUES} per axis`, n);
  const step = count > 1 ? (b - a) / (count - 1) : 0;
  const lin = Array.from({ length: count }, (_, k) => (k === count - 1 && count > 1 ? b : a + k * step));
  return kind === "linspace" ? lin : lin.map((e) => dmath.pow(10, e));
}
