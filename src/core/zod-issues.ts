// From a failed zod parse of a document (a scenario, a sweep file) to one PlurisimError naming the
// field and showing the value. Only zod's public API is used: issue codes, paths and fields, the
// per-parse error map, and the schema classes with their accessors (shape, element, unwrap).
//
// Which text a problem gets is decided by where it comes from, never by reading message text: a
// schema's own `error` wins (zod applies it first), every other issue takes the per-parse
// `defaultProblem` below.
import * as z from "zod";
import { formatPath, invalidField, type ErrorCode, type PlurisimError } from "./errors.js";

const EXPECTED: Record<string, string> = {
  number: "must be a number",
  int: "must be an integer",
  string: "must be a string",
  boolean: "must be true or false",
  object: "must be an object",
  array: "must be an array",
  tuple: "must be an array",
  record: "must be an object",
};

/** The problem text of an issue whose schema gives none (zod's per-parse error map). */
export function defaultProblem(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return EXPECTED[issue.expected] ?? `must be of type ${issue.expected}`;
    case "invalid_value":
      return `must be ${issue.values.length === 1 ? "" : "one of "}${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      if (issue.origin === "array") return `must have ${small ? "at least" : "at most"} ${bound} entries`;
      const op = small ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      if (issue.origin === "string") return `must have ${op} ${bound} characters`;
      return `must be ${op} ${bound}`;
    }
    case "invalid_format":
      return `must match the format ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return "is not a known field";
    case "invalid_key":
      return "has an invalid key";
    case "invalid_element":
      return "has an invalid entry";
    default:
      return "has an invalid value";
  }
}

/** Options of issueToError. */
export interface IssueOptions {
  /** The error code of the document (INVALID_SCENARIO, INVALID_SWEEP). */
  code: ErrorCode;
  /** The document's schema: where a key is unknown, the known keys of that object are listed. */
  schema: z.ZodType;
  /** The field name of an issue path (default formatPath). */
  field?: (path: readonly PropertyKey[]) => string;
  /**
   * Where no alternative of a union fits the value: report the failure inside the one
   * alternative of the value's type, when exactly one has it (a sweep axis given as
   * {"linspace": ...} whose count is not an integer), instead of the union's own message.
   */
  intoUnions?: boolean;
}

const isRecord = (v: unknown): v is Record<PropertyKey, unknown> => v !== null && typeof v === "object";

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (!isRecord(v)) return undefined;
    v = v[key];
  }
  return v;
}

/** True when an alternative's issues begin past its type check (the value has the alternative's type). */
function typeFits(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.length > 0 && !issues.some((i) => i.code === "invalid_type" && i.path.length === 0);
}

/** Turns the first issue of a failed parse of `input` into a PlurisimError naming the field and the value. */
export function issueToError(issue: z.core.$ZodIssue, input: unknown, options: IssueOptions): PlurisimError {
  const fieldOf = options.field ?? formatPath;
  const path = issue.path;
  const field = fieldOf(path);
  const value = valueAt(input, path);
  const fail = (at: string, problem: string, got: unknown) => invalidField(at, problem, got, options.code);
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0];
      const keyPath = [...path, key];
      const known = keysAt(options.schema, input, path)?.filter((k) => k !== "$schema");
      const list = known ? `; known fields here: ${known.join(", ")}` : "";
      return fail(fieldOf(keyPath), `is not a known field${list}`, valueAt(input, keyPath));
    }
    case "invalid_union": {
      if (issue.discriminator !== undefined && issue.inclusive !== false) {
        // A discriminated union whose tag names no alternative (or is missing).
        const disc = issue.discriminator;
        const at = path[path.length - 1] === disc ? path : [...path, disc];
        const got = valueAt(input, at);
        const tags = "options" in issue ? (issue.options ?? []) : [];
        return fail(fieldOf(at), got === undefined ? "is required" : `must be one of ${tags.map((o) => JSON.stringify(o)).join(", ")}`, got);
      }
      if (options.intoUnions) {
        const fitting = issue.errors.filter(typeFits);
        if (fitting.length === 1) {
          const inner = fitting[0][0];
          return issueToError({ ...inner, path: [...path, ...inner.path] }, input, options);
        }
      }
      return fail(field, issue.message, value);
    }
    case "invalid_type":
      return fail(field, value === undefined ? "is required" : issue.message, value);
    default:
      return fail(field, issue.message, value);
  }
}

/**
 * The schema that `path` reaches in `schema` for this input (following optional, default and
 * prefault wrappers, the alternative of a union that the value selects, array elements, tuple
 * items and record values), or null when the path names nothing the schema knows.
 */
export function schemaAt(schema: z.ZodType, input: unknown, path: readonly PropertyKey[]): z.ZodType | null {
  let s: z.ZodType = schema;
  let v: unknown = input;
  let i = 0;
  for (let guard = 0; guard < 1000; guard++) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
      continue;
    }
    if (s instanceof z.ZodDiscriminatedUnion) {
      const disc = s.def.discriminator;
      const tag = isRecord(v) ? v[disc] : undefined;
      const match = (s.options as z.ZodType[]).find((o) => {
        const literal = o instanceof z.ZodObject ? o.shape[disc] : undefined;
        return literal instanceof z.ZodLiteral && literal.values.has(tag as z.core.util.Literal);
      });
      if (!match) return null;
      s = match;
      continue;
    }
    if (s instanceof z.ZodUnion) {
      // The alternative of the value's kind: an object, an array, or (at the end of the path) any.
      const options = s.options as z.ZodType[];
      const match = Array.isArray(v)
        ? options.find((o) => o instanceof z.ZodArray || o instanceof z.ZodTuple)
        : isRecord(v)
          ? options.find((o) => o instanceof z.ZodObject || o instanceof z.ZodRecord)
          : undefined;
      if (!match) return i === path.length ? s : null;
      s = match;
      continue;
    }
    if (i === path.length) return s;
    const key = path[i++];
    let next: z.ZodType | undefined;
    if (s instanceof z.ZodObject) next = typeof key === "string" && Object.hasOwn(s.shape, key) ? (s.shape[key] as z.ZodType) : undefined;
    else if (s instanceof z.ZodArray) next = s.element as z.ZodType;
    else if (s instanceof z.ZodTuple) next = typeof key === "number" ? (s.def.items[key] as z.ZodType | undefined) : undefined;
    else if (s instanceof z.ZodRecord) next = s.valueType as z.ZodType;
    if (!next) return null;
    s = next;
    v = isRecord(v) ? v[key] : undefined;
  }
  return null;
}

/** The keys of the object schema that `path` reaches for this input, or null when it is no object. */
export function keysAt(schema: z.ZodType, input: unknown, path: readonly PropertyKey[]): string[] | null {
  const s = schemaAt(schema, input, path);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : null;
}
