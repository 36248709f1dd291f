// What every retraining model shares: the sample counts of a generation, the group of the
// per-generation mixing step, alias tables over the atoms (p_data, p_0) and the box of a grid.
// Each model lives in its own file beside this one; ../retrain.ts picks one.
import { PlurisimError } from "../errors.js";
import type { Kernels } from "../kernels.js";
import type { Problem } from "../types.js";

/** Evaluates one group's reward at count points (point-major coords) into out. */
export type RewardAt = (coords: Float64Array, count: number, out: Float64Array) => void;

export interface RetrainContext {
  /** Curation weights w_i(x) = exp((r_i(x) - max r_i) / tau), group-major (m x n f64). */
  wPtr: number;
  /** Per group, the reward at arbitrary points (used by the models that draw points). */
  rewardAt: RewardAt[];
}

export interface Retrainer {
  /** Draws generation `generation`'s training set from the model p (at pPtr) and writes the refitted model's masses (sum 1) to outPtr. */
  step(pPtr: number, outPtr: number, generation: number): void;
  /** Curated and real sample counts per generation. */
  readonly counts: { N: number; Ncur: number; Nreal: number };
  /** flow only: the learned field dx/dt = v(x, t) at points of the box (point-major), for drawing it. */
  fieldAt?(points: Float64Array, t: number): Float64Array;
}

/** PRNG stream of the engine's per-generation group draw: the same group as the exact engine. */
export const GROUP_STREAM = 0x6d697800;
/** Box rejections before a candidate point is clamped into the box. */
export const MAX_ATTEMPTS = 1000;

/** Real and curated counts of a generation: Nreal = floor(N lambda + 1/2), Ncur = N - Nreal. */
export function sampleCounts(N: number, lambda: number): { N: number; Ncur: number; Nreal: number } {
  const Nreal = Math.floor(N * lambda + 0.5);
  return { N, Ncur: N - Nreal, Nreal };
}

/** The group of the per-generation mixing step at `generation` (the engine's draw). */
export function generationGroup(kernels: Kernels, q: Float64Array, seed: number, generation: number): number {
  const u = kernels.raw.uniformAt(seed >>> 0, GROUP_STREAM, generation >>> 0);
  let acc = 0;
  for (let i = 0; i < q.length - 1; i++) {
    acc += q[i];
    if (u < acc) return i;
  }
  return q.length - 1;
}

/** A Vose alias table in Wasm memory: prob (f64), atom and alias (i32), one slot per positive atom. */
export interface AliasTable {
  prob: number;
  atom: number;
  alias: number;
}

export function allocAlias(kernels: Kernels, n: number): AliasTable {
  return { prob: kernels.allocF64(n), atom: kernels.allocU8(4 * n), alias: kernels.allocU8(4 * n) };
}

/** Buffers and draws every model needs, allocated in the kernels' arena when the run starts. */
export interface RetrainBase {
  seed: number;
  counts: { N: number; Ncur: number; Nreal: number };
  /** Cumulative group weights q (m f64, last exactly 1). */
  qCumPtr: number;
  /** Alias-building scratch: 2n i32. */
  scratch: number;
  pDataTable: AliasTable;
  /** Atoms with positive p_data mass. */
  pDataPos: number;
  /** The group of every curated sample this generation (per-generation mixing), or -1 (per-sample). */
  groupFor(generation: number): number;
}

/** Allocates the shared buffers of problem.retraining (any finite-sample model). */
export function retrainBase(kernels: Kernels, problem: Problem, samples: number): RetrainBase {
  const { n, m } = problem;
  const seed = problem.seed >>> 0;
  const qCum = new Float64Array(m);
  let acc = 0;
  for (let i = 0; i < m; i++) qCum[i] = acc += problem.q[i];
  qCum[m - 1] = 1;
  const qCumPtr = kernels.allocF64(m);
  kernels.write(qCumPtr, qCum);
  const scratch = kernels.allocU8(8 * n);
  const pDataTable = allocAlias(kernels, n);
  const pDataPtr = kernels.allocF64(n);
  kernels.write(pDataPtr, problem.pData);
  const pDataPos = kernels.raw.aliasBuild(pDataPtr, n, pDataTable.prob, pDataTable.atom, pDataTable.alias, scratch);
  return {
    seed,
    counts: sampleCounts(samples, problem.lambda),
    qCumPtr,
    scratch,
    pDataTable,
    pDataPos,
    groupFor: (generation) => (problem.mixing === "per-generation" ? generationGroup(kernels, problem.q, seed, generation) : -1),
  };
}

/** Box, cell half-widths and grid axes of a problem with coordinates. */
export function geometryOf(problem: Problem): { box: Float64Array; half: Float64Array; xs?: Float64Array; ys?: Float64Array; dx: number; dy: number } {
  const { n, dim, coords } = problem;
  if (dim === 1 && problem.cellWidth !== null && n >= 1) {
    const w = problem.cellWidth;
    return { box: new Float64Array([coords[0] - w / 2, coords[n - 1] + w / 2, 0, 0]), half: new Float64Array([w / 2, 0]), xs: coords.slice(), dx: w, dy: 0 };
  }
  if (dim === 2 && problem.gridShape !== null) {
    const [cx, cy] = problem.gridShape;
    const xs = new Float64Array(cx);
    const ys = new Float64Array(cy);
    for (let ix = 0; ix < cx; ix++) xs[ix] = coords[ix * cy * 2];
    for (let iy = 0; iy < cy; iy++) ys[iy] = coords[iy * 2 + 1];
    if (cx < 2 || cy < 2) {
      throw new PlurisimError("INVALID_SCENARIO", `space.cells needs at least 2 cells per axis for ${problem.retraining.model} retraining (got [${cx}, ${cy}])`, { field: "space.cells", value: [cx, cy] });
    }
    const dx = (xs[cx - 1] - xs[0]) / (cx - 1);
    const dy = (ys[cy - 1] - ys[0]) / (cy - 1);
    return { box: new Float64Array([xs[0] - dx / 2, xs[cx - 1] + dx / 2, ys[0] - dy / 2, ys[cy - 1] + dy / 2]), half: new Float64Array([dx / 2, dy / 2]), xs, ys, dx, dy };
  }
  // Explicit atoms with coordinates: their bounding box, points kept at the atoms.
  const box = new Float64Array([Infinity, -Infinity, Infinity, -Infinity]);
  for (let x = 0; x < n; x++) {
    for (let d = 0; d < dim; d++) {
      box[2 * d] = Math.min(box[2 * d], coords[x * dim + d]);
      box[2 * d + 1] = Math.max(box[2 * d + 1], coords[x * dim + d]);
    }
  }
  return { box, half: new Float64Array(2), dx: 0, dy: 0 };
}
