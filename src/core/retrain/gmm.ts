// Gaussian-mixture retraining (docs/model.md, finite-sample retraining): candidates are drawn
// from the current mixture (redrawn when outside the box), curated, and the mixture is refitted
// by EM warm-started from the previous generation's parameters; the model's masses are its
// density at the cell centres, renormalised.
import { INIT_ITERATIONS, paramStride, runEm, samplingLayout, seedMixture } from "../gmm.js";
import type { Kernels } from "../kernels.js";
import type { Problem } from "../types.js";
import { MAX_ATTEMPTS, type RetrainBase, type RetrainContext, type Retrainer } from "./common.js";
import { normaliseDensity, pointCuration } from "./points.js";

/** A Gaussian-mixture retrainer for problem (retraining.model "gmm"; grids, finite K). */
export function gmmRetrainer(kernels: Kernels, problem: Problem, ctx: RetrainContext, base: RetrainBase): Retrainer {
  const spec = problem.retraining;
  if (spec.model !== "gmm") throw new Error("gmmRetrainer needs retraining.model \"gmm\"");
  const { n, K } = problem;
  // createRetrainer has refused spaces without coordinates.
  const dim = problem.dim as 1 | 2;
  const raw = kernels.raw;
  const { seed, counts } = base;
  const pc = pointCuration(kernels, problem, base, ctx);
  const N = counts.N;
  const C = spec.components;
  const st = paramStride(dim);
  const trainPtr = kernels.allocF64(N * dim);
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
        runEm(kernels, { ...buf, points: pc.atomsPtr, pw: pwPtr }, n, 1, dim, C, params, INIT_ITERATIONS, spec.varianceFloor);
      }
      const { model, compCum } = samplingLayout(params, dim, C);
      kernels.write(modelPtr, model);
      kernels.write(compCumPtr, compCum);
      pc.curate(generation, trainPtr, (rankStart, rankCount) =>
        raw.sampleCandidatePoints(seed, generation >>> 0, pc.orderPtr, rankStart, rankCount, K, dim, 0, modelPtr, C, compCumPtr, 0, pc.boxPtr, MAX_ATTEMPTS, pc.candPtr),
      );
      runEm(kernels, buf, N, N, dim, C, params, spec.emIterations, spec.varianceFloor);
      kernels.write(buf.params, params);
      normaliseDensity(kernels, "gmm", n, raw.gmmDensity(pc.atomsPtr, n, dim, C, buf.params, outPtr), outPtr, generation);
    },
  };
}
