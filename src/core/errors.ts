// The one error class of plurisim. Callers and tests branch on `code`, never on message text;
// the message names the field and shows the offending value.

import { sanitizeForTerminal } from "./text.js";

/** Stable error codes. All but SERVER_ERROR_CODES are problems with the input (CLI exit code 2). */
export const ERROR_CODES = [
  /** The scenario document breaks the schema or a cross-field rule. */
  "INVALID_SCENARIO",
  /** A reward formula does not parse (position and caret excerpt in the message). */
  "FORMULA_SYNTAX",
  /** A reward formula names a variable, constant or function that does not exist. */
  "FORMULA_UNKNOWN_NAME",
  /** A reward formula calls a function with the wrong number of arguments. */
  "FORMULA_ARITY",
  /** A sweep specification is invalid (src/sweep). */
  "INVALID_SWEEP",
  /** A preset name that is not in the registry. */
  "UNKNOWN_PRESET",
  /** The scenario would need more memory (or more sampled candidates) than the documented limits. */
  "MEMORY_LIMIT",
  /** A reward is NaN or infinite at some atom (e.g. log(x) at x <= 0). */
  "REWARD_NOT_FINITE",
  /** Rewards so steep (or tau so small) that every curation weight but one underflows to 0. */
  "REWARD_UNDERFLOW",
  /** A numerical failure detected at run time (NaN or infinite values in the dynamics). */
  "NUMERIC",
  /** A file or folder named on the command line cannot be read or written. */
  "FILE",
  /** A command-line flag or argument is malformed (an integer flag given "abc", a bad --set). */
  "USAGE",
  /** A malformed --queue URL, a database number the server lacks, or flags that do not mix with --queue. */
  "QUEUE_URL",
  /** The same sweep is on the queue from another engine build. */
  "QUEUE_CONFLICT",
  /** The queue's Redis cannot be reached or does not answer within the probe's 3 s, or is older than 5.0. */
  "QUEUE_UNREACHABLE",
  /** The queue's Redis wants a password, or refused the one given. */
  "QUEUE_AUTH",
  /** The queue's Redis stopped answering while jobs were added or rows collected. */
  "QUEUE_LOST",
  /** A thread running part of a large run's passes failed or stopped answering. */
  "THREAD_LOST",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that blame the environment (a server), not the input: the CLI exits 1 for them, not 2. */
export const SERVER_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["QUEUE_UNREACHABLE", "QUEUE_AUTH", "QUEUE_LOST", "THREAD_LOST"]);

/** An error with a stable `code`, the dotted field path it concerns and the offending value. */
export class PlurisimError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly value?: unknown;

  constructor(code: ErrorCode, message: string, options: { field?: string; value?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PlurisimError";
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if ("value" in options) this.value = options.value;
  }
}

/** True when `e` is a PlurisimError (optionally with the given code). */
export function isPlurisimError(e: unknown, code?: ErrorCode): e is PlurisimError {
  return e instanceof PlurisimError && (code === undefined || e.code === code);
}

const MAX_ARRAY_SHOWN = 6;
const MAX_TEXT = 160;

/** A short, readable rendering of a value for an error message: long arrays and objects are truncated. */
export function formatValue(value: unknown, depth = 0): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (value === Infinity) return "Infinity";
    if (value === -Infinity) return "-Infinity";
    return String(value);
  }
  if (typeof value === "string") {
    const s = value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) + "..." : value;
    // JSON escapes C0 controls but not DEL, C1 (8-bit CSI) or bidi overrides: messages reach terminals.
    return sanitizeForTerminal(JSON.stringify(s));
  }
  if (typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return formatValue(Array.from(value as unknown as ArrayLike<number>), depth);
  }
  if (Array.isArray(value)) {
    if (depth > 2) return `[${value.length} entries]`;
    const shown = value.slice(0, MAX_ARRAY_SHOWN).map((v) => formatValue(v, depth + 1));
    const more = value.length > MAX_ARRAY_SHOWN ? `, ... (${value.length} entries)` : "";
    return `[${shown.join(", ")}${more}]`;
  }
  if (typeof value === "object") {
    if (depth > 2) return "{...}";
    const entries = Object.entries(value as Record<string, unknown>);
    const shown = entries.slice(0, MAX_ARRAY_SHOWN).map(([k, v]) => `${sanitizeForTerminal(JSON.stringify(k))}: ${formatValue(v, depth + 1)}`);
    const more = entries.length > MAX_ARRAY_SHOWN ? ", ..." : "";
    const text = `{${shown.join(", ")}${more}}`;
    return text.length > MAX_TEXT * 2 ? text.slice(0, MAX_TEXT * 2) + "...}" : text;
  }
  return String(value);
}

/** Joins a path such as ["groups", 1, "weight"] into "groups[1].weight". */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else {
      const k = String(key);
      if (/^[A-Za-z_$][\w$]*$/.test(k)) out += out === "" ? k : `.${k}`;
      else out += `[${sanitizeForTerminal(JSON.stringify(k))}]`;
    }
  }
  return out;
}

/** An INVALID_SCENARIO error whose message reads "<field> <problem> (got <value>)". */
export function invalidField(field: string, problem: string, value: unknown, code: ErrorCode = "INVALID_SCENARIO"): PlurisimError {
  const where = field === "" ? "scenario" : field;
  return new PlurisimError(code, `${where} ${problem} (got ${formatValue(value)})`, { field: where, value });
}
