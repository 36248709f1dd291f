// What `plot`, `report`, `compare` and `summarize` read: a run result (result.json), the output
// of `run --replicates`, or a sweep's rows (.jsonl, streamed line by line). Every field a figure
// or report reads is checked here, so a damaged file is an error naming the file and the field,
// never a stack trace from deep inside a chart.
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { compileScenario } from "../core/compile.js";
import type { FigureRow, Geometry, Landscape } from "../core/charts.js";
import { PlurisimError } from "../core/errors.js";
import { parseScenario } from "../core/scenario.js";
import { sanitizeForTerminal } from "../core/text.js";
import type { Row, RowMetrics, RunResult } from "../core/types.js";
import type { ReplicatesResult } from "../core/engine.js";
import { MAX_LINE_BYTES, MAX_RESULT_BYTES, readStdinOnce, readTextFile, stdinAsFile } from "./files.js";
import { rowScanner } from "./row-scan.js";

/**
 * A plot input: one run's result object, the replicates of one scenario, the rows of a sweep, or
 * a sweep's kept trajectories (one row per cell and recorded generation, `generation` among the
 * parameters, so the sweep figures draw them).
 */
export type PlotInput =
  | { kind: "run"; path: string; result: RunResult }
  | { kind: "replicates"; path: string; result: ReplicatesResult }
  | { kind: "sweep"; path: string; rows: Row[] }
  | { kind: "trajectories"; path: string; rows: FigureRow[] };

// The messages quote file names, keys and JSON parse errors (which quote the text): shown with
// control characters escaped.
function bad(path: string, field: string, problem: string): never {
  throw new PlurisimError("INVALID_SCENARIO", sanitizeForTerminal(`${path}: ${field} ${problem}`), { field, value: path });
}

/** A problem with a whole input file (field "input"). */
function badFile(path: string, problem: string): never {
  throw new PlurisimError("INVALID_SCENARIO", sanitizeForTerminal(`${path} ${problem}`), { field: "input", value: path });
}

/** An input that cannot be read (field "input"). */
function unreadable(path: string, why: string): PlurisimError {
  return new PlurisimError("FILE", sanitizeForTerminal(`cannot read ${path}: ${why}`), { field: "input", value: path });
}

/** Deepest nesting of arrays and objects a result or row may have (a valid one nests fewer than 10). */
export const MAX_DEPTH = 64;

const NON_FINITE: Record<string, number> = { Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN };
const NON_FINITE_TEXT = /"(?:-?Infinity|NaN)"/;

/**
 * JSON.parse that restores the "Infinity" / "-Infinity" / "NaN" strings toJson writes for
 * non-finite numbers. The walk keeps its own stack (a reviver recurses, and overflows on deep
 * input); with `checkDepth` (results read whole), nesting past MAX_DEPTH throws a SyntaxError.
 */
export function parseJson(text: string, checkDepth = false): unknown {
  const root = JSON.parse(text) as unknown;
  // A row line with no non-finite number needs no walk (JSON.parse itself takes any depth).
  if (!checkDepth && !NON_FINITE_TEXT.test(text)) return root;
  const stack: [Record<string, unknown> | unknown[], number][] = [];
  if (root !== null && typeof root === "object") stack.push([root as Record<string, unknown>, 1]);
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_DEPTH) throw new SyntaxError(`nested more than ${MAX_DEPTH} levels deep`);
    const keys = Array.isArray(node) ? node.keys() : Object.keys(node);
    for (const k of keys) {
      const v = (node as Record<string | number, unknown>)[k];
      if (typeof v === "string" && Object.hasOwn(NON_FINITE, v)) (node as Record<string | number, unknown>)[k] = NON_FINITE[v];
      else if (v !== null && typeof v === "object") stack.push([v as Record<string, unknown>, depth + 1]);
    }
  }
  return root;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number";

function numberArray(path: string, field: string, v: unknown, length?: number): void {
  if (!Array.isArray(v) || !v.every((e) => isNumber(e) || e === null)) bad(path, field, "must be a list of numbers");
  if (length !== undefined && v.length !== length) bad(path, field, `must have ${length} entries (one per group), not ${v.length}`);
}

/** Checks every field of a run result that figures and reports read; throws INVALID_SCENARIO naming the file and field. */
export function checkRunResult(path: string, value: unknown): RunResult {
  if (!isObject(value)) bad(path, "the result", "must be a JSON object");
  const final = value.final;
  if (!isObject(final)) bad(path, "final", "must be an object of final metrics");
  numberArray(path, "final.basinMass", final.basinMass);
  const m = (final.basinMass as unknown[]).length;
  if (m === 0) bad(path, "final.basinMass", "must have one entry per group");
  for (const k of ["expectedReward", "rewardVariance", "logPartition"]) if (final[k] !== undefined) numberArray(path, `final.${k}`, final[k], m);
  if (final.p !== undefined) numberArray(path, "final.p", final.p);
  for (const [k, v] of Object.entries(final)) if (!Array.isArray(v) && v !== null && !isNumber(v)) bad(path, `final.${k}`, "must be a number");
  if (!Array.isArray(value.trajectory)) bad(path, "trajectory", "must be a list of metrics per recorded generation");
  value.trajectory.forEach((t, i) => {
    if (!isObject(t)) bad(path, `trajectory[${i}]`, "must be an object of metrics");
    if (!isNumber(t.generation)) bad(path, `trajectory[${i}].generation`, "must be a number");
    numberArray(path, `trajectory[${i}].basinMass`, t.basinMass, m);
    for (const [k, v] of Object.entries(t)) if (!Array.isArray(v) && v !== null && !isNumber(v)) bad(path, `trajectory[${i}].${k}`, "must be a number");
  });
  if (value.nash !== undefined && value.nash !== null) {
    const n = value.nash;
    if (!isObject(n)) bad(path, "nash", "must be an object");
    numberArray(path, "nash.p", n.p);
    numberArray(path, "nash.basinMass", n.basinMass, m);
    for (const k of ["welfare", "gap"]) if (!isNumber(n[k])) bad(path, `nash.${k}`, "must be a number");
  }
  if (value.snapshots !== undefined) {
    if (!Array.isArray(value.snapshots)) bad(path, "snapshots", "must be a list");
    value.snapshots.forEach((s, i) => {
      if (!isObject(s) || !isNumber(s.generation)) bad(path, `snapshots[${i}].generation`, "must be a number");
      numberArray(path, `snapshots[${i}].p`, s.p);
    });
  }
  checkEngine(path, value.engine);
  for (const k of ["generationsRun", "maxMassDefect"]) if (value[k] !== undefined && !isNumber(value[k])) bad(path, k, "must be a number");
  return value as unknown as RunResult;
}

function checkEngine(path: string, engine: unknown): void {
  if (engine === undefined || engine === null) return;
  if (!isObject(engine) || typeof engine.version !== "string" || typeof engine.wasmSha256 !== "string") bad(path, "engine", 'must be {"version": text, "wasmSha256": text}');
}

/** Checks the output of `run --replicates --json`. */
export function checkReplicates(path: string, value: Record<string, unknown>): ReplicatesResult {
  if (!Array.isArray(value.finals) || value.finals.length === 0) bad(path, "finals", "must be a non-empty list of final metrics");
  value.finals.forEach((f, i) => {
    if (!isObject(f)) bad(path, `finals[${i}]`, "must be an object of final metrics");
    numberArray(path, `finals[${i}].basinMass`, f.basinMass);
  });
  for (const k of ["mean", "std"]) if (!isObject(value[k])) bad(path, k, "must be an object of metrics");
  numberArray(path, "seeds", value.seeds);
  // The bands over generations; results written before them have none (the final bars alone).
  if (value.trajectory !== undefined) {
    if (!Array.isArray(value.trajectory)) bad(path, "trajectory", "must be a list of mean and sd per recorded generation");
    value.trajectory.forEach((b, i) => {
      if (!isObject(b) || !isNumber(b.generation)) bad(path, `trajectory[${i}].generation`, "must be a number");
      for (const k of ["mean", "std"]) if (!isObject(b[k])) bad(path, `trajectory[${i}].${k}`, "must be an object of metrics");
    });
  }
  checkEngine(path, value.engine);
  return value as unknown as ReplicatesResult;
}

/** Checks one sweep row; throws INVALID_SCENARIO naming the file, line and field. */
export function checkRow(path: string, line: number, row: unknown): Row {
  const where = `line ${line}`;
  if (!isObject(row)) bad(path, where, "must be a JSON object (a sweep row)");
  if (!Number.isSafeInteger(row.cell) || (row.cell as number) < 0) bad(path, `${where}: cell`, "must be a non-negative integer");
  if (!isObject(row.params)) bad(path, `${where}: params`, "must be an object of parameter values");
  if (row.status !== "ok" && row.status !== "error") bad(path, `${where}: status`, 'must be "ok" or "error"');
  if (row.final !== undefined && row.final !== null && !isObject(row.final)) bad(path, `${where}: final`, "must be an object of metrics");
  if (row.replicate !== undefined && !isNumber(row.replicate)) bad(path, `${where}: replicate`, "must be a number");
  checkEngine(path, row.engine);
  return row as unknown as Row;
}

/**
 * Calls `take` with the bytes of each line of a file (b[start, end), no newline; the last line
 * even without its newline), reading raw bytes: no stream decoder, no chunk-sized strings.
 */
async function eachLineBytes(path: string, take: (b: Buffer, start: number, end: number) => void, shown = path): Promise<void> {
  let carry: Buffer | null = null;
  const stream = createReadStream(path, { highWaterMark: 4 << 20 });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      let start = 0;
      if (carry) {
        // The line split across two chunks: only it is copied.
        const nl = buf.indexOf(10);
        if (nl < 0) {
          carry = Buffer.concat([carry, buf]);
          if (carry.length > MAX_LINE_BYTES) badFile(shown, `has a line longer than ${MAX_LINE_BYTES / 2 ** 20} MiB: it is not a sweep rows file`);
          continue;
        }
        const line = Buffer.concat([carry, buf.subarray(0, nl)]);
        take(line, 0, line.length);
        start = nl + 1;
        carry = null;
      }
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        take(buf, start, nl);
        start = nl + 1;
      }
      if (start < buf.length) carry = Buffer.from(buf.subarray(start));
    }
  } catch (err) {
    if (err instanceof PlurisimError) throw err;
    throw unreadable(shown, (err as Error).message);
  } finally {
    stream.destroy();
  }
  if (carry && carry.toString("utf8").trim() !== "") take(carry, 0, carry.length);
}

/** Calls `take` with the text of each line of a file (the last one even without its newline). */
function eachLine(path: string, take: (line: string) => void): Promise<void> {
  return eachLineBytes(path, (b, start, end) => take(b.toString("utf8", start, end)));
}

/** Options of readSweepRows: which parts of each row to keep in memory. */
export interface ReadRowsOptions {
  /** Keep only these fields of `final` (by name; `basinMass[0]` keeps basinMass). Default: all. */
  finalFields?: string[];
  /** Keep `at`, `nash`, `audit` and the other fields (default true). */
  whole?: boolean;
  /**
   * With `whole: false` and `finalFields`, the line from which rows are read from their bytes
   * (row-scan.ts) rather than by JSON.parse (default SCAN_FROM; Infinity: every line by JSON.parse).
   */
  scanFrom?: number;
  /** The input's name in error messages (default: its path; standard input read through a copy). */
  name?: string;
}

/**
 * Lines read by JSON.parse before the byte scanner takes over: until V8 has compiled the scanner
 * it is slower than JSON.parse, and it pays for that only over tens of thousands of rows (at
 * 10^4 rows it cost about 60 ms more, at 10^6 it saves about 2.4 s; bench/figures.ts).
 */
export const SCAN_FROM = 50_000;

/** Streams a sweep rows file: every line checked, rows slimmed to what the caller reads. */
export async function readSweepRows(path: string, options: ReadRowsOptions = {}): Promise<Row[]> {
  const shown = options.name ?? path;
  const keep = options.finalFields?.map((f) => f.replace(/[[.].*$/, ""));
  const rows: Row[] = [];
  let lineNo = 0;
  // The first ok row keeps all its final metrics, so a metric name can be checked against what the rows carry.
  let sawOk = false;
  // A figure's read (`whole: false`, named metrics) takes rows from their bytes (row-scan.ts) from
  // line scanFrom on, once the first ok row is in; a line the scanner hands back is read below like any other.
  const scanFrom = options.scanFrom ?? SCAN_FROM;
  const scanner = options.whole === false && keep !== undefined && !keep.some((k) => k in Object.prototype) ? rowScanner(keep, parseJson) : null;
  const take = (b: Buffer, start: number, end: number) => {
    if (scanner && sawOk && lineNo >= scanFrom) {
      const slim = scanner.scan(b, start, end);
      if (slim) {
        lineNo++;
        rows.push(slim);
        return;
      }
    }
    lineNo++;
    const text = b.toString("utf8", start, end);
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      bad(shown, `line ${lineNo}`, `is not valid JSON: ${(err as Error).message}`);
    }
    const row = checkRow(shown, lineNo, value);
    if (options.whole === false || keep) {
      // Without `whole`, a row keeps what identifies its cell, its status (and error) and its final metrics.
      const { cell, replicate, params, seed, durationMs } = row;
      const slim: Row =
        options.whole !== false ? { ...row }
        : row.status === "ok" ? { cell, replicate, params, seed, durationMs, status: "ok", final: row.final }
        : { cell, replicate, params, seed, durationMs, status: "error", error: row.error, errorCode: row.errorCode };
      if (slim.status === "ok" && slim.final && keep && sawOk) {
        const f: Record<string, unknown> = {};
        for (const k of keep) if (k in slim.final) f[k] = slim.final[k as keyof RowMetrics];
        slim.final = f as RowMetrics;
      }
      if (row.status === "ok") sawOk = true;
      rows.push(slim);
    } else rows.push(row);
  };
  await eachLineBytes(path, take, shown);
  if (rows.length === 0) badFile(shown, 'has no sweep rows (lines with "cell" and "params")');
  return rows;
}

/**
 * Reads a trajectories file (`{cell, trajectory}` per line) as figure rows: one per cell and
 * recorded generation, with the cell's parameters from the rows file beside it (x.jsonl for
 * x.trajectories.jsonl) and `generation` added to them; the metrics of that generation are its
 * `final`.
 */
export async function readTrajectoryRows(path: string): Promise<FigureRow[]> {
  const rowsPath = path.replace(/\.trajectories\.jsonl$/, ".jsonl");
  const params = new Map<number, Record<string, unknown>>();
  if (rowsPath !== path && (await stat(rowsPath).then((s) => s.isFile(), () => false))) {
    for (const r of await readSweepRows(rowsPath, { finalFields: [], whole: false })) params.set(r.cell, r.params);
  }
  const rows: FigureRow[] = [];
  let lineNo = 0;
  await eachLine(path, (text) => {
    lineNo++;
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      bad(path, `line ${lineNo}`, `is not valid JSON: ${(err as Error).message}`);
    }
    if (!isObject(value) || !Number.isSafeInteger(value.cell)) bad(path, `line ${lineNo}: cell`, "must be a non-negative integer");
    const cell = value.cell as number;
    if (value.trajectory === null) return; // a failed cell kept no trajectory
    if (!Array.isArray(value.trajectory)) bad(path, `line ${lineNo}: trajectory`, "must be a list of metrics per recorded generation");
    const base = params.get(cell) ?? {};
    value.trajectory.forEach((m, i) => {
      if (!isObject(m) || !isNumber(m.generation)) bad(path, `line ${lineNo}: trajectory[${i}].generation`, "must be a number");
      rows.push({ cell, params: { ...base, generation: m.generation }, status: "ok", final: m });
    });
  });
  if (rows.length === 0) badFile(path, "has no trajectories (lines with \"cell\" and \"trajectory\")");
  return rows;
}

/** The first non-blank bytes of a file, to tell a rows file from a result object. */
async function head(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close();
  }
}

/** True when a file holds sweep rows: a .jsonl name, or a first line that is a whole object with "cell" and "params". */
async function looksLikeRows(path: string): Promise<boolean> {
  if (path.endsWith(".jsonl")) return true;
  const text = await head(path);
  const nl = text.indexOf("\n");
  if (nl < 0) return false;
  try {
    const first = JSON.parse(text.slice(0, nl));
    return isObject(first) && "cell" in first && "params" in first;
  } catch {
    return false;
  }
}

/**
 * True when standard input holds sweep rows: its first non-blank line is a whole JSON object with
 * "cell" or "status". A result piped from `run --json` is printed indented, so its first line is
 * "{" alone; a result on one line has neither key.
 */
export function stdinLooksLikeRows(bytes: Buffer): boolean {
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(10, start);
    const end = nl < 0 ? bytes.length : nl;
    const line = bytes.toString("utf8", start, Math.min(end, start + MAX_LINE_BYTES)).trim();
    if (line !== "") {
      try {
        const first = JSON.parse(line);
        return isObject(first) && ("cell" in first || "status" in first);
      } catch {
        return false;
      }
    }
    if (nl < 0) return false;
    start = nl + 1;
  }
}

/** Reads sweep rows from standard input (bounded by the result-file limit), through a private copy. */
export function readStdinRows(options: ReadRowsOptions = {}): Promise<Row[]> {
  const copy = stdinAsFile("stdin.jsonl", { field: "input", maxBytes: MAX_RESULT_BYTES });
  return readSweepRows(copy, { ...options, name: "standard input" });
}

/** Reads a result.json (`plurisim run --json`), a replicates result (`run --replicates --json`) or a sweep .jsonl. */
export async function readPlotInput(path: string, rowOptions: ReadRowsOptions = {}): Promise<PlotInput> {
  // "-" is standard input: a run or replicates result piped from `plurisim run --json`, or sweep
  // rows (told apart by their first line, stdinLooksLikeRows).
  if (path === "-" && stdinLooksLikeRows(readStdinOnce({ field: "input", maxBytes: MAX_RESULT_BYTES }))) {
    return { kind: "sweep", path, rows: await readStdinRows(rowOptions) };
  }
  if (path !== "-") {
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw unreadable(path, "not a regular file");
      size = s.size;
    } catch (err) {
      if (err instanceof PlurisimError) throw err;
      throw unreadable(path, (err as Error).message);
    }
    if (path.endsWith(".trajectories.jsonl")) return { kind: "trajectories", path, rows: await readTrajectoryRows(path) };
    if (await looksLikeRows(path)) return { kind: "sweep", path, rows: await readSweepRows(path, rowOptions) };
    if (size > MAX_RESULT_BYTES) badFile(path, `is ${size} bytes, over the ${MAX_RESULT_BYTES}-byte limit of a result file`);
  }
  const text = path === "-" ? readStdinOnce({ field: "input", maxBytes: MAX_RESULT_BYTES }).toString("utf8") : readTextFile(path, { field: "input", maxBytes: MAX_RESULT_BYTES });
  let value: unknown;
  try {
    value = parseJson(text, true);
  } catch (err) {
    badFile(path === "-" ? "standard input" : path, `is not valid JSON: ${(err as Error).message}`);
  }
  if (isObject(value) && "finals" in value && "replicates" in value) return { kind: "replicates", path, result: checkReplicates(path, value) };
  if (!isObject(value) || !("trajectory" in value) || !("final" in value)) {
    badFile(path, 'is not a run result (no "trajectory" and "final"); write one with `plurisim run <scenario> --json --out result.json`');
  }
  return { kind: "run", path, result: checkRunResult(path, value) };
}

/** Atom geometry, p_0 and rewards of a result, from its echoed scenario (abstract atoms when it has none). */
export function geometryOfResult(result: RunResult): { geometry: Geometry; p0?: Float64Array; landscape?: Landscape } {
  try {
    const problem = compileScenario(parseScenario(result.scenario));
    // A scenario that does not match the result (edited by hand) draws abstract atoms instead.
    const n = result.final.p?.length ?? result.nash?.p.length ?? problem.n;
    if (n !== problem.n) throw new Error("atoms differ");
    return { geometry: problem, p0: problem.p0, landscape: problem };
  } catch {
    const n = result.final.p?.length ?? result.nash?.p.length ?? 0;
    return { geometry: { n, dim: 0, coords: new Float64Array(0), cellWidth: null, gridShape: null } };
  }
}
