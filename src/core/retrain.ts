// Finite-sample retraining (docs/model.md): each generation draws N training samples (curated
// ones, plus real ones from p_data) and refits a model; the refitted model's masses on the
// atoms are what the engine's metrics see. One file per model under ./retrain/; this file
// picks one. All sampling runs in the Wasm from the Philox counter (assembly/prng.ts) keyed by
// (seed, generation), so a run is bit-identical in any thread, order or runtime.
//
// Sample counts: Nreal = round(N lambda) = floor(N lambda + 1/2) (halves round up) and
// Ncur = N - Nreal curated samples.
//
// Continuous models (gmm, kde, flow): candidates are points in the box (the grid's outer cell
// edges); a draw that falls outside is redrawn with the next attempt counter, and after the
// model's last attempt the draw is clamped into the box. gmm and kde discretise their density
// onto the atoms (density at the cell centres, renormalised); flow bins N fresh samples.
// Real-data points are drawn from p_data over cells and spread uniformly inside their cell.
//
// Choice among K candidates: cumulative weights (exact Luce choice). If every candidate's
// weight underflows to 0 the Luce rule is undefined and one candidate is kept uniformly.
// K = infinity: the histogram model samples the tilted model p w_i / Z_i exactly, flow
// resamples a pool of its own samples by the weights; gmm and kde need a finite K.
import { PlurisimError } from "./errors.js";
import type { Kernels } from "./kernels.js";
import type { Problem } from "./types.js";
import { retrainBase, type RetrainContext, type Retrainer } from "./retrain/common.js";
import { flowRetrainer } from "./retrain/flow.js";
import { gmmRetrainer } from "./retrain/gmm.js";
import { histogramRetrainer } from "./retrain/histogram.js";
import { kdeRetrainer } from "./retrain/kde.js";

export { GROUP_STREAM, MAX_ATTEMPTS, generationGroup, geometryOf, sampleCounts } from "./retrain/common.js";
export type { RetrainContext, Retrainer, RewardAt } from "./retrain/common.js";

/** Returns a retrainer for problem.retraining (histogram, gmm, kde or flow), its buffers allocated in the kernels' arena now. */
export function createRetrainer(kernels: Kernels, problem: Problem, ctx: RetrainContext): Retrainer {
  const spec = problem.retraining;
  if (spec.model === "exact") throw new PlurisimError("INVALID_SCENARIO", "retraining.model \"exact\" needs no retrainer (got \"exact\")", { field: "retraining.model", value: "exact" });
  if (spec.model !== "histogram") {
    const { dim } = problem;
    if (dim !== 1 && dim !== 2) {
      throw new PlurisimError("INVALID_SCENARIO", `retraining.model "${spec.model}" needs atoms with coordinates (got dim ${dim})`, { field: "retraining.model", value: spec.model });
    }
    if (problem.K === Infinity && spec.model !== "flow") {
      throw new PlurisimError("INVALID_SCENARIO", `retraining.model "${spec.model}" needs a finite curation.K (got "inf")`, { field: "curation.K", value: "inf" });
    }
  }
  const base = retrainBase(kernels, problem, spec.samples);
  switch (spec.model) {
    case "histogram":
      return histogramRetrainer(kernels, problem, ctx, base);
    case "gmm":
      return gmmRetrainer(kernels, problem, ctx, base);
    case "kde":
      return kdeRetrainer(kernels, problem, ctx, base);
    case "flow":
      return flowRetrainer(kernels, problem, ctx, base);
  }
}
