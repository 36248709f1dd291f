// Kernel-density retraining (docs/model.md, finite-sample retraining): the model is the
// Gaussian KDE of the previous generation's training points (generation 0: p_0 as a
// piecewise-constant density over the cells); candidates are drawn from it, curated, and the
// new KDE is evaluated at the cell centres, renormalised.
import type { Kernels } from "../kernels.js";
import type { Problem } from "../types.js";
import { allocAlias, MAX_ATTEMPTS, type RetrainBase, type RetrainContext, type Retrainer } from "./common.js";
import { normaliseDensity, pointCuration } from "./points.js";

/** A kernel-density retrainer for problem (retraining.model "kde"; grids, finite K). */
export function kdeRetrainer(kernels: Kernels, problem: Problem, ctx: RetrainContext, base: RetrainBase): Retrainer {
  const spec = problem.retraining;
  if (spec.model !== "kde") throw new Error("kdeRetrainer needs retraining.model \"kde\"");
  const { n, K, dim } = problem;
  const raw = kernels.raw;
  const { seed, counts } = base;
  const pc = pointCuration(kernels, problem, base, ctx);
  const { geo } = pc;
  const N = counts.N;
  const h = spec.bandwidth;
  let trainPtr = kernels.allocF64(N * dim);
  let modelPtr = kernels.allocF64(N * dim);
  let haveModel = false;
  const table = allocAlias(kernels, n);
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
        const nPos = raw.aliasBuild(pPtr, n, table.prob, table.atom, table.alias, base.scratch);
        pc.curate(generation, trainPtr, (rankStart, rankCount) =>
          raw.sampleCandidateCells(seed, stream, pc.orderPtr, rankStart, rankCount, K, nPos, table.prob, table.atom, table.alias, pc.atomsPtr, dim, pc.halfPtr, pc.candPtr),
        );
      } else {
        pc.curate(generation, trainPtr, (rankStart, rankCount) =>
          raw.sampleCandidatePoints(seed, stream, pc.orderPtr, rankStart, rankCount, K, dim, 1, modelPtr, N, 0, h, pc.boxPtr, MAX_ATTEMPTS, pc.candPtr),
        );
      }
      [modelPtr, trainPtr] = [trainPtr, modelPtr];
      haveModel = true;
      let sum: number;
      if (dim === 1 && geo.xs) sum = raw.kdeGrid1d(modelPtr, N, h, pc.atomsPtr, n, geo.xs[0], geo.dx, outPtr);
      else if (dim === 2 && geo.xs && geo.ys) {
        sum = raw.kdeGrid2d(modelPtr, N, h, xsPtr, geo.xs.length, geo.xs[0], geo.dx, ysPtr, geo.ys.length, geo.ys[0], geo.dy, kdeScratch, outPtr);
      } else sum = raw.kdeAtoms(modelPtr, N, h, pc.atomsPtr, n, dim, outPtr);
      normaliseDensity(kernels, "kde", n, sum, outPtr, generation);
    },
  };
}
