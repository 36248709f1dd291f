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

/** Characters a chunk of toJsonChunks holds before it is yielded (a chunk may end up to one member, or 1,024 numbers, past it). */
export const JSON_CHUNK_CHARS = 1 << 16;

/** Most numbers of an array written in one join. */
const NUMBER_RUN = 1024;

interface WriteFrame {
  node: object;
  /** Own enumerable keys of an object; null for an array. */
  keys: string[] | null;
  length: number;
  next: number;
  /** Members written so far (an object skips undefined members). */
  written: number;
  /** Indentation of this node's members, and of its closing bracket. */
  inner: string;
  outer: string;
}

/**
 * A value as it is written: toJSON applied (as JSON.stringify does), non-finite numbers as their
 * strings (as toJson does), boxed primitives unwrapped; undefined for what JSON leaves out
 * (undefined, functions, symbols).
 */
function jsonValue(v: unknown, key: string): unknown {
  if (v !== null && (typeof v === "object" || typeof v === "bigint")) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") v = toJSON.call(v, key);
  }
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  // JSON.stringify writes a boxed non-finite number as null: toJson's replacer sees only the box.
  if (v instanceof Number) return Number.isFinite(Number(v)) ? Number(v) : null;
  if (v instanceof String) return String(v);
  if (v instanceof Boolean) return v.valueOf();
  return typeof v === "function" || typeof v === "symbol" ? undefined : v;
}

/** JSON text of a primitive (after jsonValue), or null for an object or array. */
function primitiveText(v: unknown): string | null {
  if (v === null) return "null";
  switch (typeof v) {
    case "number":
      return String(v);
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    default:
      return null;
  }
}

/**
 * The text of toJson(value, indent), in chunks of about JSON_CHUNK_CHARS characters, so a value
 * whose text passes V8's longest string (about 2^29 characters: tens of millions of numbers)
 * can still be written. Joined, the chunks equal toJson's text; a value toJson writes as
 * undefined yields nothing. The walk keeps its own stack, and a cycle throws a TypeError as
 * JSON.stringify does.
 */
export function* toJsonChunks(value: unknown, indent?: number, chunkChars = JSON_CHUNK_CHARS): Generator<string, void, undefined> {
  const gap = indent !== undefined && indent >= 1 ? " ".repeat(Math.min(10, Math.floor(indent))) : "";
  const colon = gap ? ": " : ":";
  const frames: WriteFrame[] = [];
  // The nodes on the stack, to refuse a cycle in O(1) per node.
  const onStack = new Set<object>();
  let buf = "";

  /** Writes a primitive, or opens an object or array (pushing its frame). */
  const open = (v: unknown, outer: string): void => {
    const text = primitiveText(v);
    if (text !== null) {
      buf += text;
      return;
    }
    const node = v as object;
    if (onStack.has(node)) throw new TypeError("Converting circular structure to JSON");
    onStack.add(node);
    const keys = Array.isArray(node) ? null : Object.keys(node);
    const length = keys === null ? (node as unknown[]).length : keys.length;
    const inner = outer + gap;
    frames.push({ node, keys, length, next: 0, written: 0, inner, outer });
    // An array writes every element (undefined as null), so a non-empty one opens its first line here.
    buf += keys !== null ? "{" : length > 0 && gap ? `[\n${inner}` : "[";
  };

  const root = jsonValue(value, "");
  if (root === undefined) return;
  open(root, "");
  while (frames.length > 0) {
    if (buf.length >= chunkChars) {
      yield buf;
      buf = "";
    }
    const f = frames[frames.length - 1];
    if (f.keys === null) {
      const items = f.node as unknown[];
      const sep = gap ? `,\n${f.inner}` : ",";
      // Arrays of finite numbers are the bulk of a large result: write runs of them with join,
      // which formats numbers as JSON does (it would write NaN bare and null as "", hence the scan).
      while (f.next < f.length && buf.length < chunkChars) {
        const from = f.next;
        const limit = Math.min(f.length, from + NUMBER_RUN);
        let to = from;
        while (to < limit && typeof items[to] === "number" && Number.isFinite(items[to])) to++;
        if (to === from) break;
        buf += (from === 0 ? "" : sep) + (to - from === 1 ? String(items[from]) : items.slice(from, to).join(sep));
        f.next = to;
      }
      if (f.next < f.length && buf.length < chunkChars) {
        const i = f.next++;
        if (i > 0) buf += sep;
        const v = jsonValue(items[i], String(i));
        if (v === undefined) buf += "null";
        else open(v, f.inner);
      } else if (f.next >= f.length) {
        buf += f.length > 0 && gap ? `\n${f.outer}]` : "]";
        onStack.delete(frames.pop()!.node);
      }
    } else {
      if (f.next < f.length) {
        const key = f.keys[f.next++];
        const v = jsonValue((f.node as Record<string, unknown>)[key], key);
        if (v === undefined) continue;
        buf += `${f.written++ > 0 ? "," : ""}${gap ? `\n${f.inner}` : ""}${JSON.stringify(key)}${colon}`;
        open(v, f.inner);
      } else {
        buf += f.written > 0 && gap ? `\n${f.outer}}` : "}";
        onStack.delete(frames.pop()!.node);
      }
    }
  }
  if (buf.length > 0) yield buf;
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
