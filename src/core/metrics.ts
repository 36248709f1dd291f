// The metrics of one generation (docs/model.md, sections 4, 5 and 7), from the distribution in
// Wasm memory: the engine lays the arrays out and calls `measure` at the generations it records
// only. Every reduction skips p's zero blocks (assembly/blocks.ts) and gives the dense bits.
import { dmath } from "./detmath.js";
import type { Kernels } from "./kernels.js";
import type { Metrics } from "./types.js";

/** Where the arrays the metrics read sit in Wasm memory, and the problem's constants. */
export interface MetricsLayout {
  n: number;
  m: number;
  q: Float64Array;
  tau: number;
  /** max_x r_i(x) per group: log-partitions are log Z_i (shifted weights) + max r_i / tau. */
  maxR: Float64Array;
  rPtr: number;
  wPtr: number;
  p0Ptr: number;
  /** p0 > 0: the support over which nashGap maximises. */
  supportPtr: number;
  outsidePtr: number;
  basinPtrs: number[];
  /** The Nash solution p* (0: no *ToNash metrics). */
  nashPtr: number;
  /** 1-D cell width for w1ToNash; null otherwise. */
  cellWidth: number | null;
  /** Finite-sample models add supportSize and lostBasins (basins below this mass). */
  lostBelow: number | null;
  /** Outside atoms the dynamics can reach (the audit's sup_O W_t); 0 when no audit runs. */
  reachableOutsidePtr: number;
}

/** What `measure` needs besides the layout: the state at generation t. */
export interface MeasureInput {
  p: number;
  /** p's zero-block flags (0: dense). */
  flags: number;
  generation: number;
  l1Step: number;
  massDefect: number;
}

/** Metrics of one generation, with sup_O W_t when the layout has reachable outside atoms. */
export interface Measured {
  metrics: Metrics;
  supOutside: number | null;
}

/** The metric computer of one run: two scratch arrays in the arena, then `measure` per recorded generation. */
export function createMetrics(kernels: Kernels, layout: MetricsLayout) {
  const { n, m, q, tau, maxR, rPtr, wPtr } = layout;
  const raw = kernels.raw;
  const statsPtr = kernels.allocF64(3 * m);
  const cPtr = kernels.allocF64(m);
  const c = new Float64Array(m);

  /** The metrics of the distribution at input.p. */
  function measure(input: MeasureInput): Measured {
    const { p, flags } = input;
    raw.groupStats(p, rPtr, wPtr, n, m, statsPtr, flags);
    const stats = kernels.f64(statsPtr, 3 * m);
    const expectedReward: number[] = [];
    const rewardVariance: number[] = [];
    const logPartition: number[] = [];
    let nashWelfare = 0;
    // A finite-sample model can lose every atom where a group's shifted weights are
    // representable (Z_i = 0): that group's log-partition is -Infinity, and so are F and the gap.
    let lost = false;
    for (let i = 0; i < m; i++) {
      expectedReward.push(stats[3 * i]);
      rewardVariance.push(stats[3 * i + 1]);
      const Zi = stats[3 * i + 2];
      // log E_p[e^{r_i/tau}] = log Z_i + max r_i / tau, Z_i with shifted weights.
      const lp = Zi > 0 ? dmath.log(Zi) + maxR[i] / tau : -Infinity;
      logPartition.push(lp);
      if (q[i] > 0) nashWelfare += q[i] * lp;
      if (q[i] > 0 && !(Zi > 0)) lost = true;
      c[i] = Zi > 0 ? q[i] / Zi : 0;
    }
    kernels.write(cPtr, c);
    const gapOn = (mask: number) => (lost ? Infinity : raw.maskedMultiplierMax(wPtr, n, m, cPtr, mask) - 1);
    const entropy = raw.entropy(p, n, flags);
    const basinMass = layout.basinPtrs.map((ptr) => raw.maskedSum(p, ptr, n, flags));
    const metrics: Metrics = {
      generation: input.generation,
      expectedReward,
      rewardVariance,
      logPartition,
      nashWelfare,
      // A bound on F* - F(p), so >= 0 (rounding can leave -1e-16).
      nashGap: Math.max(0, gapOn(layout.supportPtr)),
      entropy,
      effectiveSupport: dmath.exp(entropy),
      basinMass,
      outsideMass: raw.maskedSum(p, layout.outsidePtr, n, flags),
      klFromInitial: raw.klDivergence(p, layout.p0Ptr, n, flags),
      l1Step: input.l1Step,
      massDefect: input.massDefect,
    };
    if (layout.nashPtr) {
      metrics.tvToNash = raw.l1Distance(p, layout.nashPtr, n, 0, 0) / 2;
      metrics.klToNash = raw.klDivergence(p, layout.nashPtr, n, flags);
      if (layout.cellWidth !== null) metrics.w1ToNash = raw.w1Grid(p, layout.nashPtr, n, layout.cellWidth);
    }
    if (layout.lostBelow !== null) {
      const below = layout.lostBelow;
      metrics.supportSize = raw.countPositive(p, n, flags);
      metrics.lostBasins = basinMass.filter((b) => b < below).length;
    }
    const supOutside = layout.reachableOutsidePtr ? gapOn(layout.reachableOutsidePtr) + 1 : null;
    return { metrics, supOutside };
  }

  return { measure };
}
