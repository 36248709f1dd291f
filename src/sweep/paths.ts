// Parameter paths such as `curation.K` or `groups[0].reward.center`: parsing, reading and
// writing them on plain JSON objects. Runs anywhere (no `node:` imports).
import { PlurisimError } from "../core/errors.js";
import { FORBIDDEN_KEYS } from "../core/limits.js";

/** One step of a path: an object key or an array index. */
export type PathKey = string | number;

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$/;

/** Splits `groups[0].reward.center` into ["groups", 0, "reward", "center"]; throws INVALID_SWEEP on bad syntax. */
export function parsePath(path: string, field: string): PathKey[] {
  if (typeof path !== "string" || !PATH_RE.test(path)) {
    throw new PlurisimError(
      "INVALID_SWEEP",
      `${field}: ${JSON.stringify(path)} is not a parameter path (write names joined by "." with [i] for array entries, e.g. "groups[0].reward.center")`,
      { field, value: path },
    );
  }
  const keys: PathKey[] = [];
  for (const m of path.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (m[1] !== undefined && FORBIDDEN_KEYS.includes(m[1])) {
      throw new PlurisimError("INVALID_SWEEP", `${field}: ${JSON.stringify(path)} steps through ${JSON.stringify(m[1])}, which is not allowed (${FORBIDDEN_KEYS.join(", ")} are refused as path segments)`, {
        field,
        value: path,
      });
    }
    keys.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return keys;
}

/** The value at `keys` in `obj`, or undefined when a step is missing. */
export function getPath(obj: unknown, keys: readonly PathKey[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== "object") return undefined;
    if (typeof k === "number") {
      if (!Array.isArray(cur) || k >= cur.length) return undefined;
      cur = cur[k];
    } else {
      if (Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
      cur = (cur as Record<string, unknown>)[k];
    }
  }
  return cur;
}

/**
 * Sets the value at `keys` in `obj` (mutating it; undefined removes an object key), creating missing objects along the way. An
 * array index must exist already and an object key cannot step into a number or string: those
 * throw INVALID_SWEEP naming `path`.
 */
export function setPath(obj: Record<string, unknown>, keys: readonly PathKey[], value: unknown, path: string, field: string): void {
  let cur: unknown = obj;
  for (let d = 0; d < keys.length; d++) {
    const k = keys[d];
    const last = d === keys.length - 1;
    const where = keys.slice(0, d).length === 0 ? "the scenario" : describe(keys.slice(0, d));
    if (typeof k === "number") {
      if (!Array.isArray(cur)) fail(path, field, `${where} is not an array, so [${k}] does not exist`);
      const arr = cur as unknown[];
      if (k >= arr.length) fail(path, field, `${where} has ${arr.length} entries, so [${k}] does not exist`);
      if (last) arr[k] = value;
      else {
        if (arr[k] === undefined || arr[k] === null) arr[k] = {};
        cur = arr[k];
      }
    } else {
      if (FORBIDDEN_KEYS.includes(k)) fail(path, field, `${k} is not allowed as a path segment`);
      if (cur === null || typeof cur !== "object" || Array.isArray(cur)) fail(path, field, `${where} is not an object, so .${k} does not exist`);
      const o = cur as Record<string, unknown>;
      // undefined unsets the field (the page clears an input so that its default applies).
      if (last) {
        if (value === undefined) delete o[k];
        else o[k] = value;
      }
      else {
        if (!Object.hasOwn(o, k) || o[k] === undefined || o[k] === null) o[k] = typeof keys[d + 1] === "number" ? [] : {};
        cur = o[k];
      }
    }
  }
}

function describe(keys: readonly PathKey[]): string {
  return keys.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

function fail(path: string, field: string, why: string): never {
  throw new PlurisimError("INVALID_SWEEP", `${field}: unknown parameter path ${JSON.stringify(path)}: ${why}`, { field, value: path });
}

/** A deep copy of a JSON value (structuredClone is in every runtime we target). */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}
