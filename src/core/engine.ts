// The engine: owns one Wasm instance and its memory, runs a scenario generation by
// generation, and copies plain results out. Imports nothing from `node:`; Node and the
// browser differ only in how the .wasm bytes arrive (src/node/index.ts, src/web/index.ts).
import { auditScenario, checkAudit, type Audit } from "./audit.js";
import { basinMasks } from "./basins.js";
import { compileScenario, rewardEvaluator, type Compiled } from "./compile.js";
import { PlurisimError } from "./errors.js";
import { instantiateKernels, type Kernels } from "./kernels.js";
import { createMetrics } from "./metrics.js";
import { solveNash } from "./nash.js";
import { checkPassRanges, PASS_PARTS, passChunks, STEP_MAX_GROUPS, STEP_PARTS, sumChunks, ZERO_BLOCK, type PassRange } from "./passes.js";
import { aggregateReplicates, checkReplicates, lostBasinThreshold, ReplicateBands, replicateSeed, type ReplicateBand, type ReplicateSummary } from "./replicates.js";
import { createRetrainer, generationGroup } from "./retrain.js";
import { atomCount, parseScenario, type Scenario } from "./scenario.js";
import { sha256Hex } from "./sha256.js";
import type { EngineInfo, Metrics, NashSolution, Problem, RunResult } from "./types.js";
import { MAX_MASS_DEFECT } from "./limits.js";
import { VERSION } from "./version.js";

/** What to compute besides the trajectory. */
export interface RunOptions {
  /** Include the final distribution p in `final.p`. */
  final?: boolean;
  /** Solve the Nash bargaining problem and add tvToNash, klToNash, w1ToNash. */
  nash?: boolean;
  /** Run the paper's two-group audit and check its predictions against the run. */
  audit?: boolean;
  /**
   * Finite-sample models: run the exact population update on the same scenario first and add
   * `tvToExact`, the total variation distance between the two models' p_t, at every recorded
   * generation. Holds the exact p_t of each recorded generation (at most
   * MAX_REFERENCE_VALUES numbers in all).
   */
  tvToExact?: boolean;
  /** Called after every generation with (generations done, generations planned). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called at every recorded generation with its metrics; `p()` copies the distribution out (only
   * when called). For a learned generator (`retraining.model = "flow"`), `field(points, t)` gives
   * the network's current velocity field v(x, t) at the points (x, or x and y interleaved), in
   * the space's coordinates.
   */
  onRecord?: (metrics: Metrics, p: () => Float64Array, field?: (points: Float64Array, t: number) => Float64Array) => void;
  /**
   * Skip blocks of atoms whose mass is exactly 0 (default true). false runs every kernel dense;
   * the results have the same bits either way (benchmarks and tests compare the two).
   */
  zeroBlocks?: boolean;
  /**
   * Keep the metrics of every recorded generation in `trajectory` (default true). false computes
   * and keeps only those of the final generation and of `recordAt`: the run holds O(n) memory
   * whatever the number of generations.
   */
  trajectory?: boolean;
  /** With trajectory: false, generations whose metrics are computed and kept as well. */
  recordAt?: readonly number[];
  /**
   * Two K = infinity generations per memory pass where it applies (m = 2, lambda = 0, per-sample,
   * n >= TWO_STEP_MIN_ATOMS, between recorded generations; default true). It reorders the
   * arithmetic: results agree with one generation per pass to about 1e-14 relative.
   */
  twoStep?: boolean;
  /**
   * Runs of atoms whose memory passes other threads run (src/node/pass-split.ts): whole chunks of
   * PASS_CHUNK atoms, contiguous, up to the last atom; this thread runs the atoms before the
   * first. Used where two generations per pass apply, and for the one-generation passes of
   * 3 to 8 groups under the same conditions (runsSplitPasses), between recorded generations; the
   * results have the same bits with or without them.
   */
  passRanges?: readonly PassRange[];
}

/** Atoms from which a grid is bound by memory traffic and two generations per pass pay (and threads may share its passes). */
export const TWO_STEP_MIN_ATOMS = 100_000;

/** What decides whether a run takes two K = infinity generations per memory pass, or shares its passes with threads. */
interface PassShape {
  n: number;
  m: number;
  K: number;
  /** The exact population update (no finite-sample model). */
  exact: boolean;
  lambda: number;
  mixing: Problem["mixing"];
  /** An early stop (l1 tolerance or a certified Nash gap) that needs every generation. */
  earlyStop: boolean;
}

function takesTwoSteps(s: PassShape): boolean {
  return s.K === Infinity && s.exact && s.m === 2 && s.lambda === 0 && s.mixing === "per-sample" && s.n >= TWO_STEP_MIN_ATOMS && !s.earlyStop;
}

/** One K = infinity generation per pass that threads can share (assembly/update.ts kinfStepRange): 3 to 8 groups, either mixing, real data or not. */
function takesSplitSteps(s: PassShape): boolean {
  return s.K === Infinity && s.exact && s.m >= 3 && s.m <= STEP_MAX_GROUPS && s.n >= TWO_STEP_MIN_ATOMS && !s.earlyStop;
}

function passShape(s: Scenario): PassShape {
  return {
    n: atomCount(s.space),
    m: s.groups.length,
    K: s.curation.K === "inf" ? Infinity : s.curation.K,
    exact: s.retraining.model === "exact",
    lambda: s.realData.fraction,
    mixing: s.curation.mixing,
    earlyStop: s.earlyStop?.tolerance !== undefined || s.earlyStop?.nashGap !== undefined,
  };
}

/**
 * True when a run of this scenario takes two generations per memory pass (unless
 * RunOptions.twoStep is false), so that other threads can share its passes (passRanges).
 */
export function runsTwoSteps(s: Scenario): boolean {
  return takesTwoSteps(passShape(s));
}

/**
 * True when other threads can share a run's memory passes (RunOptions.passRanges): its
 * two-generation passes (m = 2) or its one-generation passes (3 to 8 groups).
 */
export function runsSplitPasses(s: Scenario): boolean {
  const shape = passShape(s);
  return takesTwoSteps(shape) || takesSplitSteps(shape);
}

export interface Engine {
  readonly info: EngineInfo;
  /** Validates a scenario object, runs it, and returns plain copied-out results. */
  run(scenario: unknown, options?: RunOptions): RunResult;
  /**
   * Compiles a validated scenario on the engine's cache: arrays whose inputs equal those of the
   * last compiled scenario are the same objects, and what the engine derived from them (weights,
   * masks) stays in Wasm memory for the next run.
   */
  compile(scenario: Scenario): Problem;
  /** Runs an already-compiled problem (the scenario supplies finite-sample models' rewards and is echoed back in the result). */
  runProblem(problem: Problem, options?: RunOptions, scenario?: Scenario): RunResult;
  /**
   * Runs R replicates of a scenario (replicate r with seed replicateSeed(seed, r)) and returns
   * each run's final metrics with their mean, standard deviation and basin survival per group.
   */
  runReplicates(scenario: unknown, replicates: number, options?: RunOptions): ReplicatesResult;
  /** Solves the Nash bargaining problem of a scenario without running the dynamics. */
  nash(scenario: unknown): NashSolution;
  /** The paper's assumption audit of a scenario, without running the dynamics. */
  audit(scenario: unknown): Audit;
}

export interface ReplicatesResult extends ReplicateSummary {
  engine: EngineInfo;
  replicates: number;
  seeds: number[];
  finals: RunResult["final"][];
  /** Mean and sd over replicates of each metric at every recorded generation (record.every). */
  trajectory: ReplicateBand[];
}

/** A compiled .wasm and its hash: compile once, then instantiate per thread. */
export interface WasmSource {
  module: WebAssembly.Module;
  wasmSha256: string;
}

/** Compiles the kernel bytes once and hashes them for the result stamp. */
export async function compileWasm(bytes: Uint8Array): Promise<WasmSource> {
  const [module, wasmSha256] = await Promise.all([
    WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>),
    sha256Hex(bytes),
  ]);
  return { module, wasmSha256 };
}

/** An engine on its own Wasm instance of an already-compiled module. */
export async function createEngineFrom(source: WasmSource): Promise<Engine> {
  const kernels = await instantiateKernels(source.module);
  const info: EngineInfo = { version: VERSION, wasmSha256: source.wasmSha256 };
  // The last compiled scenario: the next one reuses its arrays where its inputs are equal
  // (a sweep's cells mostly differ in a few numbers), and the arrays laid out in Wasm memory
  // for them stay there (Resident).
  let last: Compiled | undefined;
  const compile = (scenario: Scenario): Problem => {
    const problem = compileScenario(scenario, last);
    last = { scenario, problem };
    return problem;
  };
  const state: EngineState = { kernels, info, resident: null };
  return {
    info,
    compile,
    run(input, options = {}) {
      const scenario = parseScenario(input);
      return runProblem(state, compile(scenario), options, scenario);
    },
    runProblem(problem, options = {}, scenario) {
      return runProblem(state, problem, options, scenario);
    },
    runReplicates(input, replicates, options = {}) {
      checkReplicates(replicates);
      const scenario = parseScenario(input);
      if (options.final) checkReplicates(replicates, atomCount(scenario.space));
      const seeds = Array.from({ length: replicates }, (_, r) => replicateSeed(scenario.seed, r));
      // Replicates differ only in the seed, which compiles to nothing but problem.seed: compile once.
      const problem = compile(scenario);
      // Each replicate keeps its recorded generations (record.every) only until they are added to the bands.
      const bands = new ReplicateBands();
      const finals = seeds.map((seed) => {
        const run = runProblem(state, { ...problem, seed }, { ...options, onProgress: undefined, trajectory: true }, { ...scenario, seed });
        bands.add(run.trajectory as unknown as Record<string, unknown>[]);
        return run.final;
      });
      const summary = aggregateReplicates(
        finals.map((final) => ({ final: final as unknown as Record<string, unknown> })),
        finals[0].basinMass.length,
        lostBasinThreshold(scenario.retraining),
      );
      return { engine: info, replicates, seeds, finals, ...summary, trajectory: bands.bands() };
    },
    nash(input) {
      // The compile cache and the resident weights, as for runs: a Nash-only sweep sets up once.
      const problem = compile(parseScenario(input));
      const res = residentFor(state, problem);
      return nashOf(weightsOf(kernels, res, problem), problem, masksOf(kernels, res));
    },
    audit(input) {
      // The same cache and resident weights as runs and Nash solves.
      const problem = compile(parseScenario(input));
      return auditOf(weightsOf(kernels, residentFor(state, problem), problem), problem);
    },
  };
}

/** Shifted weights w_i(x) = exp((r_i(x) - max r_i) / tau), group-major, with each group's max r_i (docs/model.md, section 1). */
interface Weights {
  w: Float64Array;
  maxR: Float64Array;
}

/** The resident weights copied out of Wasm memory, for the Nash solver and the audit (plain TypeScript). */
function weightsOf(kernels: Kernels, res: Resident, problem: Problem): Weights {
  return { w: kernels.read(res.wPtr, problem.m * problem.n), maxR: res.maxR };
}

/**
 * The solver's p* with its welfare on the same scale as the trajectory's nashWelfare
 * (unshifted rewards: F + sum_i q_i max r_i / tau) and its basin masses.
 */
function nashOf({ w, maxR }: Weights, problem: Problem, masks = basinMasks(problem.r, problem.n, problem.m, problem.basinEpsilon)): NashSolution {
  const { n, m, q, tau } = problem;
  const s = solveNash(w, n, m, q, problem.p0);
  let shift = 0;
  for (let i = 0; i < m; i++) shift += (q[i] * maxR[i]) / tau;
  const massOn = (mask: Uint8Array) => s.p.reduce((acc, v, x) => acc + (mask[x] ? v : 0), 0);
  return {
    p: Array.from(s.p),
    welfare: s.welfare + shift,
    gap: s.gap,
    basinMass: masks.basins.map(massOn),
    outsideMass: massOn(masks.outside),
    iterations: s.iterations,
    method: s.method,
  };
}

/** The audit of a problem; `nash`, when the run has solved it already, is reused instead of solved again. */
function auditOf({ w }: Weights, problem: Problem, nash?: NashSolution): Audit {
  const { r, n, m, q, p0, tau, basinEpsilon: eps } = problem;
  return auditScenario({ r, w, n, m, q, p0, tau, eps, nash });
}

/** An engine's kernels, its stamp, and the arrays it left in Wasm memory for the last problem. */
interface EngineState {
  kernels: Kernels;
  info: EngineInfo;
  resident: Resident | null;
}

/**
 * What a run lays out in Wasm memory from the problem's arrays, kept in place for the next run:
 * each part is rewritten only when its inputs are not the same objects (compileScenario reuses
 * them across a sweep's cells) or the arena was reset since (kernels.epoch).
 */
interface Resident {
  epoch: number;
  n: number;
  m: number;
  r: Float64Array;
  tau: number;
  p0: Float64Array;
  pData: Float64Array;
  basinEpsilon: number;
  rPtr: number;
  wPtr: number;
  maxPtr: number;
  p0Ptr: number;
  pDataPtr: number;
  supportPtr: number;
  outsidePtr: number;
  basinPtrs: number[];
  dataFlags: number;
  maxR: Float64Array;
  /** The basin masks copied out of Wasm memory, once something asks (masksOf). */
  masks: ReturnType<typeof basinMasks> | null;
  /** The arena's top after these arrays: each run allocates its own from here. */
  top: number;
}

/** Lays out (or updates in place) the problem's resident arrays and frees everything above them. */
function residentFor(state: EngineState, problem: Problem): Resident {
  const { kernels } = state;
  const { n, m } = problem;
  let res = state.resident;
  const raw = kernels.raw;
  if (!res || res.epoch !== kernels.epoch || res.n !== n || res.m !== m) {
    kernels.reset();
    const rPtr = kernels.allocF64(m * n);
    const wPtr = kernels.allocF64(m * n);
    const maxPtr = kernels.allocF64(m);
    const p0Ptr = kernels.allocF64(n);
    const pDataPtr = kernels.allocF64(n);
    const supportPtr = kernels.allocU8(n);
    const outsidePtr = kernels.allocU8(n);
    const basinPtrs = Array.from({ length: m }, () => kernels.allocU8(n));
    const dataFlags = kernels.allocU8(raw.zeroBlockCount(n));
    const empty = new Float64Array(0);
    res = {
      epoch: kernels.epoch, n, m, r: empty, tau: NaN, p0: empty, pData: empty, basinEpsilon: NaN,
      rPtr, wPtr, maxPtr, p0Ptr, pDataPtr, supportPtr, outsidePtr, basinPtrs, dataFlags,
      maxR: empty, masks: null, top: kernels.mark(),
    };
    state.resident = res;
  }
  kernels.release(res.top);
  const newR = res.r !== problem.r;
  if (newR) kernels.write(res.rPtr, problem.r);
  if (newR || res.tau !== problem.tau) {
    // compileScenario has already refused rewards whose weights all but one underflow.
    raw.computeWeights(res.rPtr, res.wPtr, n, m, problem.tau, res.maxPtr);
    res.maxR = kernels.read(res.maxPtr, m);
  }
  if (newR || res.basinEpsilon !== problem.basinEpsilon) {
    // The basins and the outside straight into Wasm memory; their TypeScript copies only on demand (masksOf).
    kernels.u8(res.outsidePtr, n).fill(1);
    for (let i = 0; i < m; i++) raw.markBasin(res.rPtr + 8 * i * n, n, res.maxR[i] - problem.basinEpsilon, res.basinPtrs[i], res.outsidePtr);
    res.masks = null;
  }
  if (res.p0 !== problem.p0) {
    kernels.write(res.p0Ptr, problem.p0);
    const support = new Uint8Array(n);
    for (let x = 0; x < n; x++) support[x] = problem.p0[x] > 0 ? 1 : 0;
    kernels.writeU8(res.supportPtr, support);
  }
  // The kernels read p_data only when real data is mixed in (lambda > 0): laid out then.
  if (problem.lambda > 0 && res.pData !== problem.pData) {
    kernels.write(res.pDataPtr, problem.pData);
    raw.markBlocks(res.pDataPtr, n, res.dataFlags);
    res.pData = problem.pData;
  }
  res.r = problem.r;
  res.tau = problem.tau;
  res.basinEpsilon = problem.basinEpsilon;
  res.p0 = problem.p0;
  return res;
}

/** The resident basin masks as TypeScript arrays (the Nash solution's basin masses, the audit), copied out once. */
function masksOf(kernels: Kernels, res: Resident): ReturnType<typeof basinMasks> {
  res.masks ??= { basins: res.basinPtrs.map((ptr) => kernels.u8(ptr, res.n).slice()), outside: kernels.u8(res.outsidePtr, res.n).slice() };
  return res.masks;
}

/** The most numbers tvToExact keeps (the exact model's p at every recorded generation): 256 MiB. */
export const MAX_REFERENCE_VALUES = 2 ** 25;

/** The exact model's p_t at the generations a run with these options records, for tvToExact. */
function exactReference(state: EngineState, problem: Problem, options: RunOptions): Map<number, Float64Array> {
  const recordedCount = options.trajectory !== false ? Math.floor(problem.generations / problem.recordEvery) + 2 : (options.recordAt?.length ?? 0) + 2;
  if (recordedCount * problem.n > MAX_REFERENCE_VALUES) {
    throw new PlurisimError(
      "MEMORY_LIMIT",
      `tvToExact keeps the exact model's p at every recorded generation: about ${recordedCount} generations x ${problem.n} atoms is more than ${MAX_REFERENCE_VALUES} numbers; record fewer generations (a larger record.every)`,
      { field: "record.every", value: problem.recordEvery },
    );
  }
  const refs = new Map<number, Float64Array>();
  const exact: Problem = { ...problem, retraining: { model: "exact" }, earlyStopTolerance: null, earlyStopNashGap: null, snapshots: [] };
  runProblem(state, exact, { trajectory: options.trajectory, recordAt: options.recordAt, zeroBlocks: options.zeroBlocks, onRecord: (m, p) => refs.set(m.generation, p()) });
  return refs;
}

/** Throws when some Z_i = E_p[w_i] of generation t is not positive (K = infinity: a numerical failure). */
function checkZ(Z: Float64Array, t: number, problem: Problem): void {
  for (let i = 0; i < Z.length; i++) {
    if (!(Z[i] > 0)) {
      throw new PlurisimError(
        "NUMERIC",
        `generation ${t}: Z_${i} = E_p[w_${i}] underflowed to ${Z[i]} (group ${problem.groupNames[i]}); ` +
          `the model has no mass left where this group's weights are representable`,
        { field: `groups[${i}]`, value: Z[i] },
      );
    }
  }
}

/** Generations one call of the module's exactSteps may run (progress is reported after each call). */
const STEPS_PER_CALL = 1024;

/** Total variation distance (1/2) sum |a - b|, summed in atom order. */
function totalVariation(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let x = 0; x < a.length; x++) s += Math.abs(a[x] - b[x]);
  return s / 2;
}

function runProblem(state: EngineState, problem: Problem, options: RunOptions, scenario?: Scenario): RunResult {
  const started = now();
  const { kernels, info } = state;
  // Run before this run lays out its own arrays (a nested run reuses the resident ones).
  const exactRefs = options.tvToExact === true && problem.retraining.model !== "exact" ? exactReference(state, problem, options) : null;
  const { n, m, q, K, tau, lambda, generations: T } = problem;
  const wantNash = options.nash === true;
  const wantAudit = options.audit === true;

  // Resident arrays (docs/model.md symbols): r, w, p0, pData, masks; then this run's own:
  // p, out, Z, c, q, flags, the Nash solution, scratch.
  const res = residentFor(state, problem);
  const { wPtr, rPtr, p0Ptr, pDataPtr, maxR } = res;
  const masks = wantNash || wantAudit ? masksOf(kernels, res) : null;
  let p = kernels.allocF64(n);
  let out = kernels.allocF64(n);
  const zPtr = kernels.allocF64(m);
  const cPtr = kernels.allocF64(m);
  const qPtr = kernels.allocF64(m);
  const reachableOutsidePtr = wantAudit ? kernels.allocU8(n) : 0;
  const nashPtr = wantNash ? kernels.allocF64(n) : 0;
  const finiteK = K !== Infinity && problem.retraining.model === "exact";
  const scratchPtr = finiteK ? kernels.allocU8(kernels.raw.finiteKScratchBytes(n, m)) : 0;
  // Zero-block flags of p and of out (swapped with them) and of pData (assembly/blocks.ts).
  const zeroBlocks = options.zeroBlocks !== false;
  const nBlocks = kernels.raw.zeroBlockCount(n);
  let flagsP = zeroBlocks ? kernels.allocU8(nBlocks) : 0;
  let flagsOut = zeroBlocks ? kernels.allocU8(nBlocks) : 0;
  const dataFlags = zeroBlocks && lambda !== 0 ? res.dataFlags : 0;

  // The Nash solver and the audit are plain TypeScript: they get a copy of the weights.
  const weights = wantNash || wantAudit ? weightsOf(kernels, res, problem) : null;
  const nash = wantNash ? nashOf(weights!, problem, masks!) : undefined;
  const audit = wantAudit ? auditOf(weights!, problem, nash) : undefined;
  kernels.write(p, problem.p0);
  kernels.write(qPtr, q);
  if (wantAudit) kernels.writeU8(reachableOutsidePtr, reachableOutside(problem, masks!.outside));
  if (nash) kernels.write(nashPtr, nash.p);
  if (zeroBlocks) {
    kernels.raw.markBlocks(p, n, flagsP);
    // out holds whatever the arena held before: every block may be nonzero.
    new Uint8Array(kernels.raw.memory.buffer, flagsOut, nBlocks).fill(1);
  }

  let retrainer: ReturnType<typeof createRetrainer> | null = null;
  if (problem.retraining.model !== "exact") {
    if (!scenario) throw new PlurisimError("INVALID_SCENARIO", "finite-sample retraining needs the scenario's reward definitions", { field: "retraining" });
    const space = scenario.space;
    const rewardAt = scenario.groups.map((g) => rewardEvaluator(g.reward, space));
    retrainer = createRetrainer(kernels, problem, { wPtr, rewardAt });
  }

  // A basin is lost when it holds no mass (histogram: no atom of it left), or, for a fitted
  // density that is positive everywhere, less than half a sample's worth (1/(2N)).
  const metricsOf = createMetrics(kernels, {
    n, m, q, tau, maxR, rPtr, wPtr, p0Ptr,
    supportPtr: res.supportPtr,
    outsidePtr: res.outsidePtr,
    basinPtrs: res.basinPtrs,
    nashPtr,
    cellWidth: problem.cellWidth,
    lostBelow: retrainer ? lostBasinThreshold(problem.retraining) : null,
    reachableOutsidePtr,
  });

  const raw = kernels.raw;
  const Z = new Float64Array(m);
  raw.zValues(p, wPtr, n, m, zPtr);
  Z.set(kernels.read(zPtr, m));

  const trajectory: Metrics[] = [];
  const snapshots: { generation: number; p: number[] }[] = [];
  const supOutside: number[] = [];
  const snapshotAt = new Set(problem.snapshots);
  let maxMassDefect = 0;
  let massDefect = 0;
  let l1Step = 0;
  let t = 0;
  let stoppedEarly = false;

  // Which generations get metrics: every recordEvery-th and the last, or (trajectory: false)
  // the last and the ones asked for. Early stops record where they stop.
  const keepAll = options.trajectory !== false;
  const recordAt = new Set(options.recordAt ?? []);
  const recorded = (gen: number) => gen === T || (keepAll ? gen % problem.recordEvery === 0 : recordAt.has(gen));
  const record = () => {
    const { metrics, supOutside: sup } = metricsOf.measure({ p, flags: flagsP, generation: t, l1Step, massDefect });
    const ref = exactRefs?.get(t);
    if (ref) metrics.tvToExact = totalVariation(kernels.read(p, n), ref);
    if (sup !== null) supOutside.push(sup);
    trajectory.push(metrics);
    options.onRecord?.(metrics, () => kernels.read(p, n), retrainer?.fieldAt ? (points, time) => retrainer!.fieldAt!(points, time) : undefined);
  };

  const c = new Float64Array(m);
  const qStep = new Float64Array(m);
  const needL1 = (next: number) => problem.earlyStopTolerance !== null || recorded(next);
  // Validation allows earlyStop.nashGap only where the gap certifies: K = infinity, per-sample, exact.
  const gapStop = K === Infinity && !retrainer && problem.mixing === "per-sample" ? (problem.earlyStopNashGap ?? null) : null;

  if (recorded(0)) record();
  if (snapshotAt.has(0)) snapshots.push({ generation: 0, p: Array.from(kernels.read(p, n)) });
  // Two generations per pass (assembly/update.ts kinfStep2x2): Z_{t+1,i} = sum_j c_{t,j} M_t[i][j]
  // from the second moments M_t of p_t, which the previous double pass accumulated.
  const shape: PassShape = { n, m, K, exact: !retrainer, lambda, mixing: problem.mixing, earlyStop: problem.earlyStopTolerance !== null || gapStop !== null };
  const twoStep = options.twoStep !== false && takesTwoSteps(shape);
  // One generation per pass shared with other threads (3 to 8 groups), between recorded generations.
  const splitSteps = !twoStep && takesSplitSteps(shape) && (options.passRanges?.length ?? 0) > 0;
  const dPtr = twoStep ? kernels.allocF64(2) : 0;
  // Per-chunk partial sums of the passes, added in chunk order (src/core/passes.ts): this
  // thread's chunks come from partPtr, the other threads' (remote) after them.
  const stride = splitSteps ? STEP_PARTS : PASS_PARTS;
  const chunks = twoStep || splitSteps ? passChunks(n) : 0;
  const partPtr = chunks > 0 ? kernels.allocF64(chunks * stride) : 0;
  const parts = new Float64Array(chunks * stride);
  const sums = new Float64Array(stride);
  const remote = chunks > 0 ? checkPassRanges(options.passRanges ?? [], n) : [];
  const localN = remote.length > 0 ? remote[0].from : n;
  const localChunks = passChunks(localN);
  const w1Ptr = wPtr + 8 * n;
  // remoteFresh: the other threads hold this p on their atoms; localStale: they hold a newer one.
  let remoteFresh = false;
  let localStale = false;
  let weightsSent = false;
  // The zero-block flags (0: none) of atoms [from, to), a run of whole chunks.
  const flagsView = (flags: number, from: number, to: number) => (flags ? kernels.u8(flags + from / ZERO_BLOCK, Math.ceil(to / ZERO_BLOCK) - from / ZERO_BLOCK) : null);
  const syncBack = () => {
    if (!localStale) return;
    for (const r of remote) r.readP(kernels.f64(p + 8 * r.from, r.to - r.from), flagsView(flagsP, r.from, r.to));
    localStale = false;
  };
  // Before a shared pass: the other threads get their rows of w (and p_data) once, and p when theirs is old.
  const handOver = () => {
    if (!weightsSent) {
      for (const r of remote) r.loadWeights(Array.from({ length: m }, (_, i) => kernels.f64(wPtr + 8 * (i * n + r.from), r.to - r.from)));
      if (lambda !== 0) for (const r of remote) r.loadData(kernels.f64(pDataPtr + 8 * r.from, r.to - r.from), flagsView(dataFlags, r.from, r.to));
      weightsSent = true;
    }
    if (!remoteFresh) {
      for (const r of remote) r.loadP(kernels.f64(p + 8 * r.from, r.to - r.from), flagsView(flagsP, r.from, r.to));
      remoteFresh = true;
    }
  };
  // Waits for the other threads' part of a pass and adds every chunk's sums in chunk order.
  const gather = () => {
    parts.set(kernels.f64(partPtr, localChunks * stride));
    for (const r of remote) r.finish(parts.subarray(passChunks(r.from) * stride, passChunks(r.to) * stride));
    if (remote.length > 0) localStale = true;
    sumChunks(parts, chunks, sums, stride);
  };
  const checkTotal = (total: number, generation: number) => {
    if (!(total > 0) || !Number.isFinite(total)) {
      throw new PlurisimError(
        "NUMERIC",
        `generation ${generation}: the update produced total mass ${total}; the rewards are too steep for ` +
          `curation.temperature = ${tau} (weights underflow as mass concentrates)`,
        { field: "curation.temperature", value: tau },
      );
    }
  };
  let haveM = false;
  const M = new Float64Array(3);
  const d = new Float64Array(2);
  // Stretches of generations that record nothing run inside the module (assembly/steps.ts: the
  // same kernel calls, none of this loop's per-generation work), at most STEPS_PER_CALL a call.
  // The K = infinity step for m <= 8 reads each atom before it writes it, so where p_t is not
  // needed after the step (no l1 distance to take) it writes p_{t+1} over p_t: the same bits,
  // without the second buffer's traffic (at 10^6 atoms a tenth to a fifth of a generation).
  const overP = K === Infinity && !retrainer && m <= STEP_MAX_GROUPS;
  const inModule = !twoStep && !splitSteps && !retrainer && problem.mixing === "per-sample" && problem.earlyStopTolerance === null && gapStop === null;
  const zSavePtr = inModule ? kernels.allocF64(m) : 0;
  const statePtr = inModule ? kernels.allocF64(2) : 0;

  while (t < T) {
    if (twoStep && t + 2 <= T && !recorded(t + 1) && !recorded(t + 2) && !snapshotAt.has(t + 1)) {
      if (!haveM) {
        // p is whole here: the last step, or the start, ran on this thread (or synced back).
        raw.secondMoments2(p, wPtr, w1Ptr, n, flagsP, partPtr);
        parts.set(kernels.f64(partPtr, chunks * PASS_PARTS));
        sumChunks(parts, chunks, sums);
        M.set(sums.subarray(2, 5));
      }
      c[0] = q[0] / Z[0];
      c[1] = q[1] / Z[1];
      d[0] = q[0] / (c[0] * M[0] + c[1] * M[1]);
      d[1] = q[1] / (c[0] * M[1] + c[1] * M[2]);
      if (d[0] > 0 && d[1] > 0 && Number.isFinite(d[0]) && Number.isFinite(d[1])) {
        kernels.write(cPtr, c);
        kernels.write(dPtr, d);
        if (remote.length > 0) {
          handOver();
          for (const r of remote) r.start(c, d);
        }
        // In place: each atom is read before it is written, and a separate output would cost a
        // read for ownership of every line it stores to (a quarter more memory traffic).
        raw.kinfStep2x2(p, wPtr, w1Ptr, localN, cPtr, dPtr, partPtr, flagsP);
        gather();
        M.set(sums.subarray(2, 5));
        const total = sums[5];
        checkTotal(total, t + 2);
        massDefect = Math.abs(1 - total);
        if (massDefect > maxMassDefect) maxMassDefect = massDefect;
        t += 2;
        haveM = true;
        Z.set(sums.subarray(0, 2));
        checkZ(Z, t, problem);
        l1Step = Number.NaN;
        if (snapshotAt.has(t)) {
          syncBack();
          snapshots.push({ generation: t, p: Array.from(kernels.read(p, n)) });
        }
        options.onProgress?.(t - 1, T);
        options.onProgress?.(t, T);
        continue;
      }
    }
    if (splitSteps && !recorded(t + 1) && !snapshotAt.has(t + 1)) {
      // One generation, this thread's chunks and the other threads' at once (kinfStepRange: the
      // arithmetic of kinfStep's fused path, chunk sums added in order, so the same bits).
      const g = problem.mixing === "per-generation" ? generationGroup(kernels, q, problem.seed, t) : -1;
      for (let i = 0; i < m; i++) c[i] = g < 0 ? q[i] / Z[i] : i === g ? 1 / Z[i] : 0;
      kernels.write(cPtr, c);
      handOver();
      for (const r of remote) r.step(c, lambda);
      // In place, as the two-generation pass (no read for ownership of a separate output).
      raw.kinfStepRange(p, p, wPtr, localN, n, m, cPtr, zPtr, partPtr, lambda, pDataPtr, flagsP, flagsP, dataFlags);
      gather();
      const total = sums[8];
      checkTotal(total, t + 1);
      massDefect = Math.abs(1 - total);
      if (massDefect > maxMassDefect) maxMassDefect = massDefect;
      t++;
      l1Step = Number.NaN;
      Z.set(sums.subarray(0, m));
      checkZ(Z, t, problem);
      options.onProgress?.(t, T);
      continue;
    }
    haveM = false;
    // Every step below runs on this thread: it needs p whole, and the other threads' copies age.
    syncBack();
    remoteFresh = false;
    if (inModule) {
      let last = t;
      while (last + 1 < T && last - t < STEPS_PER_CALL && !recorded(last + 1) && !snapshotAt.has(last + 1)) last++;
      const steps = last - t;
      if (steps > 0) {
        const state = kernels.f64(statePtr, 2);
        state[0] = maxMassDefect;
        state[1] = massDefect;
        // Over p (overP): a generation the module does not commit has written p, and its rerun
        // below (from that p) fails as well: its total mass is again 0, NaN or infinite.
        const done = raw.exactSteps(p, overP ? p : out, wPtr, n, m, qPtr, cPtr, zPtr, zSavePtr, K === Infinity ? 0 : K, lambda, pDataPtr, scratchPtr, flagsP, overP ? flagsP : flagsOut, dataFlags, steps, MAX_MASS_DEFECT, statePtr);
        [maxMassDefect, massDefect] = kernels.f64(statePtr, 2);
        if (!overP && done % 2 === 1) {
          [p, out] = [out, p];
          [flagsP, flagsOut] = [flagsOut, flagsP];
        }
        for (let k = 1; k <= done && options.onProgress; k++) options.onProgress(t + k, T);
        t += done;
        if (K === Infinity) {
          Z.set(kernels.read(zPtr, m));
          checkZ(Z, t, problem);
        }
        // A generation the module did not commit runs again below, which reports what went wrong.
        if (done === steps) continue;
      }
    }
    const g = problem.mixing === "per-generation" ? generationGroup(kernels, q, problem.seed, t) : -1;
    let total: number;
    let inPlace = false;
    if (retrainer) {
      retrainer.step(p, out, t);
      if (zeroBlocks) raw.markBlocks(out, n, flagsOut);
      total = 1;
    } else if (K === Infinity) {
      for (let i = 0; i < m; i++) c[i] = g < 0 ? q[i] / Z[i] : i === g ? 1 / Z[i] : 0;
      kernels.write(cPtr, c);
      inPlace = overP && !needL1(t + 1);
      total = raw.kinfStep(p, inPlace ? p : out, wPtr, n, m, cPtr, zPtr, lambda, pDataPtr, flagsP, inPlace ? flagsP : flagsOut, dataFlags);
    } else {
      for (let i = 0; i < m; i++) qStep[i] = g < 0 ? q[i] : i === g ? 1 : 0;
      kernels.write(qPtr, qStep);
      total = raw.finiteKStep(p, out, wPtr, n, m, qPtr, K, lambda, pDataPtr, scratchPtr, flagsP, flagsOut, dataFlags);
    }
    checkTotal(total, t + 1);
    massDefect = Math.abs(1 - total);
    if (massDefect > maxMassDefect) maxMassDefect = massDefect;
    if (finiteK && massDefect > MAX_MASS_DEFECT) {
      throw new PlurisimError(
        "REWARD_UNDERFLOW",
        `generation ${t + 1}: the exact K = ${K} update lost ${massDefect.toPrecision(3)} of the mass (more than ${MAX_MASS_DEFECT}): ` +
          `weights exp((r - max r)/tau) underflow to 0 on atoms that carry mass, where the curation rule is 0/0; ` +
          `raise curation.temperature (now ${tau}) or narrow the reward range`,
        { field: "curation.temperature", value: tau },
      );
    }
    // The K = infinity update renormalises itself (its output sums to 1 whatever the scale of
    // p, docs/model.md, section 3), so only the quadrature and the refits are rescaled.
    if (total !== 1 && K !== Infinity) raw.scale(out, n, 1 / total);
    t++;
    l1Step = needL1(t) ? raw.l1Distance(p, out, n, flagsP, flagsOut) : Number.NaN;
    if (!inPlace) {
      [p, out] = [out, p];
      [flagsP, flagsOut] = [flagsOut, flagsP];
    }
    // Only the K = infinity update needs Z (its kernel accumulated the next one while writing
    // p). It never moves mass off an atom whose weights are representable, so a zero Z_i is a
    // numerical failure there; the finite-K step reports the same trouble as a mass defect, and
    // a finite-sample model that drifts off a group's region reports it in its metrics.
    const kinf = K === Infinity && !retrainer;
    if (kinf) {
      Z.set(kernels.read(zPtr, m));
      checkZ(Z, t, problem);
    }
    let early = problem.earlyStopTolerance !== null && l1Step < problem.earlyStopTolerance;
    if (!early && gapStop !== null) {
      // nashGap(p_t) = max over p0's support of sum_i (q_i / Z_i) w_i(x) - 1 (docs/model.md, section 4).
      for (let i = 0; i < m; i++) c[i] = q[i] / Z[i];
      kernels.write(cPtr, c);
      early = Math.max(0, raw.maskedMultiplierMax(wPtr, n, m, cPtr, res.supportPtr) - 1) <= gapStop;
    }
    if (early) stoppedEarly = true;
    if (recorded(t) || early) record();
    if (snapshotAt.has(t)) snapshots.push({ generation: t, p: Array.from(kernels.read(p, n)) });
    options.onProgress?.(t, T);
    if (early) break;
  }

  syncBack();
  const last = trajectory[trajectory.length - 1];
  const final: RunResult["final"] = { ...last };
  if (options.final) final.p = Array.from(kernels.read(p, n));

  const result: RunResult = {
    engine: info,
    scenario: scenario ?? null,
    trajectory,
    final,
    maxMassDefect,
    generationsRun: t,
    stoppedEarly,
    elapsedMs: now() - started,
  };
  if (problem.snapshots.length > 0) result.snapshots = snapshots;
  if (weightsSent) result.threads = remote.length + 1;
  if (nash) result.nash = nash;
  if (audit) {
    result.audit = {
      ...audit,
      check: checkAudit(audit, {
        basinMass: last.basinMass,
        outsideMass: last.outsideMass,
        rewardVariance: last.rewardVariance,
        supOutsideMultiplier: supOutside,
      }),
    };
  }
  return result;
}

/**
 * The outside atoms the dynamics can ever give mass to: those of p0's support, of p_data's when
 * lambda > 0, and every atom under a fitted density (gmm, kde, flow) or a smoothed histogram. The
 * audit's sup_O W_t is taken over these only: an atom that never holds mass cannot stop the
 * outside mass from decaying.
 */
function reachableOutside(problem: Problem, outside: Uint8Array): Uint8Array {
  const rt = problem.retraining;
  const everywhere = rt.model !== "exact" && !(rt.model === "histogram" && rt.smoothing === 0);
  const mask = new Uint8Array(outside.length);
  for (let x = 0; x < mask.length; x++) {
    const reachable = everywhere || problem.p0[x] > 0 || (problem.lambda > 0 && problem.pData[x] > 0);
    mask[x] = outside[x] && reachable ? 1 : 0;
  }
  return mask;
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
