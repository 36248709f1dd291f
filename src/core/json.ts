import { formatPath, formatValue, PlurisimError, type ErrorCode } from "./errors.js";
import { FORBIDDEN_KEYS, MAX_ARRAY_LENGTH, MAX_JSON_DEPTH, MAX_STRING_LENGTH } from "./limits.js";

/**
 * JSON text of a result. JSON has no Infinity or NaN, and an infinite KL is a real answer
 * (docs/model.md, section 7), so non-finite numbers are written as the strings "Infinity",
 * "-Infinity" and "NaN" instead of JSON.stringify's silent null.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), indent);
}

interface Frame {
  node: object;
  /** Own keys of an object; null for an array. */
  keys: string[] | null;
  length: number;
  next: number;
  /** The key of this node in its parent (unused for the root). */
  key: string | number;
}

const forbidden = new Set(FORBIDDEN_KEYS);

/**
 * Checks the shape of a parsed JSON document before it is validated: nesting at most
 * MAX_JSON_DEPTH deep, no `__proto__`, `constructor` or `prototype` key (JSON.parse makes
 * `__proto__` an own key, which an assignment-based copy would turn into a prototype), strings
 * at most MAX_STRING_LENGTH long and arrays at most MAX_ARRAY_LENGTH long. The walk keeps its
 * own stack (one frame per level), so no depth of input can overflow the call stack. Throws a
 * PlurisimError with `code`, naming the field (under `prefix`, or `root` at the top).
 */
export function checkJsonDocument(doc: unknown, code: ErrorCode, root: string, prefix: readonly (string | number)[] = []): void {
  const frames: Frame[] = [];
  const pathTo = (key?: string | number): (string | number)[] => {
    const keys = frames.slice(1).map((f) => f.key);
    if (key !== undefined && frames.length > 0) keys.push(key);
    return [...prefix, ...keys];
  };
  const fail = (path: (string | number)[], problem: string, value: unknown, shown = true): never => {
    const field = formatPath(path) || root;
    throw new PlurisimError(code, `${field} ${problem}${shown ? ` (got ${formatValue(value)})` : ""}`, { field, value });
  };
  const visit = (v: unknown, key?: string | number): void => {
    if (typeof v === "string") {
      if (v.length > MAX_STRING_LENGTH) fail(pathTo(key), `is a string of ${v.length} characters, over the limit of ${MAX_STRING_LENGTH}`, v);
      return;
    }
    if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return;
    if (frames.length >= MAX_JSON_DEPTH) {
      // Name the first levels only: the full path of a deeply nested value is as long as the nesting.
      const path = pathTo(key);
      const shownPath = formatPath(path.slice(0, prefix.length + 8)) + (path.length > prefix.length + 8 ? "..." : "");
      throw new PlurisimError(code, `${shownPath || root} is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects inside each other); a valid document nests fewer than 10`, {
        field: shownPath || root,
        value: `[nested ${MAX_JSON_DEPTH}+ levels]`,
      });
    }
    if (Array.isArray(v)) {
      if (v.length > MAX_ARRAY_LENGTH) fail(pathTo(key), `has ${v.length} entries, over the limit of ${MAX_ARRAY_LENGTH}`, `[${v.length} entries]`);
      frames.push({ node: v, keys: null, length: v.length, next: 0, key: key ?? "" });
    } else {
      const keys = Object.keys(v);
      for (const k of keys) {
        if (forbidden.has(k)) fail([...pathTo(key), k], `is not allowed: ${FORBIDDEN_KEYS.join(", ")} are refused as keys`, k, false);
      }
      frames.push({ node: v, keys, length: keys.length, next: 0, key: key ?? "" });
    }
  };
  visit(doc);
  while (frames.length > 0) {
    const top = frames[frames.length - 1];
    if (top.next >= top.length) {
      frames.pop();
      continue;
    }
    const i = top.next++;
    if (top.keys === null) {
      const child = (top.node as unknown[])[i];
      // Numbers are the bulk of a large document: skip them without a call.
      if (typeof child !== "number") visit(child, i);
    } else {
      const k = top.keys[i];
      visit((top.node as Record<string, unknown>)[k], k);
    }
  }
}
