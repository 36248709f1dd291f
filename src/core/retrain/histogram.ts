// Histogram retraining (docs/model.md, finite-sample retraining): curated samples are atoms,
// drawn from the model p by alias tables (K = infinity: from each group's tilted model
// p w_i / Z_i exactly), and the refit is the categorical maximum likelihood with additive
// smoothing alpha.
import { dmath } from "../detmath.js";
import { PlurisimError } from "../errors.js";
import type { Kernels } from "../kernels.js";
import type { Problem } from "../types.js";
import { allocAlias, type RetrainBase, type RetrainContext, type Retrainer } from "./common.js";

/** A histogram retrainer for problem (retraining.model "histogram"). */
export function histogramRetrainer(kernels: Kernels, problem: Problem, ctx: RetrainContext, base: RetrainBase): Retrainer {
  const spec = problem.retraining;
  const { n, m, K } = problem;
  const raw = kernels.raw;
  const { seed, counts, scratch } = base;
  const alpha = spec.model === "histogram" ? spec.smoothing : 0;
  const countsPtr = kernels.allocF64(n);
  const table = allocAlias(kernels, n);
  const kInf = K === Infinity;
  const tilted = kInf ? allocAlias(kernels, m * n) : null;
  const tiltPos = kInf ? kernels.allocU8(4 * m) : 0;
  const tiltW = kInf ? kernels.allocF64(n) : 0;
  const candScratch = kInf ? 0 : kernels.allocU8(12 * K + 16);

  /** t = p exp((r_i - max over the support of p of r_i) / tau): group i's tilt when its shifted weights underflow there. */
  const reshiftedTilt = (i: number, p: Float64Array, t: Float64Array): void => {
    const r = problem.r.subarray(i * n, (i + 1) * n);
    let top = -Infinity;
    for (let x = 0; x < n; x++) if (p[x] > 0 && r[x] > top) top = r[x];
    for (let x = 0; x < n; x++) t[x] = p[x] > 0 ? p[x] * dmath.exp((r[x] - top) / problem.tau) : 0;
  };

  return {
    counts,
    step(pPtr, outPtr, generation) {
      const stream = generation >>> 0;
      const g = base.groupFor(generation);
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
          raw.curateAtomsTilted(seed, stream, 0, counts.Ncur, tiltPos, tilted!.prob, tilted!.atom, tilted!.alias, n, base.qCumPtr, m, g, countsPtr, 0);
        } else {
          const nPos = raw.aliasBuild(pPtr, n, table.prob, table.atom, table.alias, scratch);
          if (nPos === 0) throw new PlurisimError("NUMERIC", `generation ${generation}: the model has no positive mass to sample from`, { field: "retraining" });
          raw.curateAtoms(seed, stream, 0, counts.Ncur, nPos, table.prob, table.atom, table.alias, ctx.wPtr, n, base.qCumPtr, m, g, K, candScratch, countsPtr, 0);
        }
      }
      const d = base.pDataTable;
      if (counts.Nreal > 0) raw.sampleAtomCounts(seed, stream, raw.tagReal(), 0, counts.Nreal, base.pDataPos, d.prob, d.atom, d.alias, countsPtr);
      raw.histogramRefit(countsPtr, n, counts.N, alpha, outPtr);
    },
  };
}
