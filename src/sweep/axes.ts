// Axis value lists: a plain list, a linspace, a logspace or an integer range (runs anywhere). The
// zod schema of an axis is part of the sweep file's schema (src/sweep/spec.ts); expandAxis turns a
// validated axis into its values and checks what a schema cannot (counts, empty ranges).
import * as z from "zod";
import { dmath } from "../core/detmath.js";
import { formatValue, PlurisimError } from "../core/errors.js";

/** Largest number of values one axis may expand to (a guard against typos such as linspace n = 1e9). */
export const MAX_AXIS_VALUES = 10_000_000;

function bad(field: string, problem: string, value: unknown): never {
  throw new PlurisimError("INVALID_SWEEP", `${field} ${problem} (got ${formatValue(value)})`, { field, value });
}

const AXIS_FORMS = 'must be a list of values or one of {"linspace": [a, b, n]}, {"logspace": [a, b, n]}, {"range": [start, stop, step]}';

/** [start, stop, count] of a linspace or logspace. */
const spaced = (description: string) =>
  z
    .tuple(
      [
        z.number({ error: "(start) must be a finite number" }),
        z.number({ error: "(stop) must be a finite number" }),
        z.int({ error: "(count) must be a non-negative integer" }).min(0, { error: "(count) must be a non-negative integer" }),
      ],
      { error: (issue) => (issue.code === "invalid_type" ? "must be a list of numbers" : "must be [start, stop, count]") },
    )
    .meta({ description });

const RANGE_SHAPE = "must be [start, stop] or [start, stop, step]";
const range = z
  .array(z.int({ error: "must be an integer" }), { error: "must be a list of numbers" })
  .min(2, { error: RANGE_SHAPE })
  .max(3, { error: RANGE_SHAPE })
  .meta({ description: "Integers from start up to but excluding stop, as Python's range; step defaults to 1 and may be negative." });

/**
 * One axis: a non-empty list of values, `{ "linspace": [a, b, n] }` (n points from a to b
 * inclusive), `{ "logspace": [a, b, n] }` (10^ of a linspace) or `{ "range": [start, stop, step?] }`.
 */
export const axisSchema = z.union(
  [
    z.array(z.unknown(), { error: AXIS_FORMS }).min(1, { error: "is an empty axis: give at least one value" }).meta({ description: "The values, in order." }),
    z
      .strictObject(
        {
          linspace: spaced("n points from a to b inclusive (numpy's linspace; the last is exactly b).").optional(),
          logspace: spaced("10^ of a linspace from a to b (numpy's logspace).").optional(),
          range: range.optional(),
        },
        { error: AXIS_FORMS },
      )
      .refine((o) => Object.keys(o).length === 1, { error: AXIS_FORMS })
      .meta({ minProperties: 1, maxProperties: 1 }),
  ],
  { error: AXIS_FORMS },
);

/** A validated axis. */
export type AxisSpec = z.output<typeof axisSchema>;

/**
 * The values of a validated axis. A linspace follows numpy's formula a + k (b - a)/(n - 1), the
 * last exactly b; a range is Python's. Throws INVALID_SWEEP for an axis with no value or more
 * than MAX_AXIS_VALUES, a zero step, and (from code that builds axes itself) non-finite numbers.
 */
export function expandAxis(spec: AxisSpec, field: string): unknown[] {
  if (Array.isArray(spec)) {
    if (spec.length === 0) bad(field, "is an empty axis: give at least one value", spec);
    spec.forEach((v, i) => {
      if (typeof v === "number" && !Number.isFinite(v)) bad(`${field}[${i}]`, "must be a finite number (write \"inf\" for K = infinity)", v);
      if (v === undefined) bad(`${field}[${i}]`, "is missing", v);
    });
    return spec;
  }
  if (spec.range) {
    const f = `${field}.range`;
    const [start, stop, step = 1] = spec.range;
    if (step === 0) bad(`${f}[2]`, "(step) must not be 0", step);
    const count = Math.max(0, Math.ceil((stop - start) / step));
    if (count === 0) bad(f, "is an empty axis: the range holds no integer", spec.range);
    if (count > MAX_AXIS_VALUES) bad(f, `expands to ${count} values, over the limit of ${MAX_AXIS_VALUES} per axis`, spec.range);
    return Array.from({ length: count }, (_, k) => start + k * step);
  }
  const kind = spec.linspace ? "linspace" : "logspace";
  const args = spec.linspace ?? spec.logspace;
  if (!args) bad(field, AXIS_FORMS, spec);
  const f = `${field}.${kind}`;
  const [a, b, count] = args;
  if (count === 0) bad(f, "is an empty axis: count is 0", args);
  if (count > MAX_AXIS_VALUES) bad(`${f}[2]`, `(count) is over the limit of ${MAX_AXIS_VALUES} per axis`, count);
  const step = count > 1 ? (b - a) / (count - 1) : 0;
  const lin = Array.from({ length: count }, (_, k) => (k === count - 1 && count > 1 ? b : a + k * step));
  return kind === "linspace" ? lin : lin.map((e) => dmath.pow(10, e));
}
