// A sweep file: a base scenario, axes (a cartesian product), zips (axes that move together),
// derived parameters (formulas of the others), replicates, a seed and what to keep per cell.
// parseSweep validates it up front and returns a plan: a plain JSON object that every worker
// (Piscina thread or Web Worker) can expand cell by cell. Runs anywhere (no `node:` imports).
import { GROUP_METRICS, SCALAR_METRICS } from "../core/types.js";
import { formatPath, formatValue, isPlurisimError, PlurisimError } from "../core/errors.js";
import { evaluateExpression, parseExpression, type FormulaNode } from "../core/formula.js";
import { checkJsonDocument } from "../core/json.js";
import { MAX_NAME_LENGTH, MAX_SNAPSHOTS } from "../core/limits.js";
import { presetScenario } from "../core/presets.js";
import { parseScenario } from "../core/scenario.js";
import { expandAxis } from "./axes.js";
import { getPath, parsePath, setPath, type PathKey } from "./paths.js";
import { cellSeed } from "./seed.js";

/** Cells a sweep may have without `force` (docs/sweep.md); more needs `--force`. */
export const MAX_CELLS = 1_000_000;
/** Hard limit even with `force`: cell indices and seeds are u32. */
export const MAX_CELLS_FORCED = 2 ** 32;

/** Most parameter paths a sweep may set (axes, zipped axes and derived parameters together). */
export const MAX_SWEEP_PATHS = 256;

/** The metric names of the engine core (src/core/types.ts Metrics). */
export const METRIC_NAMES = ["generation", ...GROUP_METRICS, ...SCALAR_METRICS] as const;

/** What each result row keeps. */
export interface Keep {
  /** Metrics of the last generation under `final` (default true). */
  final: boolean;
  /** Generations whose metrics go under `at["<t>"]` (null where the run stopped early before t). */
  generations: number[];
  /** Whole trajectories, written to their own file (one line per cell). */
  trajectory: boolean;
  /** Metric names to keep (default: all). */
  metrics: string[] | null;
  /** Solve the Nash problem per cell: adds the *ToNash metrics and `nash` {welfare, gap, basinMass}. */
  nash: boolean;
  /** Run the paper's audit per cell: adds `audit` {interval, kappa, qWindow, held}. */
  audit: boolean;
  /** false: no dynamics, each cell only solves the Nash problem (`nash` in the row; limit-only phase diagrams). */
  dynamics: boolean;
}

/** One dimension of the grid: one axis, or one zip group whose paths move together. */
export interface Dim {
  paths: string[];
  /** values[j][k]: the k-th value of paths[j]. */
  values: unknown[][];
  length: number;
}

/** A validated sweep: plain JSON, so it can be posted to workers and hashed. */
export interface SweepPlan {
  name: string;
  description?: string;
  /** The base scenario object (a preset name in the file is resolved here). */
  base: Record<string, unknown>;
  /** Axes in file order, then zip groups; the last one varies fastest, replicates faster still. */
  dims: Dim[];
  derived: { path: string; expr: string }[];
  replicates: number;
  seed: number;
  keep: Keep;
  /** Cells in the whole sweep: product of the dims' lengths times replicates. */
  total: number;
  /** A per-preset summary to print after the run (src/sweep/summary.ts). */
  summary?: string;
}

export interface ParseSweepOptions {
  /** Lift the MAX_CELLS limit. */
  force?: boolean;
  /** A name for the sweep when the file has none (e.g. the file name). */
  name?: string;
}

const TOP_KEYS = ["base", "axes", "zip", "derived", "replicates", "seed", "keep", "name", "description", "summary", "$schema"];
const KEEP_KEYS = ["final", "generations", "trajectory", "metrics", "nash", "audit", "dynamics"];

function bad(field: string, problem: string, value: unknown): never {
  throw new PlurisimError("INVALID_SWEEP", `${field} ${problem} (got ${formatValue(value)})`, { field, value });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function checkKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) bad(formatPath(where === "" ? [k] : [...where.split("."), k]), `is not a known field; known fields: ${allowed.filter((a) => a !== "$schema").join(", ")}`, obj[k]);
  }
}

function parseKeep(v: unknown): Keep {
  const keep: Keep = { final: true, generations: [], trajectory: false, metrics: null, nash: false, audit: false, dynamics: true };
  if (v === undefined) return keep;
  if (!isObject(v)) bad("keep", "must be an object such as {\"final\": true}", v);
  checkKeys(v, KEEP_KEYS, "keep");
  for (const k of ["final", "trajectory", "nash", "audit", "dynamics"] as const) {
    if (v[k] !== undefined) {
      if (typeof v[k] !== "boolean") bad(`keep.${k}`, "must be true or false", v[k]);
      keep[k] = v[k] as boolean;
    }
  }
  if (v.generations !== undefined) {
    if (!Array.isArray(v.generations)) bad("keep.generations", "must be a list of generations", v.generations);
    if (v.generations.length > MAX_SNAPSHOTS) bad("keep.generations", `must list at most ${MAX_SNAPSHOTS} generations`, v.generations);
    v.generations.forEach((t, i) => {
      if (!Number.isSafeInteger(t) || (t as number) < 0) bad(`keep.generations[${i}]`, "must be a non-negative integer", t);
    });
    keep.generations = [...new Set(v.generations as number[])].sort((a, b) => a - b);
  }
  if (v.metrics !== undefined) {
    if (!Array.isArray(v.metrics) || v.metrics.length === 0) bad("keep.metrics", "must be a non-empty list of metric names", v.metrics);
    v.metrics.forEach((name, i) => {
      if (!(METRIC_NAMES as readonly unknown[]).includes(name)) bad(`keep.metrics[${i}]`, `is not a metric; the metrics are: ${METRIC_NAMES.join(", ")}`, name);
    });
    keep.metrics = v.metrics as string[];
  }
  if (!keep.dynamics) {
    if (!keep.nash) bad("keep.dynamics", "false keeps only the Nash solution of each cell: set keep.nash to true", v.dynamics);
    for (const k of ["final", "trajectory", "audit", "generations", "metrics"] as const) {
      if (v[k] !== undefined && v[k] !== false) bad(`keep.${k}`, "needs the dynamics, which keep.dynamics = false turns off", v[k]);
    }
    keep.final = false;
  }
  if (!keep.final && !keep.trajectory && keep.generations.length === 0 && !keep.nash && !keep.audit) {
    bad("keep", "keeps nothing: set final, generations, trajectory, nash or audit", v);
  }
  return keep;
}

/** Paths of the numbers (and "inf") in the base, for derived formulas; arrays longer than 64 are skipped. */
function numericLeaves(v: unknown, prefix: string, out: string[]): void {
  if (typeof v === "number" || v === "inf") out.push(prefix);
  else if (Array.isArray(v)) {
    if (v.length <= 64) v.forEach((e, i) => numericLeaves(e, `${prefix}[${i}]`, out));
  } else if (isObject(v)) {
    for (const [k, e] of Object.entries(v)) if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) numericLeaves(e, prefix === "" ? k : `${prefix}.${k}`, out);
  }
}

/** Validates a sweep document and returns its plan. Throws PlurisimError INVALID_SWEEP naming the field and value. */
export function parseSweep(input: unknown, options: ParseSweepOptions = {}): SweepPlan {
  checkJsonDocument(input, "INVALID_SWEEP", "sweep");
  if (!isObject(input)) bad("sweep", "must be a JSON object with base and axes", input);
  checkKeys(input, TOP_KEYS, "");
  let base: Record<string, unknown>;
  if (typeof input.base === "string") {
    try {
      base = presetScenario(input.base);
    } catch (e) {
      if (isPlurisimError(e)) bad("base", `is not a preset name: ${e.message}`, input.base);
      throw e;
    }
  } else if (isObject(input.base)) base = structuredClone(input.base);
  else bad("base", "must be a scenario object or a preset name", input.base);

  try {
    parseScenario(base);
  } catch (e) {
    if (isPlurisimError(e)) throw new PlurisimError("INVALID_SWEEP", `base is not a valid scenario: ${e.message}`, { field: `base.${e.field ?? ""}`, value: e.value, cause: e });
    throw e;
  }

  const dims: Dim[] = [];
  const seen = new Map<string, string>();
  const claim = (path: string, field: string) => {
    parsePath(path, field);
    if (seen.size >= MAX_SWEEP_PATHS) bad(field, `is one parameter path too many: a sweep sets at most ${MAX_SWEEP_PATHS} paths`, path);
    for (const [other, otherField] of seen) {
      if (other === path || other.startsWith(`${path}.`) || other.startsWith(`${path}[`) || path.startsWith(`${other}.`) || path.startsWith(`${other}[`)) {
        bad(field, `sets ${JSON.stringify(path)}, which ${otherField} already sets (${JSON.stringify(other)})`, path);
      }
    }
    seen.set(path, field);
  };

  if (input.axes !== undefined) {
    if (!isObject(input.axes)) bad("axes", "must be an object mapping parameter paths to values", input.axes);
    for (const [path, spec] of Object.entries(input.axes)) {
      const field = `axes[${JSON.stringify(path)}]`;
      claim(path, field);
      const values = expandAxis(spec, field);
      dims.push({ paths: [path], values: [values], length: values.length });
    }
  }
  if (input.zip !== undefined) {
    if (!Array.isArray(input.zip)) bad("zip", "must be a list of objects, each mapping paths to equally long value lists", input.zip);
    input.zip.forEach((group, g) => {
      if (!isObject(group) || Object.keys(group).length === 0) bad(`zip[${g}]`, "must be a non-empty object mapping parameter paths to values", group);
      const paths: string[] = [];
      const values: unknown[][] = [];
      for (const [path, spec] of Object.entries(group)) {
        const field = `zip[${g}][${JSON.stringify(path)}]`;
        claim(path, field);
        const vals = expandAxis(spec, field);
        if (values.length > 0 && vals.length !== values[0].length) {
          bad(field, `has ${vals.length} values but zip[${g}][${JSON.stringify(paths[0])}] has ${values[0].length}: zipped axes move together and need equal lengths`, spec);
        }
        paths.push(path);
        values.push(vals);
      }
      dims.push({ paths, values, length: values[0].length });
    });
  }

  const derived: { path: string; expr: string }[] = [];
  if (input.derived !== undefined) {
    if (!isObject(input.derived)) bad("derived", "must be an object mapping parameter paths to formulas", input.derived);
    for (const [path, expr] of Object.entries(input.derived)) {
      const field = `derived[${JSON.stringify(path)}]`;
      claim(path, field);
      if (typeof expr !== "string" || expr.trim() === "") bad(field, "must be a formula such as \"1 - groups[0].weight\"", expr);
      derived.push({ path, expr });
    }
  }

  let replicates = 1;
  if (input.replicates !== undefined) {
    if (!Number.isSafeInteger(input.replicates) || (input.replicates as number) < 1) bad("replicates", "must be an integer >= 1", input.replicates);
    replicates = input.replicates as number;
  }
  let seed = 0;
  if (input.seed !== undefined) {
    if (!Number.isSafeInteger(input.seed) || (input.seed as number) < 0 || (input.seed as number) >= 2 ** 32) bad("seed", "must be an integer in [0, 2^32)", input.seed);
    seed = input.seed as number;
  }
  const keep = parseKeep(input.keep);
  if (input.name !== undefined) checkName(input.name, "name");
  if (input.description !== undefined && typeof input.description !== "string") bad("description", "must be a string", input.description);
  if (input.summary !== undefined && typeof input.summary !== "string") bad("summary", "must be a string", input.summary);

  let total = replicates;
  for (const d of dims) total *= d.length;
  if (total >= MAX_CELLS_FORCED) bad("axes", `give ${total} cells, over the hard limit of 2^32 (cell indices and seeds are u32)`, total);
  if (total > MAX_CELLS && !options.force) {
    bad("axes", `give ${total} cells, over the limit of ${MAX_CELLS} cells per sweep: pass --force (force: true) to run it anyway, or shard it`, total);
  }

  const plan: SweepPlan = {
    name: (input.name as string | undefined) ?? options.name ?? "sweep",
    base,
    dims,
    derived,
    replicates,
    seed,
    keep,
    total,
  };
  if (input.description !== undefined) plan.description = input.description as string;
  if (input.summary !== undefined) plan.summary = input.summary as string;
  compileDerived(plan);
  validateCells(plan);
  return plan;
}

// A sweep's name names its output files (out/<name>.jsonl): it must stay one plain file name.
function checkName(name: unknown, field: string): void {
  if (typeof name !== "string") bad(field, "must be a string", name);
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) bad(field, `must have between 1 and ${MAX_NAME_LENGTH} characters`, name);
  if (/[\u0000-\u001f\u007f-\u009f/\\]/.test(name) || name === "." || name === "..") {
    bad(field, "must be a plain file name: no control characters, no / or \\, not . or ..", name);
  }
}

interface CompiledDerived {
  path: string;
  keys: PathKey[];
  node: FormulaNode;
}

const derivedCache = new WeakMap<SweepPlan, CompiledDerived[]>();

/** Parses the derived formulas once per plan; a derived formula may use swept paths, earlier derived paths and numbers of the base. */
function compileDerived(plan: SweepPlan): CompiledDerived[] {
  const hit = derivedCache.get(plan);
  if (hit) return hit;
  const names = new Set<string>();
  for (const d of plan.dims) d.paths.forEach((p) => names.add(p));
  const leaves: string[] = [];
  numericLeaves(plan.base, "", leaves);
  leaves.forEach((p) => names.add(p));
  const out: CompiledDerived[] = [];
  for (const { path, expr } of plan.derived) {
    const field = `derived[${JSON.stringify(path)}]`;
    let node: FormulaNode;
    try {
      node = parseExpression(expr, [...names], field);
    } catch (e) {
      if (isPlurisimError(e)) throw new PlurisimError("INVALID_SWEEP", e.message, { field, value: expr, cause: e });
      throw e;
    }
    out.push({ path, keys: parsePath(path, field), node });
    names.add(path);
  }
  derivedCache.set(plan, out);
  return out;
}

/** The position of a cell along each dim, and its replicate. */
export function cellIndices(plan: SweepPlan, cell: number): { idx: number[]; replicate: number } {
  if (!Number.isSafeInteger(cell) || cell < 0 || cell >= plan.total) {
    throw new PlurisimError("INVALID_SWEEP", `cell ${cell} is outside the sweep's ${plan.total} cells`, { field: "cell", value: cell });
  }
  const replicate = cell % plan.replicates;
  let rest = Math.floor(cell / plan.replicates);
  const idx = new Array<number>(plan.dims.length);
  for (let d = plan.dims.length - 1; d >= 0; d--) {
    const len = plan.dims[d].length;
    idx[d] = rest % len;
    rest = Math.floor(rest / len);
  }
  return { idx, replicate };
}

/** One cell, ready to run: its scenario object, the parameters it sets (path -> value) and its seed. */
export interface Cell {
  cell: number;
  replicate: number;
  params: Record<string, unknown>;
  seed: number;
  scenario: Record<string, unknown>;
}

const asNumber = (v: unknown): number => (typeof v === "number" ? v : v === "inf" ? Infinity : NaN);

function buildScenario(plan: SweepPlan, idx: number[]): { scenario: Record<string, unknown>; params: Record<string, unknown> } {
  const scenario = structuredClone(plan.base);
  const params: Record<string, unknown> = {};
  plan.dims.forEach((d, di) => {
    d.paths.forEach((path, j) => {
      const value = d.values[j][idx[di]];
      setPath(scenario, parsePath(path, path), structuredClone(value), path, d.paths.length > 1 ? "zip" : `axes[${JSON.stringify(path)}]`);
      params[path] = value;
    });
  });
  for (const der of compileDerived(plan)) {
    const field = `derived[${JSON.stringify(der.path)}]`;
    const v = evaluateExpression(der.node, (name) => asNumber(getPath(scenario, parsePath(name, field))));
    if (Number.isNaN(v) || v === -Infinity) {
      throw new PlurisimError("INVALID_SWEEP", `${field} evaluates to ${v} for parameters ${formatValue(params)}`, { field, value: v });
    }
    const value = v === Infinity ? "inf" : v;
    setPath(scenario, der.keys, value, der.path, field);
    params[der.path] = value;
  }
  return { scenario, params };
}

/**
 * Cell `cell` of the sweep. Its seed is cellSeed(plan.seed, cell) written to the scenario's
 * `seed`, unless the sweep itself sets `seed` (an axis, zip or derived path), which then wins.
 */
export function cellAt(plan: SweepPlan, cell: number): Cell {
  const { idx, replicate } = cellIndices(plan, cell);
  const { scenario, params } = buildScenario(plan, idx);
  let seed: number;
  if (Object.hasOwn(params, "seed")) seed = params.seed as number;
  else {
    seed = cellSeed(plan.seed, cell);
    scenario.seed = seed;
  }
  return { cell, replicate, params, seed, scenario };
}

/** Where a sample cell's scenario fails: as an INVALID_SWEEP naming the axis value that caused it. */
function blame(plan: SweepPlan, d: number, k: number, e: PlurisimError, baseParsedHas: (p: string) => boolean): never {
  const dim = plan.dims[d];
  const paths = dim.paths;
  const field = paths.length > 1 ? `zip (${paths.map((p) => JSON.stringify(p)).join(", ")})[${k}]` : `axes[${JSON.stringify(paths[0])}][${k}]`;
  const value = paths.length > 1 ? Object.fromEntries(paths.map((p, j) => [p, dim.values[j][k]])) : dim.values[0][k];
  const unknown = paths.find((p) => !baseParsedHas(p) && (e.field === p || e.message.includes("is not a known field")));
  if (unknown) {
    throw new PlurisimError("INVALID_SWEEP", `${field}: unknown parameter path ${JSON.stringify(unknown)}: ${e.message}`, { field, value: unknown, cause: e });
  }
  throw new PlurisimError("INVALID_SWEEP", `${field}: value ${formatValue(value)} is not valid here: ${e.message}`, { field, value, cause: e });
}

/**
 * Checks the sweep on sample cells before anything runs: every value of every dim, with the other
 * dims at their first value and the derived parameters applied, must give a valid scenario
 * (parseScenario). Combinations of values are only checked when their cell runs (an error row).
 */
function validateCells(plan: SweepPlan): void {
  const parsedBase = parseScenario(plan.base) as unknown;
  const baseParsedHas = (p: string) => getPath(parsedBase, parsePath(p, p)) !== undefined || getPath(plan.base, parsePath(p, p)) !== undefined;
  const zero = plan.dims.map(() => 0);
  const check = (idx: number[], d: number, k: number) => {
    try {
      const { scenario } = buildScenario(plan, idx);
      parseScenario(scenario);
    } catch (e) {
      if (!isPlurisimError(e)) throw e;
      if (e.code === "INVALID_SWEEP") throw e;
      if (d < 0) {
        const f = e.field ?? "";
        const hit = plan.dims.findIndex((dim) =>
          dim.paths.some((p) => f !== "" && (f === p || p.startsWith(`${f}.`) || p.startsWith(`${f}[`) || f.startsWith(`${p}.`) || f.startsWith(`${p}[`))),
        );
        if (hit >= 0) blame(plan, hit, 0, e, baseParsedHas);
        throw new PlurisimError("INVALID_SWEEP", `the first cell of the sweep is not a valid scenario: ${e.message}`, { field: e.field ?? "base", value: e.value, cause: e });
      }
      blame(plan, d, k, e, baseParsedHas);
    }
  };
  check(zero, -1, 0);
  plan.dims.forEach((dim, d) => {
    for (const k of valuesToCheck(dim)) {
      const idx = zero.slice();
      idx[d] = k;
      check(idx, d, k);
    }
  });
}

/** Values of one dim checked in full before a sweep runs; a longer dim is sampled (validateCells). */
export const MAX_CHECKED_VALUES = 10_000;

/**
 * The indices (from 1) of a dim's values to check up front. Every one when there are at most
 * MAX_CHECKED_VALUES: each check parses a whole scenario (about 0.1 ms), so the 1,000,000 values
 * one axis may hold would take minutes. A longer dim checks its first and last halves of that
 * budget and, in between, every value of a kind not seen yet (a number of another sign or
 * integrality, a string, an object of another shape): a stray type deep in a long list is still
 * refused up front; a value of a seen kind that fails only by size becomes that cell's error row.
 */
export function valuesToCheck(dim: Dim): number[] {
  const len = dim.length;
  const all = Array.from({ length: Math.max(0, len - 1) }, (_, i) => i + 1);
  if (len <= MAX_CHECKED_VALUES) return all;
  const half = MAX_CHECKED_VALUES / 2;
  const kindOf = (v: unknown): string =>
    typeof v === "number" ? `number ${Number.isInteger(v)} ${Math.sign(v)}` : v !== null && typeof v === "object" ? canonicalJson(v).slice(0, 500) : `${typeof v} ${String(v).slice(0, 100)}`;
  const kinds = new Set<string>();
  const picked: number[] = [];
  for (let k = 0; k < len; k++) {
    const kind = dim.values.map((vals) => kindOf(vals[k])).join("|");
    const edge = k < half || k >= len - half;
    if (edge || (!kinds.has(kind) && kinds.size < MAX_CHECKED_VALUES)) {
      if (k > 0) picked.push(k);
    }
    kinds.add(kind);
  }
  return picked;
}

/** Canonical JSON (keys sorted) of a value: what the sweep's hash is taken over. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
    return v;
  });
}

/** The cells of shard `index` of `count` (0-based): every cell c with c mod count = index, in order. */
export function shardCells(total: number, index: number, count: number): number[] {
  const out: number[] = [];
  for (let c = index; c < total; c += count) out.push(c);
  return out;
}
