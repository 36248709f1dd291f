// The paper's two-group audit (docs/model.md, section 5; Falahati et al. Sec. 2-3, App. B): basins,
// Assumption 2.1, the leakages kappa_i, the q-window, the Lemma 3.5 interval, the outside
// domination of Appendix B.4, the Theorem 3.6 variance bound, and, after a run, which predictions
// held. Pure TypeScript; the result is a plain object (JSON-friendly except that `delta` is
// +Infinity when O is empty, which JSON.stringify writes as null).
//
// How tau enters. The paper works in units where tau = 1 (w = e^r). The dynamics depend on r only
// through r / tau, so we measure every gap (eps, delta, Delta_i) in reward units, exactly as the
// basins are defined on r, and divide by tau wherever the paper exponentiates a gap:
//   kappa_i = exp(-(Delta_i - 2 eps) / tau),   counterexample: 2 e^{-delta/tau} > 1 + e^{-Delta/tau}.
// This is the paper's statement applied to the rewards r / tau with basin width eps / tau. The
// variance bound Var[r_i] >= a(1-a) max{Delta_i - 2 eps, 0}^2 is homogeneous of degree 2 in the
// reward scale, so it reads the same in reward units and carries no tau.

import { dmath } from "./detmath.js";
import { basinMasks, maskRanges } from "./basins.js";
import { solveNash } from "./nash.js";
import { formatNumber } from "./number-format.js";

export interface AuditInput {
  r: Float64Array;
  w: Float64Array;
  n: number;
  m: number;
  q: Float64Array;
  p0: Float64Array;
  tau: number;
  eps: number;
  /** The Nash solution p* of these weights when the caller has solved it already (a run with --nash); solved here otherwise. */
  nash?: { p: ArrayLike<number>; gap: number };
}

export interface BasinInfo {
  group: number;
  size: number;
  /** p0(S_i). */
  p0Mass: number;
  /** Contiguous index runs [start, end] (inclusive) of S_i, at most 64. */
  ranges: [number, number][];
  rangesTruncated: boolean;
}

export interface AssumptionCheck {
  id: string;
  held: boolean;
  reason: string;
}

export interface Audit {
  applicable: boolean;
  /** Why the two-basin analysis does not apply (m != 2); absent when it does. */
  reason?: string;
  m: number;
  tau: number;
  eps: number;
  basins: BasinInfo[];
  outside: { size: number; p0Mass: number };
  disjoint?: boolean;
  p0Positive?: boolean;
  /** Outside gap: min over x in O and i of max r_i - r_i(x); +Infinity when O is empty. */
  delta?: number;
  /** Cross gaps [Delta_1, Delta_2]: Delta_1 = min over S_2 of max r_1 - r_1(x), and symmetrically. */
  Delta?: [number, number];
  /** Leakages kappa_i = exp(-(Delta_i - 2 eps) / tau). */
  kappa?: [number, number];
  qWindow?: { lower: number; upper: number; q: number; inside: boolean };
  /** Lemma 3.5: for large t, L - c m_t <= a_t <= U + c m_t. */
  interval?: { L: number; U: number; c: number };
  outsideDomination?: {
    /** 2 e^{-delta/tau} > 1 + e^{-Delta/tau} with Delta = min(Delta_1, Delta_2). */
    counterexampleCondition: boolean;
    Delta: number;
    /** sup_{x in O} W(x) at the Nash limit p* (W the K = infinity multiplier); -Infinity if O is empty. */
    supOutsideMultiplierAtNash: number;
    note: string;
  };
  /** The K = infinity limit p* (docs/model.md, section 4): its basin and outside masses. */
  nash?: { basinMass: [number, number]; outsideMass: number; gap: number };
  /** Theorem 3.6 with a = q_1 (the Theorem 3.7 limit), and its minimum over a in [L, U]. */
  varianceBound?: { a: number; bound: [number, number]; boundOverInterval: [number, number] };
  assumptions: AssumptionCheck[];
}

/** The constant c of Lemma 3.5 (L - c m_t <= a_t <= U + c m_t); the main text does not fix it: we take c = 1. */
export const LEMMA_3_5_C = 1;

/** Six significant digits, never in exponent form (the audit's reasons quote gaps and masses). */
const fmt = (v: number): string => formatNumber(v, { digits: 6, small: 0, large: Infinity });

/** The audit of docs/model.md, section 5 for a scenario (full for m = 2, basins only otherwise). */
export function auditScenario(input: AuditInput): Audit {
  const { r, w, n, m, q, p0, tau, eps } = input;
  const { basins: masks, outside } = basinMasks(r, n, m, eps);
  const basins: BasinInfo[] = masks.map((mask, i) => {
    let size = 0;
    let mass = 0;
    for (let x = 0; x < n; x++) if (mask[x]) { size++; mass += p0[x]; }
    const { ranges, truncated } = maskRanges(mask);
    return { group: i, size, p0Mass: mass, ranges, rangesTruncated: truncated };
  });
  let outSize = 0;
  let outMass = 0;
  for (let x = 0; x < n; x++) if (outside[x]) { outSize++; outMass += p0[x]; }
  const base = { m, tau, eps, basins, outside: { size: outSize, p0Mass: outMass } };
  if (m !== 2) {
    return {
      applicable: false,
      reason: `the two-basin analysis needs exactly 2 groups; this scenario has m = ${m}`,
      ...base,
      assumptions: [],
    };
  }

  const max = [0, 1].map((i) => {
    let mx = -Infinity;
    for (let x = 0; x < n; x++) mx = Math.max(mx, r[i * n + x]);
    return mx;
  });
  const [S1, S2] = masks;
  let disjoint = true;
  let bounded = true;
  let delta = Infinity;
  const Delta: [number, number] = [Infinity, Infinity];
  for (let x = 0; x < n; x++) {
    const g1 = max[0] - r[x];
    const g2 = max[1] - r[n + x];
    if (!Number.isFinite(r[x]) || !Number.isFinite(r[n + x])) bounded = false;
    if (S1[x] && S2[x]) disjoint = false;
    if (outside[x]) delta = Math.min(delta, g1, g2);
    if (S2[x]) Delta[0] = Math.min(Delta[0], g1);
    if (S1[x]) Delta[1] = Math.min(Delta[1], g2);
  }
  const p0Positive = basins[0].p0Mass > 0 && basins[1].p0Mass > 0;
  const kappa: [number, number] = [dmath.exp(-(Delta[0] - 2 * eps) / tau), dmath.exp(-(Delta[1] - 2 * eps) / tau)];
  const q1 = q[0];
  const qWindow = { lower: kappa[0], upper: 1 - kappa[1], q: q1, inside: kappa[0] < q1 && q1 < 1 - kappa[1] };
  // Lemma 3.5; a leakage >= 1 (Delta_i <= 2 eps) leaves that side of the interval trivial.
  const L = kappa[0] < 1 ? Math.max(0, (q1 - kappa[0]) / (1 - kappa[0])) : 0;
  const U = kappa[1] < 1 ? Math.min(1, q1 / (1 - kappa[1])) : 1;

  // The Nash limit p* of the K = infinity dynamics and the multiplier W there.
  let nash: Audit["nash"];
  let supAtNash = -Infinity;
  let sol = input.nash;
  if (!sol) {
    try {
      sol = solveNash(w, n, m, q, p0);
    } catch {
      sol = undefined;
    }
  }
  if (sol) {
    let a = 0;
    let b = 0;
    let o = 0;
    const Z = [0, 0];
    for (let x = 0; x < n; x++) {
      const px = sol.p[x];
      if (S1[x]) a += px;
      if (S2[x]) b += px;
      if (outside[x]) o += px;
      Z[0] += px * w[x];
      Z[1] += px * w[n + x];
    }
    nash = { basinMass: [a, b], outsideMass: o, gap: sol.gap };
    for (let x = 0; x < n; x++) {
      if (!outside[x] || !(p0[x] > 0)) continue;
      supAtNash = Math.max(supAtNash, (q[0] * w[x]) / Z[0] + (q[1] * w[n + x]) / Z[1]);
    }
  }

  const DeltaMin = Math.min(Delta[0], Delta[1]);
  const counterexampleCondition = 2 * dmath.exp(-delta / tau) > 1 + dmath.exp(-DeltaMin / tau);
  const outsideDomination = {
    counterexampleCondition,
    Delta: DeltaMin,
    supOutsideMultiplierAtNash: supAtNash,
    note:
      "Appendix B.4 needs sup_{x in O} W_t(x) <= rho < 1. An outside atom with w_1 = w_2 = e^{-delta/tau} " +
      "against cross weights e^{-Delta/tau} has W = 2e^{-delta/tau} / (1 + e^{-Delta/tau}) at a = 1/2, so when " +
      "2e^{-delta/tau} > 1 + e^{-Delta/tau} the assumption constants cannot guarantee Lemma 3.3 (the third-party " +
      "counterexample). Delta = min(Delta_1, Delta_2) makes the flag conservative: it bounds W from below for " +
      "any pair of cross gaps. supOutsideMultiplierAtNash is this landscape's own sup_O W at the K = inf limit.",
  };

  const bound = (a: number): [number, number] =>
    [0, 1].map((i) => a * (1 - a) * Math.max(Delta[i] - 2 * eps, 0) ** 2) as [number, number];
  const bq = bound(q1);
  const bL = bound(L);
  const bU = bound(U);
  const varianceBound = {
    a: q1,
    bound: bq,
    boundOverInterval: [Math.min(bL[0], bU[0]), Math.min(bL[1], bU[1])] as [number, number],
  };

  const assumptions: AssumptionCheck[] = [
    {
      id: "bounded-rewards",
      held: bounded,
      reason: bounded ? "every reward is finite (Assumption 2.1 i)" : "some reward is NaN or infinite",
    },
    {
      id: "basins-disjoint",
      held: disjoint,
      reason: disjoint
        ? `S_1 (${basins[0].size} atoms) and S_2 (${basins[1].size} atoms) do not meet (Assumption 2.1 ii)`
        : "S_1 and S_2 share atoms: some atom is within eps of both maxima",
    },
    {
      id: "p0-positive-on-basins",
      held: p0Positive,
      reason: `p0(S_1) = ${fmt(basins[0].p0Mass)}, p0(S_2) = ${fmt(basins[1].p0Mass)} (both must be > 0)`,
    },
    {
      id: "outside-gap",
      held: delta > 0,
      reason: outSize === 0 ? "O is empty, delta = +Infinity" : `delta = ${fmt(delta)} (must be > 0)`,
    },
    {
      id: "cross-gaps",
      held: Delta[0] > 2 * eps && Delta[1] > 2 * eps,
      reason: `Delta = [${fmt(Delta[0])}, ${fmt(Delta[1])}] against 2 eps = ${fmt(2 * eps)}: kappa_i < 1 needs Delta_i > 2 eps`,
    },
    {
      id: "q-window",
      held: qWindow.inside,
      reason: `kappa_1 = ${fmt(kappa[0])} < q = ${fmt(q1)} < 1 - kappa_2 = ${fmt(1 - kappa[1])}`,
    },
    {
      id: "outside-domination-constants",
      held: !counterexampleCondition,
      reason: counterexampleCondition
        ? `2e^{-delta/tau} = ${fmt(2 * dmath.exp(-delta / tau))} > 1 + e^{-Delta/tau} = ${fmt(1 + dmath.exp(-DeltaMin / tau))}: Assumption 2.1 does not imply Appendix B.4 here`
        : `2e^{-delta/tau} = ${fmt(2 * dmath.exp(-delta / tau))} <= 1 + e^{-Delta/tau} = ${fmt(1 + dmath.exp(-DeltaMin / tau))}`,
    },
    {
      id: "outside-domination-at-limit",
      held: nash !== undefined && supAtNash < 1,
      reason:
        nash === undefined
          ? "the Nash solver failed, so the limit is unknown"
          : outSize === 0
            ? "O is empty"
            : `sup_{x in O} W at the K = inf limit is ${fmt(supAtNash)} (< 1 means outside mass decays geometrically near the limit); p*(O) = ${fmt(nash.outsideMass)}`,
    },
  ];

  return {
    applicable: true,
    ...base,
    disjoint,
    p0Positive,
    delta,
    Delta,
    kappa,
    qWindow,
    interval: { L, U, c: LEMMA_3_5_C },
    outsideDomination,
    nash,
    varianceBound,
    assumptions,
  };
}

export interface AuditObservation {
  /** p_T(S_i) at the last generation. */
  basinMass: number[];
  /** p_T(O) at the last generation. */
  outsideMass: number;
  /** Var_{p_T}[r_i] at the last generation. */
  rewardVariance: number[];
  /** sup_{x in O} W_t(x) at each recorded generation, in order. */
  supOutsideMultiplier: number[];
}

export interface AuditCheck {
  /** null where the prediction does not apply (m != 2). */
  held: { interval: boolean | null; outsideDecays: boolean | null; varianceBound: (boolean | null)[] };
  details: {
    a: number;
    intervalWithSlack?: [number, number];
    lateSupOutsideMultiplier?: number;
    varianceBound?: number[];
    notes: string[];
  };
}

/**
 * Which of the audit's predictions held after a run: a_T in [L - c m_T, U + c m_T] (c = 1),
 * sup_O W_t < 1 over the last quarter of the recorded generations, and Theorem 3.6's variance
 * bound with a = the observed a_T.
 */
export function checkAudit(audit: Audit, observed: AuditObservation): AuditCheck {
  const a = observed.basinMass[0] ?? NaN;
  if (!audit.applicable || !audit.interval || !audit.Delta) {
    return {
      held: { interval: null, outsideDecays: null, varianceBound: [null, null] },
      details: { a, notes: [audit.reason ?? "audit not applicable"] },
    };
  }
  const notes: string[] = [];
  const c = audit.interval.c;
  const mT = observed.outsideMass;
  const lo = audit.interval.L - c * mT;
  const hi = audit.interval.U + c * mT;
  const slack = 1e-12;
  const interval = a >= lo - slack && a <= hi + slack;
  notes.push(`c = ${c}: the paper's Lemma 3.5 constant is not fixed in the main text`);

  const sup = observed.supOutsideMultiplier;
  let outsideDecays: boolean;
  let lateSup = -Infinity;
  if (audit.outside.size === 0) {
    outsideDecays = true;
    notes.push("O is empty: outside decay holds trivially");
  } else if (sup.length === 0) {
    outsideDecays = false;
    notes.push("no sup_O W_t recorded");
  } else {
    const from = Math.floor((sup.length * 3) / 4);
    for (let k = Math.min(from, sup.length - 1); k < sup.length; k++) lateSup = Math.max(lateSup, sup[k]);
    outsideDecays = lateSup < 1;
    notes.push("outside decay: sup_O W_t < 1 over the last quarter of recorded generations");
  }

  const eps = audit.eps;
  const vb = audit.Delta.map((D) => a * (1 - a) * Math.max(D - 2 * eps, 0) ** 2);
  const varianceBound = vb.map((b, i) => {
    const v = observed.rewardVariance[i];
    return Number.isFinite(v) ? v >= b * (1 - 1e-9) - 1e-12 : false;
  });
  notes.push("variance bound of Theorem 3.6 with a = observed p_T(S_1)");

  return {
    held: { interval, outsideDecays, varianceBound },
    details: { a, intervalWithSlack: [lo, hi], lateSupOutsideMultiplier: lateSup, varianceBound: vb, notes },
  };
}
