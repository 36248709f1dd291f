// Flow retraining (docs/flow.md): the model is a small MLP vector field
// v_theta(x, t) whose samples are the solutions at t = 1 of dx/dt = v_theta(x, t) from
// x(0) ~ N(0, I). Each generation draws the curated samples from the current model (the first
// generation from p_0 as a piecewise-constant density over the cells, as kde does), mixes in
// the real samples, trains the network on them by conditional flow matching (warm-started
// from the previous weights, or re-initialised), and bins N fresh samples of the trained
// network onto the grid: those masses are what the engine's metrics see.
//
// K finite: K candidates per curated sample, one kept by exact Luce choice (./points.ts).
// K = infinity: the curated sample of group i is drawn from the tilted model p w_i / Z_i by
// sampling-importance-resampling: a pool of poolFactor x Ncur samples from the model, each
// kept with probability w_i(x) / sum over the pool (exact as the pool grows).
//
// Philox keys (seed, generation): candidate k of curated sample s from counter (k, s, tag,
// attempt), pool and fresh point j from (j, 0, tag, attempt), training draws by step number;
// weights from (seed, 0) once (warm start) or (seed, generation) each generation.
import { PlurisimError } from "../errors.js";
import { createFlowNet, sequentialIds } from "../flow.js";
import type { Kernels } from "../kernels.js";
import type { Problem } from "../types.js";
import { allocAlias, type RetrainBase, type RetrainContext, type Retrainer } from "./common.js";
import { pointCuration } from "./points.js";

/** Box redraws of a sampled point before it is clamped into the box. */
export const FLOW_MAX_ATTEMPTS = 16;

/** A flow retrainer for problem (retraining.model "flow"; grid1d or grid2d). */
export function flowRetrainer(kernels: Kernels, problem: Problem, ctx: RetrainContext, base: RetrainBase): Retrainer {
  const spec = problem.retraining;
  if (spec.model !== "flow") throw new Error("flowRetrainer needs retraining.model \"flow\"");
  const { n, m, K, tau } = problem;
  if (problem.cellWidth === null && problem.gridShape === null) {
    throw new PlurisimError("INVALID_SCENARIO", 'retraining.model "flow" needs a grid1d or grid2d space (it bins samples into grid cells)', { field: "retraining.model", value: "flow" });
  }
  const dim = problem.dim as 1 | 2;
  const raw = kernels.raw;
  const { seed, counts } = base;
  const { N, Ncur } = counts;
  const pc = pointCuration(kernels, problem, base, ctx);
  const [nx, ny] = problem.gridShape ?? [n, 1];
  const net = createFlowNet(kernels, { dim, hidden: spec.hidden, activation: spec.activation, batch: spec.batch, ot: spec.coupling === "ot" }, pc.geo.box);
  net.init(seed, 0);
  const heun = spec.solver === "heun";
  const trainPtr = kernels.allocF64(N * dim);
  const freshPtr = kernels.allocF64(N * dim);
  const countsPtr = kernels.allocF64(n);
  const table = allocAlias(kernels, n);
  const poolSize = K === Infinity ? spec.poolFactor * Math.max(Ncur, 1) : 0;
  const poolPtr = poolSize > 0 ? kernels.allocF64(poolSize * dim) : 0;
  const poolRewards = poolSize > 0 ? kernels.allocF64(poolSize) : 0;
  const poolCum = poolSize > 0 ? kernels.allocF64(poolSize) : 0;
  const poolIds = poolSize > 0 ? sequentialIds(poolSize) : null;
  const freshIds = sequentialIds(N);
  let trained = false;

  const sampled = (clamped: number, what: string, generation: number): void => {
    if (clamped < 0) {
      throw new PlurisimError("NUMERIC", `generation ${generation + 1}: the flow network produced a non-finite ${what} point (training diverged; lower retraining.lr)`, { field: "retraining.lr", value: spec.lr });
    }
  };

  /** K candidates per curated sample order[rank] for the ranks of one chunk, into pc.candPtr. */
  const drawCandidates = (generation: number, nPos: number, rankStart: number, rankCount: number): void => {
    const stream = generation >>> 0;
    if (!trained) {
      raw.sampleCandidateCells(seed, stream, pc.orderPtr, rankStart, rankCount, K, nPos, table.prob, table.atom, table.alias, pc.atomsPtr, dim, pc.halfPtr, pc.candPtr);
      return;
    }
    const order = new Int32Array(raw.memory.buffer, pc.orderPtr + 4 * rankStart, rankCount).slice();
    const ids = new Int32Array(2 * rankCount * K);
    for (let r = 0; r < rankCount; r++) {
      for (let k = 0; k < K; k++) {
        ids[2 * (r * K + k)] = k;
        ids[2 * (r * K + k) + 1] = order[r];
      }
    }
    sampled(net.sample(ids, "candidate", seed, stream, spec.odeSteps, heun, FLOW_MAX_ATTEMPTS, pc.candPtr), "candidate", generation);
  };

  /** K = infinity: each group's curated samples resampled from one pool of model samples. */
  const resampleCurated = (generation: number, nPos: number): void => {
    const stream = generation >>> 0;
    const start = pc.orderByGroup(generation);
    if (!trained) {
      raw.sampleCellPoints(seed, stream, raw.flowTag(2), 0, 0, poolSize, nPos, table.prob, table.atom, table.alias, pc.atomsPtr, dim, pc.halfPtr, poolPtr);
    } else {
      sampled(net.sample(poolIds!, "pool", seed, stream, spec.odeSteps, heun, FLOW_MAX_ATTEMPTS, poolPtr), "pool", generation);
    }
    const coords = kernels.read(poolPtr, poolSize * dim);
    for (let i = 0; i < m; i++) {
      if (start[i + 1] === start[i]) continue;
      const r = new Float64Array(poolSize);
      ctx.rewardAt[i](coords, poolSize, r);
      pc.checkFinite(i, coords, r, generation);
      kernels.write(poolRewards, r);
      raw.flowCumWeights(poolRewards, poolSize, tau, poolCum);
      raw.flowResample(seed, stream, pc.orderPtr, start[i], start[i + 1] - start[i], poolCum, poolSize, poolPtr, dim, trainPtr);
    }
    pc.realPoints(generation, trainPtr);
  };

  return {
    counts,
    fieldAt: (points, t) => net.fieldAt(points, t),
    step(pPtr, outPtr, generation) {
      const stream = generation >>> 0;
      const nPos = trained ? 0 : raw.aliasBuild(pPtr, n, table.prob, table.atom, table.alias, base.scratch);
      if (!trained && nPos === 0) throw new PlurisimError("NUMERIC", "the initial distribution has no positive mass to sample from", { field: "initial" });
      if (Ncur === 0) pc.realPoints(generation, trainPtr);
      else if (K === Infinity) resampleCurated(generation, nPos);
      else pc.curate(generation, trainPtr, (rankStart, rankCount) => drawCandidates(generation, nPos, rankStart, rankCount));

      if (spec.warmStart) net.resetOptimiser();
      else net.init(seed, stream);
      const losses = net.train(trainPtr, N, seed, stream, 0, spec.steps, spec.lr);
      const last = losses[losses.length - 1];
      if (!Number.isFinite(last)) {
        throw new PlurisimError(
          "NUMERIC",
          `generation ${generation + 1}: the flow-matching loss became ${last} at Adam step ${losses.length} (training diverged; lower retraining.lr, now ${spec.lr})`,
          { field: "retraining.lr", value: spec.lr },
        );
      }
      trained = true;
      sampled(net.sample(freshIds, "fresh", seed, stream, spec.odeSteps, heun, FLOW_MAX_ATTEMPTS, freshPtr), "fresh", generation);
      raw.zeroF64(countsPtr, n);
      raw.flowBin(freshPtr, N, dim, pc.boxPtr, nx, ny, countsPtr);
      raw.histogramRefit(countsPtr, n, N, 0, outPtr);
    },
  };
}
