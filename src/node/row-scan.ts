// A sweep row read straight from its bytes, keeping only what a figure draws: the fields that
// identify the cell, its status (and error) and the named final metrics. Every byte of the line
// is still checked against the JSON grammar, but the metrics a figure does not draw become no
// objects, numbers or strings. A line it is not sure of (an escaped, non-ASCII or `__proto__`
// key, deep nesting, a field of the wrong type, anything not JSON) gets `undefined` back, and the
// caller reads it with JSON.parse and checkRow, which accept or refuse it with their own message.
// The values it keeps are those JSON.parse gives, with "Infinity", "-Infinity" and "NaN"
// strings restored to numbers as plot-input.ts's parseJson does.
//
// The helpers take a position and return the next one, -1 when the line is not theirs to read:
// plain loops over local variables, no strings made for keys or skipped values.
import type { ErrorRow, OkRow, Row } from "../core/types.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** Nesting a skipped value may have before the line goes to JSON.parse (rows nest about 4 deep). */
const MAX_DEPTH = 32;

const NON_FINITE: Record<string, number> = { Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN };

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function skipWs(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = b[p];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  return p;
}

/** Set by skipString: whether the string it skipped was ASCII without escapes (its bytes are its text). */
let plain = true;

/** Past a string (p at its opening quote), or -1. */
function skipString(b: Uint8Array, p: number, end: number): number {
  plain = true;
  p++;
  for (;;) {
    if (p >= end) return -1;
    const c = b[p++];
    if (c === QUOTE) return p;
    if (c < 0x20) return -1;
    if (c >= 0x80) plain = false;
    else if (c === BACKSLASH) {
      plain = false;
      if (p >= end) return -1;
      const e = b[p++];
      if (e === 0x75) {
        if (p + 4 > end) return -1;
        for (let k = 0; k < 4; k++) if (!isHex(b[p++])) return -1;
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
    }
  }
}

/** Past a number (-?int frac? exp?), or -1. */
function skipNumber(b: Uint8Array, p: number, end: number): number {
  if (p < end && b[p] === 0x2d) p++;
  if (p >= end) return -1;
  if (b[p] === 0x30) p++;
  else if (b[p] >= 0x31 && b[p] <= 0x39) while (p < end && isDigit(b[p])) p++;
  else return -1;
  if (p < end && b[p] === 0x2e) {
    p++;
    if (!(p < end && isDigit(b[p]))) return -1;
    while (p < end && isDigit(b[p])) p++;
  }
  if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
    p++;
    if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) p++;
    if (!(p < end && isDigit(b[p]))) return -1;
    while (p < end && isDigit(b[p])) p++;
  }
  return p;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The double of the number literal b[s, e) (already checked by skipNumber). With at most 2^53 as
 * the digits and a power of ten up to 10^22 both are exact doubles, so one multiplication or
 * division rounds correctly (Clinger's fast path); anything else is read by Number, which, like
 * JSON.parse, rounds correctly.
 */
function numberAt(b: Buffer, s: number, e: number): number {
  let p = s;
  const negative = b[p] === 0x2d;
  if (negative) p++;
  let m = 0;
  let digits = 0;
  let scale = 0;
  while (p < e && isDigit(b[p])) {
    m = m * 10 + (b[p++] - 0x30);
    if (m !== 0) digits++;
  }
  if (p < e && b[p] === 0x2e) {
    p++;
    while (p < e && isDigit(b[p])) {
      m = m * 10 + (b[p++] - 0x30);
      if (m !== 0) digits++;
      scale--;
    }
  }
  if (p === e && digits <= 15 && scale >= -22) {
    const v = scale === 0 ? m : m / POW10[-scale];
    return negative ? -v : v;
  }
  return Number(b.toString("latin1", s, e));
}

/** Past any value (grammar checked), or -1. */
function skipValue(b: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end) return -1;
  const c = b[p];
  if (c === QUOTE) return skipString(b, p, end);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    if (depth >= MAX_DEPTH) return -1;
    const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
    p = skipWs(b, p + 1, end);
    if (p < end && b[p] === close) return p + 1;
    for (;;) {
      if (c === OPEN_OBJECT) {
        if (p >= end || b[p] !== QUOTE) return -1;
        p = skipWs(b, skipString(b, p, end), end);
        if (p < 0 || p >= end || b[p] !== COLON) return -1;
        p = skipWs(b, p + 1, end);
      }
      p = skipValue(b, p, end, depth + 1);
      if (p < 0) return -1;
      p = skipWs(b, p, end);
      if (p >= end) return -1;
      const d = b[p++];
      if (d === close) return p;
      if (d !== COMMA) return -1;
      p = skipWs(b, p, end);
    }
  }
  if (c === 0x74) return literal(b, p, end, TRUE);
  if (c === 0x66) return literal(b, p, end, FALSE);
  if (c === 0x6e) return literal(b, p, end, NULL);
  return skipNumber(b, p, end);
}

/** Past a number or a list of numbers (most metrics), else skipValue; -1 when not JSON. */
function skipMetric(b: Uint8Array, p: number, end: number): number {
  const c = b[p];
  if (c !== OPEN_ARRAY) return c === 0x2d || isDigit(c) ? skipNumber(b, p, end) : skipValue(b, p, end, 2);
  let q = skipWs(b, p + 1, end);
  if (q < end && b[q] === CLOSE_ARRAY) return q + 1;
  for (;;) {
    const c2 = b[q];
    if (!(c2 === 0x2d || isDigit(c2))) return skipValue(b, p, end, 2);
    q = skipNumber(b, q, end);
    if (q < 0) return -1;
    if (q < end && b[q] === COMMA) q++;
    else {
      q = skipWs(b, q, end);
      if (q >= end) return -1;
      if (b[q] === CLOSE_ARRAY) return q + 1;
      if (b[q] !== COMMA) return -1;
      q++;
    }
    q = skipWs(b, q, end);
  }
}

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const TRUE = bytes("true");
const FALSE = bytes("false");
const NULL = bytes("null");

function literal(b: Uint8Array, p: number, end: number, word: Uint8Array): number {
  if (p + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[p + k] !== word[k]) return -1;
  return p + word.length;
}

/** Whether b[s, e) holds exactly these bytes. */
function same(b: Uint8Array, s: number, e: number, word: Uint8Array): boolean {
  if (e - s !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[s + k] !== word[k]) return false;
  return true;
}

/** Where readValue leaves off (a second return value, to make no pair per value). */
let next = 0;

/**
 * The value at p as JSON.parse and parseJson's restoring give it, setting `next` past it; undefined
 * (with next = -1) when the line is not the scanner's to read. Objects and arrays other than
 * lists of numbers are read by `parse` from their own text.
 */
function readValue(b: Buffer, p: number, end: number, parse: (text: string) => unknown): unknown {
  if (p >= end) return (next = -1), undefined;
  const c = b[p];
  if (c === QUOTE) {
    next = skipString(b, p, end);
    if (next < 0) return undefined;
    const s = plain ? b.toString("latin1", p + 1, next - 1) : (JSON.parse(b.toString("utf8", p, next)) as string);
    return Object.hasOwn(NON_FINITE, s) ? NON_FINITE[s] : s;
  }
  if (c === OPEN_ARRAY) {
    const list = numberList(b, p, end);
    if (list) return list;
  }
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    next = skipValue(b, p, end, 1);
    return next < 0 ? undefined : parse(b.toString("utf8", p, next));
  }
  if (c === 0x74 || c === 0x66 || c === 0x6e) {
    next = literal(b, p, end, c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL);
    return c === 0x74 ? true : c === 0x66 ? false : null;
  }
  next = skipNumber(b, p, end);
  return next < 0 ? undefined : numberAt(b, p, next);
}

const scratch: number[] = [];

/** A list of numbers only (basinMass), setting `next`; null for any other array. */
function numberList(b: Buffer, p: number, end: number): number[] | null {
  // Read into one scratch list and copied out at its length (a pushed-to array keeps spare room).
  const out = scratch;
  out.length = 0;
  p = skipWs(b, p + 1, end);
  if (p < end && b[p] === CLOSE_ARRAY) {
    next = p + 1;
    return [];
  }
  for (;;) {
    const e = skipNumber(b, p, end);
    if (e < 0) return null;
    out.push(numberAt(b, p, e));
    p = skipWs(b, e, end);
    if (p >= end) return null;
    const d = b[p++];
    if (d === CLOSE_ARRAY) {
      next = p;
      return out.slice();
    }
    if (d !== COMMA) return null;
    p = skipWs(b, p, end);
  }
}

/** Past a key and its colon (p at the key's quote), checking it is plain ASCII and not __proto__; -1 otherwise. Sets keyEnd. */
let keyEnd = 0;
function skipKey(b: Uint8Array, p: number, end: number): number {
  if (p >= end || b[p] !== QUOTE) return -1;
  const e = skipString(b, p, end);
  if (e < 0 || !plain || same(b, p + 1, e - 1, PROTO)) return -1;
  keyEnd = e - 1;
  p = skipWs(b, e, end);
  if (p >= end || b[p] !== COLON) return -1;
  return skipWs(b, p + 1, end);
}

/** After a member: past its comma (> 0), at the object's end (0 and `next` past the brace), or -1. */
function afterMember(b: Uint8Array, p: number, end: number): number {
  p = skipWs(b, p, end);
  if (p >= end) return -1;
  const d = b[p];
  if (d === CLOSE_OBJECT) {
    next = p + 1;
    return 0;
  }
  if (d !== COMMA) return -1;
  return skipWs(b, p + 1, end);
}

/**
 * Reads an object's members (p at its `{`): `member` gets the key's bytes b[ks, ke) and the
 * position of its value, and returns the position past the value (-1: not the scanner's line).
 * Returns the position past the object's `}`, or -1.
 */
function eachMember(b: Uint8Array, p: number, end: number, member: (ks: number, ke: number, at: number) => number): number {
  p = skipWs(b, p + 1, end);
  if (p < end && b[p] === CLOSE_OBJECT) return p + 1;
  for (;;) {
    const ks = p + 1;
    p = skipKey(b, p, end);
    if (p < 0) return -1;
    p = member(ks, keyEnd, p);
    if (p < 0) return -1;
    p = afterMember(b, p, end);
    if (p <= 0) return p < 0 ? -1 : next;
  }
}

const PROTO = bytes("__proto__");
const OK = bytes('"ok"');
const KEYS = {
  cell: bytes("cell"),
  replicate: bytes("replicate"),
  params: bytes("params"),
  seed: bytes("seed"),
  durationMs: bytes("durationMs"),
  status: bytes("status"),
  final: bytes("final"),
  error: bytes("error"),
  errorCode: bytes("errorCode"),
  engine: bytes("engine"),
};

/**
 * The parameter names seen so far, by their bytes: rows name the same few parameters, so each
 * name is made as a string once.
 */
class KeyNames {
  private readonly seen: { bytes: Uint8Array; text: string }[] = [];
  private last = 0;

  name(b: Buffer, s: number, e: number): string {
    const n = this.seen.length;
    // Rows list their parameters in the same order: try the one after the last match first.
    for (let k = 0; k < n; k++) {
      const i = (this.last + 1 + k) % n;
      if (same(b, s, e, this.seen[i].bytes)) {
        this.last = i;
        return this.seen[i].text;
      }
    }
    const text = b.toString("latin1", s, e);
    if (n < 256) {
      this.seen.push({ bytes: Uint8Array.from(b.subarray(s, e)), text });
      this.last = n;
    }
    return text;
  }
}

/**
 * Parameter values by their bytes: a sweep's parameters take few values each, so most are found
 * here (a table indexed by a hash of the bytes) instead of being read again. Sets `next`.
 */
class NumberCache {
  private static readonly SIZE = 4096;
  private static readonly WIDTH = 32;
  private readonly text = new Uint8Array(NumberCache.SIZE * NumberCache.WIDTH);
  private readonly length = new Int32Array(NumberCache.SIZE);
  private readonly value = new Float64Array(NumberCache.SIZE);

  read(b: Buffer, p: number, end: number): number {
    const e = skipNumber(b, p, end);
    next = e;
    if (e < 0) return NaN;
    const n = e - p;
    if (n > NumberCache.WIDTH) return numberAt(b, p, e);
    let h = 0x811c9dc5;
    for (let k = p; k < e; k++) h = Math.imul(h ^ b[k], 0x01000193);
    const slot = (h >>> 0) & (NumberCache.SIZE - 1);
    const at = slot * NumberCache.WIDTH;
    const text = this.text;
    if (this.length[slot] === n) {
      let k = 0;
      while (k < n && text[at + k] === b[p + k]) k++;
      if (k === n) return this.value[slot];
    }
    const v = numberAt(b, p, e);
    for (let k = 0; k < n; k++) text[at + k] = b[p + k];
    this.length[slot] = n;
    this.value[slot] = v;
    return v;
  }
}

/** A reader of rows from their bytes, for one file: what it keeps of `final`, and the parameter names it has met. */
export interface RowScanner {
  /** The slim row of b[start, end) (one line, no newline), or undefined when JSON.parse and checkRow must read it. */
  scan(b: Buffer, start: number, end: number): Row | undefined;
}

/**
 * A scanner keeping what readSweepRows keeps with `whole: false` and these final metrics (`keep`,
 * by name, in this order); `parse` reads a nested value from its text (plot-input.ts's parseJson).
 */
export function rowScanner(keep: readonly string[], parse: (text: string) => unknown): RowScanner {
  const keepBytes = keep.map(bytes);
  const names = new KeyNames();
  const numbers = new NumberCache();
  // One row's fields, set by the member readers below (made once per scanner, not per row).
  let b: Buffer;
  let end = 0;
  let cell: unknown, replicate: unknown, params: Record<string, unknown>, seed: unknown, durationMs: unknown, status: unknown, error: unknown, errorCode: unknown, engine: unknown;
  let paramsValue: unknown;
  let final: Record<string, unknown> | null | undefined;
  const param = (ks: number, ke: number, p: number): number => {
    const k = names.name(b, ks, ke);
    const c = b[p];
    params[k] = c === 0x2d || isDigit(c) ? numbers.read(b, p, end) : readValue(b, p, end, parse);
    return next;
  };
  const metric = (ks: number, ke: number, p: number): number => {
    let i = keepBytes.length - 1;
    while (i >= 0 && !same(b, ks, ke, keepBytes[i])) i--;
    if (i < 0) return skipMetric(b, p, end);
    final![keep[i]] = readValue(b, p, end, parse);
    return next;
  };
  const field = (ks: number, ke: number, p: number): number => {
    if (same(b, ks, ke, KEYS.params) && b[p] === OPEN_OBJECT) {
      params = {};
      paramsValue = params;
      return eachMember(b, p, end, param);
    }
    if (same(b, ks, ke, KEYS.final) && b[p] === OPEN_OBJECT) {
      final = {};
      return eachMember(b, p, end, metric);
    }
    if (same(b, ks, ke, KEYS.status) && p + 4 <= end && same(b, p, p + 4, OK)) {
      status = "ok";
      return p + 4;
    }
    const known =
      same(b, ks, ke, KEYS.cell) || same(b, ks, ke, KEYS.replicate) || same(b, ks, ke, KEYS.seed) || same(b, ks, ke, KEYS.durationMs) || same(b, ks, ke, KEYS.error) || same(b, ks, ke, KEYS.errorCode) || same(b, ks, ke, KEYS.engine) || same(b, ks, ke, KEYS.params) || same(b, ks, ke, KEYS.final) || same(b, ks, ke, KEYS.status);
    if (!known) return skipValue(b, p, end, 1);
    const v = readValue(b, p, end, parse);
    if (next < 0) return -1;
    if (same(b, ks, ke, KEYS.cell)) cell = v;
    else if (same(b, ks, ke, KEYS.replicate)) replicate = v;
    else if (same(b, ks, ke, KEYS.seed)) seed = v;
    else if (same(b, ks, ke, KEYS.durationMs)) durationMs = v;
    else if (same(b, ks, ke, KEYS.error)) error = v;
    else if (same(b, ks, ke, KEYS.errorCode)) errorCode = v;
    else if (same(b, ks, ke, KEYS.engine)) engine = v;
    else if (same(b, ks, ke, KEYS.params)) paramsValue = v;
    else if (same(b, ks, ke, KEYS.status)) status = v;
    else if (v === null) final = null;
    else return -1; // final that is neither an object nor null: checkRow names it
    return next;
  };
  const begin = (buf: Buffer, stop: number): void => {
    b = buf;
    end = stop;
    cell = replicate = paramsValue = seed = durationMs = status = error = errorCode = engine = final = undefined;
  };
  const scan = (buf: Buffer, start: number, stop: number): Row | undefined => {
    begin(buf, stop);
    const p = skipWs(b, start, end);
    if (p >= end || b[p] !== OPEN_OBJECT) return undefined;
    const after = eachMember(b, p, end, field);
    if (after < 0 || skipWs(b, after, end) !== end) return undefined;
    // checkRow's checks; a row that fails one is read again by the caller, which names the field.
    if (!Number.isSafeInteger(cell) || (cell as number) < 0) return undefined;
    if (!isObject(paramsValue)) return undefined;
    if (status !== "ok" && status !== "error") return undefined;
    if (replicate !== undefined && typeof replicate !== "number") return undefined;
    if (engine !== undefined && engine !== null && !(isObject(engine) && typeof engine.version === "string" && typeof engine.wasmSha256 === "string")) return undefined;
    // Object literals of one shape, as readSweepRows writes them: every row then shares its map.
    if (status === "error") {
      return { cell: cell as number, replicate: replicate as number, params: paramsValue, seed: seed as number, durationMs: durationMs as number, status: "error", error: error as string, errorCode: errorCode as ErrorRow["errorCode"] };
    }
    // The kept metrics in the order of `keep`, as readSweepRows writes them.
    let kept = final;
    if (final && keep.length > 1) {
      kept = {};
      for (const k of keep) if (Object.hasOwn(final, k)) kept[k] = final[k];
    }
    return { cell: cell as number, replicate: replicate as number, params: paramsValue, seed: seed as number, durationMs: durationMs as number, status: "ok", final: kept as OkRow["final"] };
  };
  return { scan };
}
