// The scenario document: its zod 4 schema (the single source of the JSON Schema that ships
// with the package), and parseScenario, which validates, applies defaults and normalises.
// Every failure is a PlurisimError naming the field path and the offending value.
// docs/scenario.md documents every field.

import * as z from "zod";
import { PlurisimError, formatPath, invalidField } from "./errors.js";
import { compileFormula, type FormulaVar } from "./formula.js";
import { checkJsonDocument } from "./json.js";
import {
  checkMemory,
  MAX_CANDIDATES_PER_GENERATION,
  MAX_COORDINATE,
  MAX_COVARIANCE,
  MAX_GENERATIONS,
  MAX_GROUPS,
  MAX_K,
  MAX_NAME_LENGTH,
  MAX_SAMPLES,
  MAX_SEED,
  MAX_SNAPSHOTS,
  MAX_STRING_LENGTH,
} from "./limits.js";
import { defaultProblem, issueToError, schemaAt } from "./zod-issues.js";

/** Masses and weights must sum to 1 within this tolerance unless `normalize` is true. */
export const SUM_TOLERANCE = 1e-9;

/**
 * Most intervals of record.every generations a run may record (generations / record.every),
 * with up to 20 groups; above 20 groups, 2^21 / m (see maxRecordedIntervals). A kept trajectory
 * then holds at most that many entries plus 2 (generation 0, every record.every-th, the last),
 * whatever the number of generations.
 */
export const MAX_RECORDED_INTERVALS = 100_000;

/**
 * Most intervals a run with m groups may record: MAX_RECORDED_INTERVALS, or 2^21 / m when that
 * is smaller. A trajectory entry holds 4 numbers per group, so the per-group numbers of a kept
 * trajectory stay under 2^23 (64 MiB of f64) however many groups there are.
 */
export function maxRecordedIntervals(m: number): number {
  return Math.max(1, Math.min(MAX_RECORDED_INTERVALS, Math.floor(2 ** 21 / Math.max(1, m))));
}

/** The smallest record.every a run of T generations with m groups may use, and the value it takes when the scenario leaves it out. */
export function minRecordEvery(T: number, m: number): number {
  return Math.max(1, Math.ceil(T / maxRecordedIntervals(m)));
}

const num = z.number();
const K_MESSAGE = 'must be an integer >= 2 or "inf"';
const positive = z.number().positive({ error: "must be > 0" });
const nonnegative = z.number().nonnegative({ error: "must be >= 0" });
const pair = z.tuple([num, num], { error: "must be an [x, y] pair of numbers" });
/** A point: a number in 1-D, an [x, y] pair in 2-D. */
const point = z.union([num, pair], { error: "must be a number (1-D) or an [x, y] pair (2-D)" });
// Coordinates of atoms and Gaussian means are bounded so that the squared distances of the
// discretisation stay finite (src/core/compile.ts, gaussianLogDensity).
const COORD_MESSAGE = `must be a number in [-${MAX_COORDINATE}, ${MAX_COORDINATE}]`;
const coord = z.number().min(-MAX_COORDINATE, { error: COORD_MESSAGE }).max(MAX_COORDINATE, { error: COORD_MESSAGE });
const coordPair = z.tuple([coord, coord], { error: "must be an [x, y] pair of numbers" });
const coordPoint = z.union([coord, coordPair], { error: "must be a number (1-D) or an [x, y] pair (2-D)" });
const COV_MESSAGE = `must be a number in [-${MAX_COVARIANCE}, ${MAX_COVARIANCE}]`;
const covEntry = z.number().min(-MAX_COVARIANCE, { error: COV_MESSAGE }).max(MAX_COVARIANCE, { error: COV_MESSAGE });
const covRow = z.tuple([covEntry, covEntry], { error: "must be an [x, y] pair of numbers" });
const matrix2 = z.tuple([covRow, covRow], { error: "must be a 2x2 matrix [[a, b], [b, d]]" });
const NAME_MESSAGE = `must have between 1 and ${MAX_NAME_LENGTH} characters`;
const count = (what: string) => z.int({ error: `must be an integer >= 1 (${what})` }).min(1, { error: `must be an integer >= 1 (${what})` });

const grid1d = z
  .strictObject({
    kind: z.literal("grid1d"),
    min: coord.meta({ description: "Left end of the interval." }),
    max: coord.meta({ description: "Right end of the interval (> min)." }),
    cells: count("number of cells").meta({ description: "Number of cells; atoms are the cell centres min + (i + 0.5)(max - min)/cells." }),
  })
  .meta({ description: "A 1-D grid of equal cells on [min, max]." });

const grid2d = z
  .strictObject({
    kind: z.literal("grid2d"),
    min: coordPair.meta({ description: "Lower-left corner [a, b]." }),
    max: coordPair.meta({ description: "Upper-right corner [c, d]." }),
    cells: z.tuple([count("cells along x"), count("cells along y")], { error: "must be a pair [cells_x, cells_y] of integers >= 1" }),
  })
  .meta({ description: "A 2-D grid of cells_x x cells_y equal cells; atom index = ix * cells_y + iy." });

const atoms = z
  .strictObject({
    kind: z.literal("atoms"),
    count: count("number of atoms"),
    coords: z
      .union([z.array(coord), z.array(coordPair)], { error: "must be an array of numbers (1-D) or of [x, y] pairs (2-D)" })
      .optional()
      .meta({ description: "Optional coordinates, one per atom: numbers (1-D) or [x, y] pairs (2-D)." }),
  })
  .meta({ description: "Explicit outcomes, optionally with coordinates." });

export const spaceSchema = z.discriminatedUnion("kind", [grid1d, grid2d, atoms]);

const uniform = z.strictObject({ kind: z.literal("uniform") }).meta({ description: "Equal mass on every atom." });
const gaussian = z
  .strictObject({
    kind: z.literal("gaussian"),
    mean: coordPoint,
    sd: positive.optional().meta({ description: "Standard deviation (1-D; in 2-D an isotropic covariance sd^2 I)." }),
    cov: matrix2.optional().meta({ description: "Covariance matrix (2-D), symmetric positive definite." }),
  })
  .meta({ description: "A Gaussian density discretised on the atoms (density x cell volume, renormalised over the box)." });
const mixture = z
  .strictObject({
    kind: z.literal("mixture"),
    weights: z.array(nonnegative).min(1, { error: "must list at least one component" }),
    means: z.array(coordPoint),
    sds: z.array(positive).optional(),
    covs: z.array(matrix2).optional(),
  })
  .meta({ description: "A Gaussian mixture discretised on the atoms; one of sds or covs." });
const massVector = z
  .strictObject({ kind: z.literal("vector"), values: z.array(num).meta({ description: "One mass per atom, >= 0." }) })
  .meta({ description: "Explicit masses over the atoms." });

export const distributionSchema = z.discriminatedUnion("kind", [uniform, gaussian, mixture, massVector]);

const rewardSchemas = [
  z
    .strictObject({ kind: z.literal("quadratic"), center: point, scale: num.default(1) })
    .meta({ description: "A quadratic well -scale |x - center|^2." }),
  z
    .strictObject({ kind: z.literal("gaussian"), center: point, width: positive, height: num.default(1) })
    .meta({ description: "A Gaussian bump height exp(-|x - center|^2 / (2 width^2))." }),
  z
    .strictObject({ kind: z.literal("linear"), slope: point, intercept: num.default(0) })
    .meta({ description: "A linear reward slope . x + intercept." }),
  z
    .strictObject({ kind: z.literal("plateau"), center: point, radius: nonnegative, level: num.default(0), outside: num.default(-1) })
    .meta({ description: "level where |x - center| <= radius, outside elsewhere." }),
  z
    .strictObject({
      kind: z.literal("box"),
      boxes: z
        .array(z.strictObject({ lo: point, hi: point, level: num }))
        .min(1, { error: "must list at least one box" }),
      outside: num.default(0),
    })
    .meta({ description: "Piecewise constant: the level of the last listed box containing the point (lo <= x <= hi), else outside." }),
  z
    .strictObject({ kind: z.literal("vector"), values: z.array(num) })
    .meta({ description: "One reward per atom (off the atoms: the value of the cell that contains the point)." }),
  z
    .strictObject({ kind: z.literal("formula"), expr: z.string().min(1, { error: "must not be empty" }) })
    .meta({ description: "A formula of the coordinates x (and y in 2-D), e.g. -(x - 2)^2." }),
] as const;

export const rewardSchema = z.discriminatedUnion("kind", [...rewardSchemas]);

export const groupSchema = z.strictObject({
  name: z
    .string()
    .min(1, { error: NAME_MESSAGE })
    .max(MAX_NAME_LENGTH, { error: NAME_MESSAGE })
    .optional()
    .meta({ description: "Group name; default g0, g1, ..." }),
  weight: positive.meta({ description: "Group weight q_i > 0; the weights sum to 1 (or set normalize)." }),
  reward: rewardSchema,
});

const samples = z
  .int({ error: "must be an integer >= 1" })
  .min(1, { error: "must be an integer >= 1" })
  .max(MAX_SAMPLES, { error: `must be <= ${MAX_SAMPLES}` })
  .meta({ description: "Training samples N drawn per generation." });

const positiveInt = (max: number) => z.int({ error: "must be an integer >= 1" }).min(1, { error: "must be an integer >= 1" }).max(max, { error: `must be <= ${max}` });

/** The flow model (docs/flow.md): an MLP vector field trained by conditional flow matching. */
const flowRetrainingSchema = z
  .strictObject({
    model: z.literal("flow"),
    samples,
    hidden: z
      .array(positiveInt(1024))
      .min(1, { error: "must list between 1 and 8 hidden widths" })
      .max(8, { error: "must list between 1 and 8 hidden widths" })
      .default([64, 64])
      .meta({ description: "Hidden layer widths of the MLP vector field, each an integer >= 1." }),
    activation: z.enum(["silu", "tanh"]).default("silu"),
    lr: positive.max(1, { error: "must be <= 1" }).default(1e-3).meta({ description: "Adam learning rate > 0." }),
    steps: positiveInt(1_000_000).default(500).meta({ description: "Adam steps per generation." }),
    batch: positiveInt(4096).default(256).meta({ description: "Minibatch size of each Adam step." }),
    warmStart: z.boolean().default(true).meta({ description: "Start each generation from the previous weights (false: re-initialise)." }),
    odeSteps: positiveInt(10_000).default(32).meta({ description: "Steps of the ODE sampler from t = 0 to 1." }),
    solver: z.enum(["euler", "heun"]).default("euler"),
    coupling: z.enum(["independent", "ot"]).default("independent").meta({ description: "Pairing of source noise and data in a minibatch: independent, or minibatch optimal transport (OT-CFM)." }),
    poolFactor: positiveInt(64).default(4).meta({ description: "K = infinity: network samples resampled by the curation weights, as a multiple of the curated count." }),
  })
  .meta({ description: "A small MLP vector field trained by conditional flow matching, retrained each generation (grid spaces only)." });

export const retrainingSchema = z.discriminatedUnion("model", [
  z.strictObject({ model: z.literal("exact") }).meta({ description: "Population update: infinite samples, unlimited model." }),
  z
    .strictObject({ model: z.literal("histogram"), samples, smoothing: nonnegative.default(0).meta({ description: "Additive smoothing alpha >= 0." }) })
    .meta({ description: "Categorical maximum likelihood over the atoms with additive smoothing." }),
  z
    .strictObject({
      model: z.literal("gmm"),
      samples,
      components: z.int({ error: "must be an integer >= 1" }).min(1, { error: "must be an integer >= 1" }).max(1024, { error: "must be <= 1024" }),
      varianceFloor: positive.optional().meta({ description: "Smallest variance of a component; default 1e-6 x (largest box side)^2." }),
      emIterations: z.int({ error: "must be an integer >= 1" }).min(1, { error: "must be an integer >= 1" }).default(50),
    })
    .meta({ description: "A Gaussian mixture with C components fitted by EM (grid spaces only)." }),
  z
    .strictObject({ model: z.literal("kde"), samples, bandwidth: positive.meta({ description: "Kernel bandwidth h > 0." }) })
    .meta({ description: "A Gaussian kernel density estimate (grid spaces only)." }),
  flowRetrainingSchema,
]);

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: "JSON Schema reference for editors; ignored." }),
    name: z.string().max(MAX_NAME_LENGTH, { error: `must have at most ${MAX_NAME_LENGTH} characters` }).optional().meta({ description: "A short name; ignored by the engine." }),
    description: z.string().optional().meta({ description: "One line about the scenario; ignored by the engine." }),
    space: spaceSchema,
    initial: distributionSchema.prefault({ kind: "uniform" }).meta({ description: "Initial distribution p_0; default uniform." }),
    groups: z
      .array(groupSchema)
      .min(1, { error: `must list between 1 and ${MAX_GROUPS} groups` })
      .max(MAX_GROUPS, { error: `must list between 1 and ${MAX_GROUPS} groups` }),
    curation: z
      .strictObject({
        K: z
          .union([z.int({ error: K_MESSAGE }).min(2, { error: K_MESSAGE }).max(MAX_K, { error: `${K_MESSAGE}, at most 2^31 - 1` }), z.literal("inf")], { error: K_MESSAGE })
          .default("inf")
          .meta({ description: 'Candidates per curated sample: an integer >= 2, or "inf".' }),
        temperature: positive.default(1).meta({ description: "Curation temperature tau > 0." }),
        mixing: z.enum(["per-sample", "per-generation"]).default("per-sample"),
      })
      .prefault({}),
    realData: z
      .strictObject({
        fraction: z
          .number()
          .min(0, { error: "must be in [0, 1)" })
          .lt(1, { error: "must be in [0, 1)" })
          .default(0)
          .meta({ description: "Fraction lambda in [0, 1) of real samples each generation." }),
        distribution: distributionSchema.optional().meta({ description: "p_data; default the initial distribution." }),
      })
      .prefault({}),
    generations: z
      .int({ error: "must be an integer >= 0" })
      .min(0, { error: "must be an integer >= 0" })
      .max(MAX_GENERATIONS, { error: `must be <= ${MAX_GENERATIONS}` })
      .default(100)
      .meta({ description: "Generations T." }),
    record: z
      .strictObject({
        every: z
          .int({ error: "must be an integer >= 1" })
          .min(1, { error: "must be an integer >= 1" })
          .optional()
          .meta({
            description: `Record the metrics every this many generations, at least generations / ${MAX_RECORDED_INTERVALS} (generations x groups / 2^21 above 20 groups); by default 1, or that smallest value when it is larger.`,
          }),
        snapshots: z
          .array(z.int({ error: "must be an integer >= 0" }).min(0, { error: "must be an integer >= 0" }))
          .max(MAX_SNAPSHOTS, { error: `must list at most ${MAX_SNAPSHOTS} generations` })
          .optional()
          .meta({ description: "Generations at which a copy of p is kept." }),
      })
      .prefault({}),
    earlyStop: z
      .strictObject({
        tolerance: positive.optional().meta({ description: "Stop once the L1 change between generations is below this." }),
        nashGap: positive.optional().meta({ description: "K = infinity, per-sample mixing, exact model: stop once nashGap(p_t), a certified bound on F* - F(p_t), is at most this." }),
      })
      .optional(),
    basinEpsilon: positive.default(0.1).meta({ description: "Basin width eps (docs/model.md, section 5)." }),
    seed: z
      .int({ error: "must be an integer in [0, 2^32)" })
      .min(0, { error: "must be an integer in [0, 2^32)" })
      .max(MAX_SEED, { error: "must be an integer in [0, 2^32) (the PRNG is keyed by 32-bit words)" })
      .default(0),
    normalize: z.boolean().default(false).meta({ description: "Rescale masses and weights that do not sum to 1 instead of rejecting them." }),
    retraining: retrainingSchema.prefault({ model: "exact" }),
  })
  .meta({ title: "plurisim scenario", description: "A plurisim scenario: curated recursive retraining under several preference groups." });

type ScenarioOutput = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type SpaceSpec = z.output<typeof spaceSchema>;
export type DistributionSpec = z.output<typeof distributionSchema>;
export type RewardSpec = z.output<typeof rewardSchema>;
export type RetrainingInput = z.output<typeof retrainingSchema>;
export type GroupSpec = z.output<typeof groupSchema> & { name: string };
/** A validated scenario: defaults applied (record.every included), group names filled in, masses and weights normalised. */
export type Scenario = Omit<ScenarioOutput, "groups" | "record"> & { groups: GroupSpec[]; record: ScenarioOutput["record"] & { every: number } };

/** The JSON Schema of a scenario document, generated from the validator. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioSchema, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
  return { $id: "https://plurisim.dev/schema/scenario.schema.json", ...schema };
}

/** Number of atoms n of a space. */
export function atomCount(space: SpaceSpec): number {
  if (space.kind === "grid1d") return space.cells;
  if (space.kind === "grid2d") return space.cells[0] * space.cells[1];
  return space.count;
}

/** Coordinates per atom: 1 (grid1d), 2 (grid2d), 0, 1 or 2 (atoms, from its coords). */
export function spaceDim(space: SpaceSpec): 0 | 1 | 2 {
  if (space.kind === "grid1d") return 1;
  if (space.kind === "grid2d") return 2;
  if (!space.coords || space.coords.length === 0) return 0;
  return typeof space.coords[0] === "number" ? 1 : 2;
}

/** The formula variables a space offers. */
export function formulaVars(space: SpaceSpec): FormulaVar[] {
  const dim = spaceDim(space);
  return dim === 2 ? ["x", "y"] : dim === 1 ? ["x"] : [];
}

// Copies plain JSON-like input, turning typed arrays into arrays, and rejects NaN and
// infinite numbers anywhere with the field path (zod would too, but less clearly).
function copyChecked(value: unknown, path: (string | number)[], seen: Set<object>): unknown {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      const field = formatPath(path);
      const hint = field === "curation.K" ? ' (write "inf" for K = infinity)' : "";
      throw invalidField(field, `must be a finite number${hint}`, value);
    }
    return value;
  }
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) throw invalidField(formatPath(path), "must not contain itself (a cycle)", "[cycle]");
  seen.add(value);
  let out: unknown;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number>);
    out = arr.map((v, i) => copyChecked(v, [...path, i], seen));
  } else if (Array.isArray(value)) {
    out = value.map((v, i) => copyChecked(v, [...path, i], seen));
  } else {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = copyChecked(v, [...path, k], seen);
    out = o;
  }
  seen.delete(value);
  return out;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

// Checks that masses or weights are >= 0 and sum to 1 (or rescales them when normalize is set).
// `field` names the array; `entry(i)` the field of entry i.
function checkSimplex(values: number[], field: string, entry: (i: number) => string, what: string, normalize: boolean): number[] {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0) throw invalidField(entry(i), `must be >= 0 (a negative ${what})`, values[i]);
  }
  const s = sum(values);
  if (!(s > 0)) throw invalidField(field, `must have a positive sum (sum ${s})`, values);
  if (Math.abs(s - 1) <= SUM_TOLERANCE) return values;
  if (!normalize) {
    throw invalidField(field, `must sum to 1 within ${SUM_TOLERANCE} but sum to ${Number(s.toPrecision(12))}; fix them or set "normalize": true to rescale`, values);
  }
  return values.map((v) => v / s);
}

function pointDim(p: number | [number, number]): 1 | 2 {
  return typeof p === "number" ? 1 : 2;
}

function checkPoint(p: number | [number, number], dim: 0 | 1 | 2, field: string): void {
  if (pointDim(p) !== dim) {
    throw invalidField(field, dim === 2 ? "must be an [x, y] pair on a 2-D space" : "must be a number on a 1-D space", p);
  }
}

function checkCov(c: [[number, number], [number, number]], field: string): void {
  const [[a, b], [b2, d]] = c;
  if (Math.abs(b - b2) > 1e-12 * Math.max(1, Math.abs(b))) throw invalidField(field, "must be symmetric", c);
  if (!(a > 0 && d > 0 && a * d - b * b > 0)) throw invalidField(field, "must be positive definite (a > 0, d > 0, ad - b^2 > 0)", c);
}

function checkDistribution(dist: DistributionSpec, field: string, dim: 0 | 1 | 2, n: number, normalize: boolean): DistributionSpec {
  switch (dist.kind) {
    case "uniform":
      return dist;
    case "vector": {
      if (dist.values.length !== n) {
        throw invalidField(`${field}.values`, `has ${dist.values.length} entries but the space has ${n} atoms`, dist.values);
      }
      return { ...dist, values: checkSimplex(dist.values, `${field}.values`, (i) => `${field}.values[${i}]`, "mass", normalize) };
    }
    case "gaussian": {
      if (dim === 0) throw invalidField(`${field}.kind`, "needs atom coordinates; this space has none (use uniform or vector)", dist.kind);
      checkPoint(dist.mean, dim, `${field}.mean`);
      if (dim === 1) {
        if (dist.cov !== undefined) throw invalidField(`${field}.cov`, "is for 2-D spaces; use sd in 1-D", dist.cov);
        if (dist.sd === undefined) throw invalidField(`${field}.sd`, "is required (standard deviation > 0)", undefined);
      } else {
        if ((dist.sd === undefined) === (dist.cov === undefined)) throw invalidField(`${field}`, "needs exactly one of cov (2x2 matrix) or sd (isotropic) in 2-D", dist);
        if (dist.cov) checkCov(dist.cov, `${field}.cov`);
      }
      return dist;
    }
    case "mixture": {
      if (dim === 0) throw invalidField(`${field}.kind`, "needs atom coordinates; this space has none (use uniform or vector)", dist.kind);
      const k = dist.weights.length;
      if (dist.means.length !== k) throw invalidField(`${field}.means`, `has ${dist.means.length} entries but weights has ${k}`, dist.means);
      dist.means.forEach((m, i) => checkPoint(m, dim, `${field}.means[${i}]`));
      if ((dist.sds === undefined) === (dist.covs === undefined)) {
        throw invalidField(field, `needs exactly one of sds${dim === 2 ? " (isotropic) or covs" : ""}`, dist);
      }
      if (dist.covs !== undefined) {
        if (dim !== 2) throw invalidField(`${field}.covs`, "is for 2-D spaces; use sds in 1-D", dist.covs);
        if (dist.covs.length !== k) throw invalidField(`${field}.covs`, `has ${dist.covs.length} entries but weights has ${k}`, dist.covs);
        dist.covs.forEach((c, i) => checkCov(c, `${field}.covs[${i}]`));
      }
      if (dist.sds !== undefined && dist.sds.length !== k) throw invalidField(`${field}.sds`, `has ${dist.sds.length} entries but weights has ${k}`, dist.sds);
      return { ...dist, weights: checkSimplex(dist.weights, `${field}.weights`, (i) => `${field}.weights[${i}]`, "weight", normalize) };
    }
  }
}

function checkReward(reward: RewardSpec, field: string, space: SpaceSpec, dim: 0 | 1 | 2, n: number): void {
  if (reward.kind === "vector") {
    if (reward.values.length !== n) throw invalidField(`${field}.values`, `has ${reward.values.length} entries but the space has ${n} atoms`, reward.values);
    return;
  }
  if (dim === 0) throw invalidField(`${field}.kind`, "needs atom coordinates; this space has none (use a vector reward or give space.coords)", reward.kind);
  switch (reward.kind) {
    case "quadratic":
    case "gaussian":
    case "plateau":
      checkPoint(reward.center, dim, `${field}.center`);
      return;
    case "linear":
      checkPoint(reward.slope, dim, `${field}.slope`);
      return;
    case "box":
      reward.boxes.forEach((b, j) => {
        checkPoint(b.lo, dim, `${field}.boxes[${j}].lo`);
        checkPoint(b.hi, dim, `${field}.boxes[${j}].hi`);
        const lo = typeof b.lo === "number" ? [b.lo] : b.lo;
        const hi = typeof b.hi === "number" ? [b.hi] : b.hi;
        if (lo.some((v, d) => v > hi[d])) throw invalidField(`${field}.boxes[${j}]`, "must have lo <= hi in every coordinate", b);
      });
      return;
    case "formula":
      compileFormula(reward.expr, formulaVars(space), `${field}.expr`);
      return;
  }
}

/** Default variance floor of a gmm: 1e-6 x (largest side of the box)^2. */
export function defaultVarianceFloor(space: SpaceSpec): number {
  if (space.kind === "grid1d") return 1e-6 * (space.max - space.min) ** 2;
  if (space.kind === "grid2d") return 1e-6 * Math.max(space.max[0] - space.min[0], space.max[1] - space.min[1]) ** 2;
  return 1e-6;
}

/**
 * Validates a scenario object (parsed JSON or built in code), applies the defaults, fills in
 * group names and normalises masses and weights. Throws PlurisimError (INVALID_SCENARIO,
 * FORMULA_*, MEMORY_LIMIT) naming the field path and showing the value.
 */
export function parseScenario(input: unknown): Scenario {
  return finishScenario(parseScenarioShape(input));
}

/** A scenario as the schema alone leaves it: field by field valid, defaults applied, before finishScenario. */
export type ScenarioShape = ScenarioOutput;

/**
 * The first half of parseScenario: the checks that look at one field at a time (document bounds,
 * finite numbers, the zod schema with its defaults). Throws as parseScenario does.
 */
export function parseScenarioShape(input: unknown): ScenarioShape {
  checkJsonDocument(input, "INVALID_SCENARIO", "scenario");
  const copy = copyChecked(input, [], new Set());
  if (copy === null || typeof copy !== "object" || Array.isArray(copy)) {
    throw invalidField("", "must be a JSON object", input);
  }
  // Problems the schema words itself keep its text; the others take defaultProblem's.
  const parsed = scenarioSchema.safeParse(copy, { error: defaultProblem });
  if (!parsed.success) throw issueToError(parsed.error.issues[0], copy, { code: "INVALID_SCENARIO", schema: scenarioSchema });
  return parsed.data;
}

/** A test of one value for a leaf of a scenario shape (shapeLeafCheck). */
export type LeafCheck = (value: unknown) => boolean;

/**
 * For the number, string or boolean at `keys` in `shape`: a test that a value put there instead
 * passes the schema there on its own and comes out of it unchanged. The schema has no check
 * across fields and picks a discriminated union's alternative by its tag, so a shape with such a
 * value at `keys` is exactly the shape parseScenarioShape gives the scenario with that value;
 * finishScenario then does the checks across fields. Null when `keys` names no such leaf, or
 * passes through a union that is not discriminated (a value could change its alternative).
 */
export function shapeLeafCheck(shape: ScenarioShape, keys: readonly (string | number)[]): LeafCheck | null {
  let s: z.ZodType = scenarioSchema;
  let v: unknown = shape;
  for (let i = 0; i < keys.length; ) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) {
      s = s.unwrap() as z.ZodType;
      continue;
    }
    if (v === null || typeof v !== "object") return null;
    if (s instanceof z.ZodDiscriminatedUnion) {
      // The alternative the shape's tag selects.
      const match = schemaAt(s, v, []);
      if (!match || match === s) return null;
      s = match;
      continue;
    }
    if (s instanceof z.ZodUnion) return null;
    const key = keys[i++];
    let next: z.ZodType | undefined;
    if (s instanceof z.ZodObject && typeof key === "string" && !Array.isArray(v) && Object.hasOwn(s.shape, key) && Object.hasOwn(v, key)) next = s.shape[key] as z.ZodType;
    else if (s instanceof z.ZodArray && typeof key === "number" && Array.isArray(v) && key < v.length) next = s.element as z.ZodType;
    else if (s instanceof z.ZodTuple && typeof key === "number" && Array.isArray(v) && key < v.length) next = s.def.items[key] as z.ZodType | undefined;
    if (!next) return null;
    s = next;
    v = (v as Record<string | number, unknown>)[key];
  }
  if (typeof v !== "number" && typeof v !== "string" && typeof v !== "boolean") return null;
  const leaf = s;
  return (value) => {
    if (typeof value !== "number" && typeof value !== "boolean" && !(typeof value === "string" && value.length <= MAX_STRING_LENGTH)) return false;
    const out = leaf.safeParse(value);
    return out.success && out.data === value;
  };
}

/**
 * The second half of parseScenario: the checks across fields (grid bounds, memory, distributions
 * and rewards against the space, weights summing to 1, record.every against the generations,
 * retraining against K and the space, early stopping), group names and normalised weights. Does
 * not change `s`; the result may share its parts.
 */
export function finishScenario(s: ScenarioShape): Scenario {
  const { space } = s;
  const normalize = s.normalize;

  if (space.kind === "grid1d" && !(space.max > space.min)) throw invalidField("space.max", `must be > space.min = ${space.min}`, space.max);
  if (space.kind === "grid2d") {
    for (const d of [0, 1]) {
      if (!(space.max[d] > space.min[d])) throw invalidField(`space.max[${d}]`, `must be > space.min[${d}] = ${space.min[d]}`, space.max[d]);
    }
  }
  if (space.kind === "atoms" && space.coords !== undefined && space.coords.length !== space.count) {
    throw invalidField("space.coords", `has ${space.coords.length} entries but space.count is ${space.count}`, space.coords);
  }
  const n = atomCount(space);
  const dim = spaceDim(space);
  const m = s.groups.length;
  if (!Number.isSafeInteger(n)) throw invalidField("space.cells", "gives too many atoms", n);

  // Memory before anything proportional to n is looked at.
  const rt = s.retraining;
  checkMemory({
    n,
    m,
    dim,
    retraining:
      rt.model === "exact" ? rt
      : rt.model === "gmm" ? { model: "gmm", samples: rt.samples, components: rt.components }
      : rt.model === "flow" ? { model: "flow", samples: rt.samples, poolFactor: rt.poolFactor }
      : { model: rt.model, samples: rt.samples },
    snapshots: s.record.snapshots?.length ?? 0,
    K: s.curation.K === "inf" ? Infinity : s.curation.K,
  });

  const initial = checkDistribution(s.initial, "initial", dim, n, normalize);
  const dataDist = s.realData.distribution ? checkDistribution(s.realData.distribution, "realData.distribution", dim, n, normalize) : undefined;

  const names = new Map<string, number>();
  const groups: GroupSpec[] = s.groups.map((g, i) => {
    const name = g.name ?? `g${i}`;
    const prev = names.get(name);
    if (prev !== undefined) throw invalidField(`groups[${i}].name`, `duplicates groups[${prev}].name`, name);
    names.set(name, i);
    checkReward(g.reward, `groups[${i}].reward`, space, dim, n);
    return { ...g, name };
  });
  const q = checkSimplex(groups.map((g) => g.weight), "groups[].weight", (i) => `groups[${i}].weight`, "weight", normalize);
  groups.forEach((g, i) => (g.weight = q[i]));

  const T = s.generations;
  // The trajectory keeps one entry per interval: bounded here, whatever T, so no run holds
  // metrics for 10^7 generations.
  const minEvery = minRecordEvery(T, m);
  const every = s.record.every ?? minEvery;
  if (every < minEvery) {
    throw invalidField(
      "record.every",
      `must be at least ${minEvery} with generations = ${T} and ${m} group${m === 1 ? "" : "s"}: a run records at most ${maxRecordedIntervals(m)} intervals (generations / record.every); leave record.every out to get ${minEvery}`,
      every,
    );
  }
  const snapshots = s.record.snapshots;
  snapshots?.forEach((t, i) => {
    if (t > T) throw invalidField(`record.snapshots[${i}]`, `must be a generation in [0, generations = ${T}]`, t);
  });

  if (rt.model !== "exact") {
    if (rt.model === "flow" && rt.coupling === "ot" && space.kind === "grid2d" && rt.batch > 256) {
      throw invalidField("retraining.batch", 'must be <= 256 with coupling "ot" in 2-D (the exact assignment is O(batch^3) per step)', rt.batch);
    }
    if ((rt.model === "gmm" || rt.model === "kde" || rt.model === "flow") && space.kind !== "grid1d" && space.kind !== "grid2d") {
      throw invalidField("retraining.model", "needs a grid1d or grid2d space (candidates are points in the box)", rt.model);
    }
    const K = s.curation.K;
    if (K !== "inf" && rt.samples * K > MAX_CANDIDATES_PER_GENERATION) {
      throw new PlurisimError(
        "MEMORY_LIMIT",
        `retraining.samples x curation.K = ${rt.samples} x ${K} = ${rt.samples * K} candidates per generation, over the limit of 2^27 = ${MAX_CANDIDATES_PER_GENERATION}`,
        { field: "retraining.samples", value: { samples: rt.samples, K } },
      );
    }
  }

  if (s.earlyStop) {
    if (s.earlyStop.tolerance === undefined && s.earlyStop.nashGap === undefined) throw invalidField("earlyStop", "needs tolerance or nashGap", s.earlyStop);
    // nashGap certifies F* - F(p_t) only for the K = infinity per-sample update (docs/model.md, section 4).
    if (s.earlyStop.nashGap !== undefined && (s.curation.K !== "inf" || s.curation.mixing !== "per-sample" || rt.model !== "exact")) {
      throw invalidField("earlyStop.nashGap", 'needs curation.K = "inf", mixing "per-sample" and the exact model', s.earlyStop.nashGap);
    }
  }

  return { ...s, initial, realData: { ...s.realData, distribution: dataDist }, record: { ...s.record, every }, groups };
}

/** Parses a scenario from JSON text; a JSON syntax error is INVALID_SCENARIO too. */
export function parseScenarioJson(text: string): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PlurisimError("INVALID_SCENARIO", `scenario is not valid JSON: ${(e as Error).message}`, { field: "scenario", value: text.slice(0, 80), cause: e });
  }
  return parseScenario(value);
}
