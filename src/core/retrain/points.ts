// Curation of point samples, shared by the models that draw continuous candidates (gmm, kde,
// flow): candidates come chunk by chunk from a model-specific draw, rewards are evaluated at
// the points (docs/model.md, finite-sample retraining), one of K is kept by exact Luce choice,
// and real-data points are drawn from p_data over cells and spread uniformly inside their cell.
import { PlurisimError } from "../errors.js";
import type { Kernels } from "../kernels.js";
import type { Problem } from "../types.js";
import { geometryOf, type RetrainBase, type RetrainContext } from "./common.js";

/** Candidate points held in Wasm memory at once (chunks of curated samples). */
const CHUNK_POINTS = 1 << 16;

export interface PointCuration {
  geo: ReturnType<typeof geometryOf>;
  /** Atom coordinates (n x dim f64), the box (lo0, hi0, lo1, hi1) and cell half-widths. */
  atomsPtr: number;
  boxPtr: number;
  halfPtr: number;
  /** Curated sample ranks sorted by group (i32), as orderByGroup left them. */
  orderPtr: number;
  /** Candidates of one chunk (chunk x K points) and their rewards. */
  candPtr: number;
  rewardsPtr: number;
  /** Curated samples per chunk. */
  chunk: number;
  /**
   * Sorts this generation's curated samples by group (stable) into orderPtr and returns the
   * group starts (m + 1 ranks), so each group's rewards are one call.
   */
  orderByGroup(generation: number): Int32Array;
  /**
   * Draws the curated points of a generation into into[0 .. Ncur dim) (drawChunk writes the K
   * candidates of ranks [rankStart, rankStart + rankCount) to candPtr), then the real points.
   */
  curate(generation: number, into: number, drawChunk: (rankStart: number, rankCount: number) => void): void;
  /** The real-data points of a generation into into[Ncur dim .. N dim). */
  realPoints(generation: number, into: number): void;
  /** Throws REWARD_NOT_FINITE naming the first candidate point whose reward is not finite. */
  checkFinite(i: number, coords: Float64Array, r: Float64Array, generation: number): void;
}

/** Point-curation buffers for a grid problem with K candidates per curated sample (K finite). */
export function pointCuration(kernels: Kernels, problem: Problem, base: RetrainBase, ctx: RetrainContext): PointCuration {
  const { m, K, tau, dim } = problem;
  const { seed, counts } = base;
  const raw = kernels.raw;
  const geo = geometryOf(problem);
  const atomsPtr = kernels.allocF64(problem.n * dim);
  kernels.write(atomsPtr, problem.coords);
  const boxPtr = kernels.allocF64(4);
  kernels.write(boxPtr, geo.box);
  const halfPtr = kernels.allocF64(2);
  kernels.write(halfPtr, geo.half);
  const groupsPtr = kernels.allocU8(4 * Math.max(counts.Ncur, 1));
  const orderPtr = kernels.allocU8(4 * Math.max(counts.Ncur, 1));
  const Kc = K === Infinity ? 1 : K;
  const chunk = Math.max(1, Math.floor(CHUNK_POINTS / Kc));
  const candPtr = kernels.allocF64(chunk * Kc * dim);
  const rewardsPtr = kernels.allocF64(chunk * Kc);
  const selScratch = kernels.allocF64(Kc);

  const orderByGroup = (generation: number): Int32Array => {
    raw.assignGroups(seed, generation >>> 0, counts.Ncur, base.qCumPtr, m, base.groupFor(generation), groupsPtr);
    const groups = new Int32Array(raw.memory.buffer, groupsPtr, counts.Ncur).slice();
    const start = new Int32Array(m + 1);
    for (const gi of groups) start[gi + 1]++;
    for (let i = 0; i < m; i++) start[i + 1] += start[i];
    const fill = start.slice(0, m);
    const order = new Int32Array(counts.Ncur);
    for (let s = 0; s < groups.length; s++) order[fill[groups[s]]++] = s;
    new Int32Array(raw.memory.buffer, orderPtr, counts.Ncur).set(order);
    return start;
  };

  // Rewards are checked on the atoms when the scenario compiles; candidates fall between them.
  const checkFinite = (i: number, coords: Float64Array, r: Float64Array, generation: number): void => {
    for (let k = 0; k < r.length; k++) {
      if (Number.isFinite(r[k])) continue;
      const point = Array.from(coords.subarray(k * dim, (k + 1) * dim));
      throw new PlurisimError(
        "REWARD_NOT_FINITE",
        `groups[${i}].reward is ${r[k]} at the candidate point (${point.join(", ")}) drawn in generation ${generation + 1}; ` +
          "finite-sample models draw points anywhere in the box, so the reward must be finite on the whole box",
        { field: `groups[${i}].reward`, value: { point, reward: r[k] } },
      );
    }
  };

  const realPoints = (generation: number, into: number): void => {
    if (counts.Nreal === 0) return;
    const t = base.pDataTable;
    raw.sampleCellPoints(seed, generation >>> 0, raw.tagReal(), 0, 0, counts.Nreal, base.pDataPos, t.prob, t.atom, t.alias, atomsPtr, dim, halfPtr, into + 8 * counts.Ncur * dim);
  };

  const curate = (generation: number, into: number, drawChunk: (rankStart: number, rankCount: number) => void): void => {
    const stream = generation >>> 0;
    const start = orderByGroup(generation);
    for (let a = 0; a < counts.Ncur; a += chunk) {
      const b = Math.min(counts.Ncur, a + chunk);
      drawChunk(a, b - a);
      for (let i = 0; i < m; i++) {
        const lo = Math.max(a, start[i]);
        const hi = Math.min(b, start[i + 1]);
        if (hi <= lo) continue;
        const count = (hi - lo) * Kc;
        const coords = kernels.read(candPtr + 8 * (lo - a) * Kc * dim, count * dim);
        const out = new Float64Array(count);
        ctx.rewardAt[i](coords, count, out);
        checkFinite(i, coords, out, generation);
        kernels.write(rewardsPtr + 8 * (lo - a) * Kc, out);
      }
      raw.selectPoints(seed, stream, orderPtr, a, b - a, Kc, dim, candPtr, rewardsPtr, tau, selScratch, into);
    }
    realPoints(generation, into);
  };

  return { geo, atomsPtr, boxPtr, halfPtr, orderPtr, candPtr, rewardsPtr, chunk, orderByGroup, curate, realPoints, checkFinite };
}

/** Scales the fitted density on the atoms to sum 1; a zero or non-finite sum is a NUMERIC error naming the model. */
export function normaliseDensity(kernels: Kernels, model: string, n: number, sum: number, outPtr: number, generation: number): void {
  if (!(sum > 0) || !Number.isFinite(sum)) {
    throw new PlurisimError("NUMERIC", `generation ${generation}: the fitted ${model} density is ${sum} on every atom (bandwidth or variance too small for the grid?)`, { field: "retraining", value: sum });
  }
  kernels.raw.scale(outPtr, n, 1 / sum);
}
