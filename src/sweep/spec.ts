// A sweep file: a base scenario, axes (a cartesian product), zips (axes that move together),
// derived parameters (formulas of the others), replicates, a seed and what to keep per cell.
// Its zod schema is the single source of the validation and of the JSON Schema that ships as
// schema/sweep.schema.json. parseSweep validates a file up front and returns a plan: a plain JSON
// object that every worker (Piscina thread or Web Worker) can expand cell by cell. Runs anywhere
// (no `node:` imports).
import * as z from "zod";
import { GROUP_METRICS, SCALAR_METRICS } from "../core/types.js";
import { formatPath, formatValue, isPlurisimError, PlurisimError } from "../core/errors.js";
import { evaluateExpression, parseExpression, type FormulaNode } from "../core/formula.js";
import { checkJsonDocument } from "../core/json.js";
import { MAX_NAME_LENGTH, MAX_SNAPSHOTS } from "../core/limits.js";
import { presetScenario } from "../core/presets.js";
import { finishScenario, parseScenario, parseScenarioShape, scenarioSchema, shapeLeafCheck, type LeafCheck, type Scenario, type ScenarioShape } from "../core/scenario.js";
import { defaultProblem, issueToError, schemaAt } from "../core/zod-issues.js";
import { axisSchema, expandAxis } from "./axes.js";
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

function bad(field: string, problem: string, value: unknown): never {
  throw new PlurisimError("INVALID_SWEEP", `${field} ${problem} (got ${formatValue(value)})`, { field, value });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const flag = (description: string) => z.boolean({ error: "must be true or false" }).optional().meta({ description });
const GENERATION = "must be a non-negative integer";
const METRICS = "must be a non-empty list of metric names";

const keepSchema = z
  .strictObject(
    {
      final: flag("Metrics of the last generation under `final` (default true)."),
      generations: z
        .array(z.int({ error: GENERATION }).min(0, { error: GENERATION }), { error: "must be a list of generations" })
        .max(MAX_SNAPSHOTS, { error: `must list at most ${MAX_SNAPSHOTS} generations` })
        .optional()
        .meta({ description: "Generations whose metrics go under `at[\"<t>\"]` (null where the run stopped before)." }),
      trajectory: flag("Whole trajectories, written to their own file (one line per cell)."),
      metrics: z
        .array(z.enum(METRIC_NAMES, { error: `is not a metric; the metrics are: ${METRIC_NAMES.join(", ")}` }), { error: METRICS })
        .min(1, { error: METRICS })
        .optional()
        .meta({ description: "Metric names to keep (default: all)." }),
      nash: flag("Solve the Nash problem per cell: the *ToNash metrics and `nash` {welfare, gap, basinMass, outsideMass}."),
      audit: flag("Run the paper's audit per cell: `audit` {interval, kappa, qWindow, held}."),
      dynamics: flag("false: no dynamics, each cell only solves the Nash problem (needs nash)."),
    },
    { error: 'must be an object such as {"final": true}' },
  )
  .meta({ description: "What each result row keeps." });

const NAME = `must have between 1 and ${MAX_NAME_LENGTH} characters`;
// A sweep's name names its output files (out/<name>.jsonl): it must stay one plain file name.
const PLAIN_NAME = /^(?!\.\.?$)[^\u0000-\u001f\u007f-\u009f/\\]*$/;
const ZIP_GROUP = "must be a non-empty object mapping parameter paths to values";
const FORMULA = 'must be a formula such as "1 - groups[0].weight"';
const SEED = "must be an integer in [0, 2^32)";

/** The sweep document's schema around a schema of its base (see sweepSchema and sweepJsonSchema). */
function sweepDocument<Base extends z.ZodType>(base: Base) {
  return z
    .strictObject(
      {
        $schema: z.string().optional().meta({ description: "JSON Schema reference for editors; ignored." }),
        base,
        axes: z
          .record(z.string(), axisSchema, { error: "must be an object mapping parameter paths to values" })
          .optional()
          .meta({ description: "Parameter paths (e.g. groups[0].weight, curation.K) and their values: the grid is their cartesian product." }),
        zip: z
          .array(z.record(z.string(), axisSchema, { error: ZIP_GROUP }).refine((group) => Object.keys(group).length > 0, { error: ZIP_GROUP }).meta({ minProperties: 1 }), {
            error: "must be a list of objects, each mapping paths to equally long value lists",
          })
          .optional()
          .meta({ description: "Groups of paths whose values move together (one dimension per group)." }),
        derived: z
          .record(z.string(), z.string({ error: FORMULA }).regex(/\S/, { error: FORMULA }), { error: "must be an object mapping parameter paths to formulas" })
          .optional()
          .meta({ description: "Paths computed per cell from formulas of the swept paths and the base's numbers." }),
        replicates: z
          .int({ error: "must be an integer >= 1" })
          .min(1, { error: "must be an integer >= 1" })
          .optional()
          .meta({ description: "Runs per grid point, each with its own seed (default 1)." }),
        seed: z
          .int({ error: SEED })
          .min(0, { error: SEED })
          .max(2 ** 32 - 1, { error: SEED })
          .optional()
          .meta({ description: "The sweep's seed: cell c runs with cellSeed(seed, c) unless the sweep sets seed itself (default 0)." }),
        keep: keepSchema.optional(),
        name: z
          .string({ error: "must be a string" })
          .min(1, { error: NAME })
          .max(MAX_NAME_LENGTH, { error: NAME })
          .regex(PLAIN_NAME, { error: "must be a plain file name: no control characters, no / or \\, not . or .." })
          .optional()
          .meta({ description: "Names the output files (out/<name>.jsonl); default the file name." }),
        description: z.string({ error: "must be a string" }).optional(),
        summary: z.string({ error: "must be a string" }).optional().meta({ description: "A summary to print after the run (table5, lemma35, k-phase)." }),
      },
      { error: "must be a JSON object with base and axes" },
    )
    .meta({ title: "plurisim sweep", description: "A plurisim parameter sweep: a base scenario and the parameters to vary." });
}

/**
 * The sweep file's validator. The base is checked here as a preset name or an object only: the
 * scenario it holds is validated by parseScenario, whose errors name the scenario's own fields.
 */
export const sweepSchema = sweepDocument(
  z.union([z.string(), z.record(z.string(), z.unknown())], { error: "must be a scenario object or a preset name" }),
);

/** The JSON Schema of a sweep file, generated from the validator (the base as a preset name or a scenario). */
export function sweepJsonSchema(): Record<string, unknown> {
  const base = z
    .union([z.string().meta({ description: "A preset name (`plurisim presets` lists them)." }), scenarioSchema])
    .meta({ description: "The scenario every cell starts from; the sweep sets its parameters per cell." });
  const schema = z.toJSONSchema(sweepDocument(base), { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  return { $id: "https://plurisim.dev/schema/sweep.schema.json", ...schema };
}

type SweepDocument = z.output<typeof sweepSchema>;

/** The field of a sweep issue path: parameter paths, the keys of axes, zip groups and derived, are quoted. */
function sweepField(path: readonly PropertyKey[]): string {
  const keyAt = path[0] === "axes" || path[0] === "derived" ? 1 : path[0] === "zip" ? 2 : -1;
  if (keyAt < 0 || path.length <= keyAt) return formatPath(path);
  return `${formatPath(path.slice(0, keyAt))}[${JSON.stringify(String(path[keyAt]))}]${formatPath(["_", ...path.slice(keyAt + 1)]).slice(1)}`;
}

function parseKeep(v: SweepDocument["keep"]): Keep {
  const keep: Keep = { final: true, generations: [], trajectory: false, metrics: null, nash: false, audit: false, dynamics: true };
  if (v === undefined) return keep;
  for (const k of ["final", "trajectory", "nash", "audit", "dynamics"] as const) {
    if (v[k] !== undefined) keep[k] = v[k];
  }
  if (v.generations !== undefined) keep.generations = [...new Set(v.generations)].sort((a, b) => a - b);
  if (v.metrics !== undefined) keep.metrics = v.metrics;
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
  // Problems the schema words itself keep its text; the others take defaultProblem's.
  const parsed = sweepSchema.safeParse(input, { error: defaultProblem });
  if (!parsed.success) throw issueToError(parsed.error.issues[0], input, { code: "INVALID_SWEEP", schema: sweepSchema, field: sweepField, intoUnions: true });
  const doc = parsed.data;
  let base: Record<string, unknown>;
  if (typeof doc.base === "string") {
    try {
      base = presetScenario(doc.base);
    } catch (e) {
      if (isPlurisimError(e)) bad("base", `is not a preset name: ${e.message}`, doc.base);
      throw e;
    }
  } else base = structuredClone(doc.base);

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

  for (const [path, spec] of Object.entries(doc.axes ?? {})) {
    const field = `axes[${JSON.stringify(path)}]`;
    claim(path, field);
    const values = expandAxis(spec, field);
    dims.push({ paths: [path], values: [values], length: values.length });
  }
  (doc.zip ?? []).forEach((group, g) => {
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

  const derived: { path: string; expr: string }[] = [];
  for (const [path, expr] of Object.entries(doc.derived ?? {})) {
    claim(path, `derived[${JSON.stringify(path)}]`);
    derived.push({ path, expr });
  }

  const replicates = doc.replicates ?? 1;
  const keep = parseKeep(doc.keep);

  let total = replicates;
  for (const d of dims) total *= d.length;
  if (total >= MAX_CELLS_FORCED) bad("axes", `give ${total} cells, over the hard limit of 2^32 (cell indices and seeds are u32)`, total);
  if (total > MAX_CELLS && !options.force) {
    bad("axes", `give ${total} cells, over the limit of ${MAX_CELLS} cells per sweep: pass --force (force: true) to run it anyway, or shard it`, total);
  }

  const plan: SweepPlan = {
    name: doc.name ?? options.name ?? "sweep",
    base,
    dims,
    derived,
    replicates,
    seed: doc.seed ?? 0,
    keep,
    total,
  };
  if (doc.description !== undefined) plan.description = doc.description;
  if (doc.summary !== undefined) plan.summary = doc.summary;
  compileDerived(plan);
  validateCells(plan);
  return plan;
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

/**
 * What the fast path of a plan keeps (parsedCellAt): the shape of its base (parseScenarioShape) and,
 * for each path the sweep sets, a check of the values put there (shapeLeafCheck); dim values are
 * checked once each, when a cell first uses them.
 */
interface FastPlan {
  shape: ScenarioShape;
  /** dims[d][j]: the keys and check of plan.dims[d].paths[j], and per value 0 (not yet checked), 1 (passes) or 2 (fails). */
  dims: { keys: PathKey[]; check: LeafCheck; seen: Uint8Array }[][];
  derived: LeafCheck[];
  seed: LeafCheck;
  /** The keys of the names derived formulas have read. */
  names: Map<string, PathKey[]>;
}

const fastCache = new WeakMap<SweepPlan, FastPlan | null>();

/** The plan's fast path, or null when one of its paths is not a number, string or boolean of its base's shape. */
function fastPlan(plan: SweepPlan): FastPlan | null {
  const hit = fastCache.get(plan);
  if (hit !== undefined) return hit;
  let fast: FastPlan | null = null;
  try {
    const shape = parseScenarioShape(plan.base);
    const leaf = (path: string) => {
      const keys = parsePath(path, path);
      return { keys, check: shapeLeafCheck(shape, keys) };
    };
    const dims = plan.dims.map((d) => d.paths.map((p) => ({ ...leaf(p), seen: new Uint8Array(d.length) })));
    const derived = plan.derived.map((d) => leaf(d.path).check);
    const seed = shapeLeafCheck(shape, ["seed"]);
    const checks = [...dims.flat().map((d) => d.check), ...derived, seed];
    if (checks.every((c) => c !== null)) fast = { shape, dims: dims as FastPlan["dims"], derived: derived as LeafCheck[], seed: seed!, names: new Map() };
  } catch {
    fast = null; // the base or a path does not parse: cellAt and parseScenario say why
  }
  fastCache.set(plan, fast);
  return fast;
}

/** `shape` with `value` at each `keys`: the objects and arrays along the paths are copied, the rest shared. */
function patchShape(shape: ScenarioShape, patches: readonly [PathKey[], unknown][]): ScenarioShape {
  const root: Record<PathKey, unknown> = { ...shape };
  const copied = new Set<unknown>([root]);
  for (const [keys, value] of patches) {
    let cur = root;
    for (let d = 0; d < keys.length - 1; d++) {
      let next = cur[keys[d]];
      if (!copied.has(next)) {
        next = Array.isArray(next) ? next.slice() : { ...(next as object) };
        cur[keys[d]] = next;
        copied.add(next);
      }
      cur = next as Record<PathKey, unknown>;
    }
    cur[keys[keys.length - 1]] = value;
  }
  return root as ScenarioShape;
}

/**
 * The validated scenario and parameters of the grid point `idx`, built from the base's shape: each
 * swept value passes its leaf's check, and only the checks across fields run (finishScenario).
 * Null whenever that does not show the scenario valid; the caller then builds and parses it in
 * full, which gives the scenario's own error. `seed`, when given, is written to the scenario's seed.
 */
function fastScenario(plan: SweepPlan, fast: FastPlan, idx: readonly number[], seed?: number): { scenario: Scenario; params: Record<string, unknown> } | null {
  const params: Record<string, unknown> = {};
  const patches: [PathKey[], unknown][] = [];
  for (let d = 0; d < plan.dims.length; d++) {
    const dim = plan.dims[d];
    const k = idx[d];
    for (let j = 0; j < dim.paths.length; j++) {
      const leaf = fast.dims[d][j];
      const value = dim.values[j][k];
      if (leaf.seen[k] === 0) leaf.seen[k] = leaf.check(value) ? 1 : 2;
      if (leaf.seen[k] === 2) return null;
      params[dim.paths[j]] = value;
      patches.push([leaf.keys, value]);
    }
  }
  const derived = compileDerived(plan);
  // A name reads the value a swept or earlier derived path gives it, else the base's.
  const read = (name: string) => {
    if (Object.hasOwn(params, name)) return asNumber(params[name]);
    let keys = fast.names.get(name);
    if (!keys) fast.names.set(name, (keys = parsePath(name, name)));
    return asNumber(getPath(plan.base, keys));
  };
  for (let i = 0; i < derived.length; i++) {
    const der = derived[i];
    const v = evaluateExpression(der.node, read);
    if (Number.isNaN(v) || v === -Infinity) return null;
    const value = v === Infinity ? "inf" : v;
    if (!fast.derived[i](value)) return null;
    params[der.path] = value;
    patches.push([der.keys, value]);
  }
  if (seed !== undefined) {
    if (!fast.seed(seed)) return null;
    patches.push([["seed"], seed]);
  }
  try {
    return { scenario: finishScenario(patchShape(fast.shape, patches)), params };
  } catch {
    return null;
  }
}

/** A cell with its scenario validated (parsedCellAt). */
export interface ParsedCell {
  cell: number;
  replicate: number;
  params: Record<string, unknown>;
  seed: number;
  /** Equal to parseScenario(cellAt(plan, cell).scenario). */
  scenario: Scenario;
}

/**
 * Cell `cell` of the sweep with its scenario validated, without parsing the whole scenario: the
 * base's shape is parsed once per plan, each swept value is checked once against its field, and
 * each cell runs only the checks across fields (weights summing to 1, the space, the record
 * interval, ...). Null when that cannot show the cell valid (an invalid cell, or a sweep that sets
 * objects, arrays or fields its base leaves out): then cellAt and parseScenario build it in full,
 * and refuse it with the scenario's own error.
 */
export function parsedCellAt(plan: SweepPlan, cell: number): ParsedCell | null {
  const fast = fastPlan(plan);
  if (!fast) return null;
  const { idx, replicate } = cellIndices(plan, cell);
  const swept = plan.dims.some((d) => d.paths.includes("seed")) || plan.derived.some((d) => d.path === "seed");
  const own = swept ? undefined : cellSeed(plan.seed, cell);
  const built = fastScenario(plan, fast, idx, own);
  if (!built) return null;
  return { cell, replicate, params: built.params, seed: own ?? (built.params.seed as number), scenario: built.scenario };
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
function blame(plan: SweepPlan, d: number, k: number, e: PlurisimError, unknownPath: (p: string) => boolean): never {
  const dim = plan.dims[d];
  const paths = dim.paths;
  const field = paths.length > 1 ? `zip (${paths.map((p) => JSON.stringify(p)).join(", ")})[${k}]` : `axes[${JSON.stringify(paths[0])}][${k}]`;
  const value = paths.length > 1 ? Object.fromEntries(paths.map((p, j) => [p, dim.values[j][k]])) : dim.values[0][k];
  const unknown = paths.find(unknownPath);
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
  const zero = plan.dims.map(() => 0);
  const fast = fastPlan(plan);
  const check = (idx: number[], d: number, k: number) => {
    // Shown valid without a full parse; otherwise the full parse finds the error to report.
    if (fast && fastScenario(plan, fast, idx)) return;
    let scenario: Record<string, unknown> | undefined;
    // A path is unknown when neither the base has it nor the scenario schema names it (for this
    // cell's kinds of space, reward and retraining).
    const unknownPath = (p: string) => {
      const keys = parsePath(p, p);
      return getPath(parsedBase, keys) === undefined && getPath(plan.base, keys) === undefined && schemaAt(scenarioSchema, scenario, keys) === null;
    };
    try {
      scenario = buildScenario(plan, idx).scenario;
      parseScenario(scenario);
    } catch (e) {
      if (!isPlurisimError(e)) throw e;
      if (e.code === "INVALID_SWEEP") throw e;
      if (d < 0) {
        const f = e.field ?? "";
        const hit = plan.dims.findIndex((dim) =>
          dim.paths.some((p) => f !== "" && (f === p || p.startsWith(`${f}.`) || p.startsWith(`${f}[`) || f.startsWith(`${p}.`) || f.startsWith(`${p}[`))),
        );
        if (hit >= 0) blame(plan, hit, 0, e, unknownPath);
        throw new PlurisimError("INVALID_SWEEP", `the first cell of the sweep is not a valid scenario: ${e.message}`, { field: e.field ?? "base", value: e.value, cause: e });
      }
      blame(plan, d, k, e, unknownPath);
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
 * MAX_CHECKED_VALUES: a check takes microseconds when parsedCellAt's path shows the value valid,
 * but a value it cannot is parsed whole (about 0.1 ms), so the 1,000,000 values one axis may hold
 * could take minutes. A longer dim checks its first and last halves of that
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
