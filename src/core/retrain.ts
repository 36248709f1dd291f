// Finite-sample retraining (docs/model.md, section 6): each generation draws N training
// samples (curated ones as in docs/model.md, section 2, plus real ones from p_data) and refits a
// histogram, a Gaussian mixture or a kernel density estimate; the refitted model's masses on
// the atoms are what the engine's metrics see. All sampling runs in the Wasm from the Philox
// counter (assembly/prng.ts) keyed by (seed, generation), so a run is bit-identical in any
// thread, order or runtime.
//
// Sample counts: Nreal = round(N lambda) = floor(N lambda + 1/2) (halves round up) and
// Ncur = N - Nreal curated samples.
//
// Continuous models (gmm, kde): candidates are points in the box (the grid's outer cell
// edges, or the bounding box of explicit atom coordinates); a draw that falls outside is
// redrawn with the next attempt counter, and after MAX_ATTEMPTS misses the last draw is
// clamped into the box. The fitted density is discretised onto the atoms: density at the
// cell centres (all cells have the same volume), renormalised. Real-data points are drawn
// from p_data over cells and spread uniformly inside their cell.
//
// Choice among K candidates: cumulative weights (exact Luce choice). If every candidate's
// weight underflows to 0 the Luce rule is undefined and one candidate is kept uniformly.
// K = infinity: the histogram model samples the tilted model p w_i / Z_i exactly; gmm and kde
// need a finite K.
import { dmath } from "./detmath.js";
import { PlurisimError } from "./errors.js";
import { INIT_ITERATIONS, paramStride, runEm, samplingLayout, seedMixture } from "./gmm.js";
import type { Kernels } from "./kernels.js";
import type { Problem } from "./types.js";

/** Evaluates one group's reward at count points (point-major coords) into out. */
export type RewardAt = (coords: Float64Array, count: number, out: Float64Array) => void;

export interface RetrainContext {
  /** Curation weights w_i(x) = exp((r_i(x) - max r_i) / tau), group-major (m x n f64). */
  wPtr: number;
  /** Per group, the reward at arbitrary points (used by gmm and kde). */
  rewardAt: RewardAt[];
}

export interface Retrainer {
  /** Draws generation `generation`'s training set from the model p (at pPtr) and writes the refitted model's masses (sum 1) to outPtr. */
  step(pPtr: number, outPtr: number, generation: number): void;
  /** Curated and real sample counts per generation. */
  readonly counts: { N: number; Ncur: number; Nreal: number };
}

/** PRNG stream of the engine's per-generation group draw: the same group as the exact engine. */
export const GROUP_STREAM = 0x6d697800;
/** Box rejections before a candidate point is clamped into the box. */
export const MAX_ATTEMPTS = 1000;
/** Candidate points held in Wasm memory at once (chunks of curated samples). */
const CHUNK_POINTS = 1 << 16;

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

interface AliasTable {
  prob: number;
  atom: number;
  alias: number;
}

function allocAlias(kernels: Kernels, n: number): AliasTable {
  return { prob: kernels.allocF64(n), atom: kernels.allocU8(4 * n), alias: kernels.allocU8(4 * n) };
}

/** Returns a retrainer for problem.retraining (histogram, gmm or kde), its buffers allocated in the kernels' arena now. */
export function createRetrainer(kernels: Kernels, problem: Problem, ctx: RetrainContext): Retrainer {
  const spec = problem.retraining;
  if (spec.model === "exact") throw new PlurisimError("INVALID_SCENARIO", "retraining.model \"exact\" needs no retrainer (got \"exact\")", { field: "retraining.model", value: "exact" });
  const { n, m } = problem;
  const raw = kernels.raw;
  const seed = problem.seed >>> 0;
  const counts = sampleCounts(spec.samples, problem.lambda);
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
  const pDataPos = raw.aliasBuild(pDataPtr, n, pDataTable.prob, pDataTable.atom, pDataTable.alias, scratch);
  const groupFor = (generation: number): number => (problem.mixing === "per-generation" ? generationGroup(kernels, problem.q, seed, generation) : -1);

  if (spec.model === "histogram") return histogramRetrainer();
  return continuousRetrainer();

  /** t = p exp((r_i - max over the support of p of r_i) / tau): group i's tilt when its shifted weights underflow there. */
  function reshiftedTilt(i: number, p: Float64Array, t: Float64Array): void {
    const r = problem.r.subarray(i * n, (i + 1) * n);
    let top = -Infinity;
    for (let x = 0; x < n; x++) if (p[x] > 0 && r[x] > top) top = r[x];
    for (let x = 0; x < n; x++) t[x] = p[x] > 0 ? p[x] * dmath.exp((r[x] - top) / problem.tau) : 0;
  }

  function histogramRetrainer(): Retrainer {
    const { K } = problem;
    const alpha = spec.model === "histogram" ? spec.smoothing : 0;
    const countsPtr = kernels.allocF64(n);
    const table = allocAlias(kernels, n);
    const kInf = K === Infinity;
    const tilted = kInf ? allocAlias(kernels, m * n) : null;
    const tiltPos = kInf ? kernels.allocU8(4 * m) : 0;
    const tiltW = kInf ? kernels.allocF64(n) : 0;
    const candScratch = kInf ? 0 : kernels.allocU8(12 * K + 16);
    return {
      counts,
      step(pPtr, outPtr, generation) {
        const stream = generation >>> 0;
        const g = groupFor(generation);
        raw.zeroF64(countsPtr, n);
        if (counts.Ncur > 0) {
          if (kInf) {
            const nPos = new Int32Array(m);
            for (let i = 0; i < m; i++) {
              const p = kernels.f64(pPtr, n);
              const w = kernels.f64(ctx.wPtr + 8 * i * n, n);
              const t = kernels.f64(tiltW, n);
              let Z = 0;
              for (let x = 0; x < n; x++) Z += t[x] = p[x] * w[x];
              // Drift can leave the model with mass only where group i's weights (shifted by
              // the global max reward) underflow: the tilt p w_i / Z_i is then 0/0. Its limit
              // is the same tilt with the weights shifted by the max over the model's support.
              if (!(Z > 0)) reshiftedTilt(i, p, t);
              nPos[i] = raw.aliasBuild(tiltW, n, tilted!.prob + 8 * i * n, tilted!.atom + 4 * i * n, tilted!.alias + 4 * i * n, scratch);
            }
            new Int32Array(raw.memory.buffer, tiltPos, m).set(nPos);
            raw.curateAtomsTilted(seed, stream, 0, counts.Ncur, tiltPos, tilted!.prob, tilted!.atom, tilted!.alias, n, qCumPtr, m, g, countsPtr, 0);
          } else {
            const nPos = raw.aliasBuild(pPtr, n, table.prob, table.atom, table.alias, scratch);
            if (nPos === 0) throw new PlurisimError("NUMERIC", `generation ${generation}: the model has no positive mass to sample from`, { field: "retraining" });
            raw.curateAtoms(seed, stream, 0, counts.Ncur, nPos, table.prob, table.atom, table.alias, ctx.wPtr, n, qCumPtr, m, g, K, candScratch, countsPtr, 0);
          }
        }
        if (counts.Nreal > 0) raw.sampleAtomCounts(seed, stream, raw.tagReal(), 0, counts.Nreal, pDataPos, pDataTable.prob, pDataTable.atom, pDataTable.alias, countsPtr);
        raw.histogramRefit(countsPtr, n, counts.N, alpha, outPtr);
      },
    };
  }

  function continuousRetrainer(): Retrainer {
    if (spec.model === "histogram" || spec.model === "exact") throw new Error("unreachable");
    const { K, tau } = problem;
    const dim = problem.dim;
    if (dim !== 1 && dim !== 2) {
      throw new PlurisimError("INVALID_SCENARIO", `retraining.model "${spec.model}" needs atoms with coordinates (got dim ${dim})`, { field: "retraining.model", value: spec.model });
    }
    if (K === Infinity) {
      throw new PlurisimError("INVALID_SCENARIO", `retraining.model "${spec.model}" needs a finite curation.K (got "inf")`, { field: "curation.K", value: "inf" });
    }
    const geo = geometryOf(problem);
    const N = counts.N;
    const atomsPtr = kernels.allocF64(n * dim);
    kernels.write(atomsPtr, problem.coords);
    const boxPtr = kernels.allocF64(4);
    kernels.write(boxPtr, geo.box);
    const halfPtr = kernels.allocF64(2);
    kernels.write(halfPtr, geo.half);
    const groupsPtr = kernels.allocU8(4 * Math.max(counts.Ncur, 1));
    const orderPtr = kernels.allocU8(4 * Math.max(counts.Ncur, 1));
    const chunk = Math.max(1, Math.floor(CHUNK_POINTS / K));
    const candPtr = kernels.allocF64(chunk * K * dim);
    const rewardsPtr = kernels.allocF64(chunk * K);
    const selScratch = kernels.allocF64(K);
    let trainPtr = kernels.allocF64(N * dim);
    const table = allocAlias(kernels, n);

    // Curated samples sorted by group (stable), so each group's rewards are one call.
    const orderByGroup = (generation: number): Int32Array => {
      raw.assignGroups(seed, generation >>> 0, counts.Ncur, qCumPtr, m, groupFor(generation), groupsPtr);
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

    // Draws the curated points of a generation into trainPtr[0 .. Ncur dim).
    const curate = (generation: number, drawChunk: (rankStart: number, rankCount: number) => void): void => {
      const stream = generation >>> 0;
      const start = orderByGroup(generation);
      for (let a = 0; a < counts.Ncur; a += chunk) {
        const b = Math.min(counts.Ncur, a + chunk);
        drawChunk(a, b - a);
        for (let i = 0; i < m; i++) {
          const lo = Math.max(a, start[i]);
          const hi = Math.min(b, start[i + 1]);
          if (hi <= lo) continue;
          const count = (hi - lo) * K;
          const coords = kernels.read(candPtr + 8 * (lo - a) * K * dim, count * dim);
          const out = new Float64Array(count);
          ctx.rewardAt[i](coords, count, out);
          checkFinite(i, coords, out, generation);
          kernels.write(rewardsPtr + 8 * (lo - a) * K, out);
        }
        raw.selectPoints(seed, stream, orderPtr, a, b - a, K, dim, candPtr, rewardsPtr, tau, selScratch, trainPtr);
      }
      if (counts.Nreal > 0) {
        raw.sampleCellPoints(seed, stream, raw.tagReal(), 0, 0, counts.Nreal, pDataPos, pDataTable.prob, pDataTable.atom, pDataTable.alias, atomsPtr, dim, halfPtr, trainPtr + 8 * counts.Ncur * dim);
      }
    };

    /** Rewards are checked on the atoms when the scenario compiles; candidates fall between them. */
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

    const normalise = (sum: number, outPtr: number, generation: number): void => {
      if (!(sum > 0) || !Number.isFinite(sum)) {
        throw new PlurisimError("NUMERIC", `generation ${generation}: the fitted ${spec.model} density is ${sum} on every atom (bandwidth or variance too small for the grid?)`, { field: "retraining", value: sum });
      }
      raw.scaleInPlace(outPtr, n, 1 / sum);
    };

    if (spec.model === "gmm") {
      const C = spec.components;
      const st = paramStride(dim);
      const buf = {
        points: trainPtr,
        pw: 0,
        params: kernels.allocF64(C * st),
        acc: kernels.allocF64(C * st),
        scratch: kernels.allocF64(5 * C),
      };
      const modelPtr = kernels.allocF64(C * st);
      const compCumPtr = kernels.allocF64(C);
      let params: Float64Array | null = null;
      const pwPtr = kernels.allocF64(n);
      return {
        counts,
        step(pPtr, outPtr, generation) {
          if (params === null) {
            // Generation 0: fit p_0 by weighted EM over the atoms, k-means++ seeded.
            const p = kernels.read(pPtr, n);
            params = seedMixture(kernels, problem.coords, p, dim, C, seed, spec.varianceFloor);
            kernels.write(pwPtr, p);
            runEm(kernels, { ...buf, points: atomsPtr, pw: pwPtr }, n, 1, dim, C, params, INIT_ITERATIONS, spec.varianceFloor);
          }
          const { model, compCum } = samplingLayout(params, dim, C);
          kernels.write(modelPtr, model);
          kernels.write(compCumPtr, compCum);
          curate(generation, (rankStart, rankCount) =>
            raw.sampleCandidatePoints(seed, generation >>> 0, orderPtr, rankStart, rankCount, K, dim, 0, modelPtr, C, compCumPtr, 0, boxPtr, MAX_ATTEMPTS, candPtr),
          );
          runEm(kernels, buf, N, N, dim, C, params, spec.emIterations, spec.varianceFloor);
          kernels.write(buf.params, params);
          normalise(raw.gmmDensity(atomsPtr, n, dim, C, buf.params, outPtr), outPtr, generation);
        },
      };
    }

    const h = spec.bandwidth;
    let modelPtr = kernels.allocF64(N * dim);
    let haveModel = false;
    const kdeScratch = geo.xs ? kernels.allocF64(geo.xs.length + (geo.ys?.length ?? 0)) : 0;
    const xsPtr = geo.xs ? kernels.allocF64(geo.xs.length) : 0;
    const ysPtr = geo.ys ? kernels.allocF64(geo.ys.length) : 0;
    if (geo.xs) kernels.write(xsPtr, geo.xs);
    if (geo.ys) kernels.write(ysPtr, geo.ys);
    return {
      counts,
      step(pPtr, outPtr, generation) {
        const stream = generation >>> 0;
        if (!haveModel) {
          // Generation 0: the model is p_0 as a piecewise-constant density over the cells.
          const nPos = raw.aliasBuild(pPtr, n, table.prob, table.atom, table.alias, scratch);
          curate(generation, (rankStart, rankCount) =>
            raw.sampleCandidateCells(seed, stream, orderPtr, rankStart, rankCount, K, nPos, table.prob, table.atom, table.alias, atomsPtr, dim, halfPtr, candPtr),
          );
        } else {
          curate(generation, (rankStart, rankCount) =>
            raw.sampleCandidatePoints(seed, stream, orderPtr, rankStart, rankCount, K, dim, 1, modelPtr, N, 0, h, boxPtr, MAX_ATTEMPTS, candPtr),
          );
        }
        [modelPtr, trainPtr] = [trainPtr, modelPtr];
        haveModel = true;
        let sum: number;
        if (dim === 1 && geo.xs) sum = raw.kdeGrid1d(modelPtr, N, h, atomsPtr, n, geo.xs[0], geo.dx, outPtr);
        else if (dim === 2 && geo.xs && geo.ys) {
          sum = raw.kdeGrid2d(modelPtr, N, h, xsPtr, geo.xs.length, geo.xs[0], geo.dx, ysPtr, geo.ys.length, geo.ys[0], geo.dy, kdeScratch, outPtr);
        } else sum = raw.kdeAtoms(modelPtr, N, h, atomsPtr, n, dim, outPtr);
        normalise(sum, outPtr, generation);
      },
    };
  }
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
      throw new PlurisimError("INVALID_SCENARIO", `space.cells needs at least 2 cells per axis for gmm or kde retraining (got [${cx}, ${cy}])`, { field: "space.cells", value: [cx, cy] });
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
