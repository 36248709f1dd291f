import { describe, expect, it } from "vitest";
import { auditScenario, checkAudit, type AuditInput, type AuditObservation } from "../src/core/audit.js";
import { basinMasks, maskRanges } from "../src/core/basins.js";
import { weights } from "./helpers.js";


/** Runs the K = infinity per-sample update (docs/model.md, section 3) and records what checkAudit reads. */
function runKInf(input: AuditInput, T: number): { p: Float64Array; observed: AuditObservation; outsideMass: number[] } {
  const { r, w, n, m, q, p0, eps } = input;
  const { basins, outside } = basinMasks(r, n, m, eps);
  let p = Float64Array.from(p0);
  const sup: number[] = [];
  const outsideMass: number[] = [];
  const Z = new Float64Array(m);
  for (let t = 0; t <= T; t++) {
    Z.fill(0);
    for (let i = 0; i < m; i++) for (let x = 0; x < n; x++) Z[i] += p[x] * w[i * n + x];
    const W = new Float64Array(n);
    for (let x = 0; x < n; x++) for (let i = 0; i < m; i++) W[x] += (q[i] * w[i * n + x]) / Z[i];
    let s = -Infinity;
    let o = 0;
    for (let x = 0; x < n; x++) if (outside[x]) { s = Math.max(s, W[x]); o += p[x]; }
    sup.push(s);
    outsideMass.push(o);
    if (t === T) break;
    const next = new Float64Array(n);
    let tot = 0;
    for (let x = 0; x < n; x++) { next[x] = p[x] * W[x]; tot += next[x]; }
    for (let x = 0; x < n; x++) next[x] /= tot;
    p = next;
  }
  const basinMass = basins.map((b) => p.reduce((acc, v, x) => acc + (b[x] ? v : 0), 0));
  const rewardVariance = Array.from({ length: m }, (_, i) => {
    let mean = 0;
    for (let x = 0; x < n; x++) mean += p[x] * r[i * n + x];
    let v = 0;
    for (let x = 0; x < n; x++) v += p[x] * (r[i * n + x] - mean) ** 2;
    return v;
  });
  return {
    p,
    observed: { basinMass, outsideMass: outsideMass[outsideMass.length - 1], rewardVariance, supOutsideMultiplier: sup },
    outsideMass,
  };
}

describe("basinMasks", () => {
  it("S_i = {r_i >= max r_i - eps}, outside = in no S_i", () => {
    const r = new Float64Array([0, -0.05, -1, -2, /* group 2 */ -3, -2, -0.2, 0.5]);
    const { basins, outside } = basinMasks(r, 4, 2, 0.1);
    expect(Array.from(basins[0])).toEqual([1, 1, 0, 0]);
    expect(Array.from(basins[1])).toEqual([0, 0, 0, 1]);
    expect(Array.from(outside)).toEqual([0, 0, 1, 0]);
    expect(maskRanges(Uint8Array.from([1, 1, 0, 1, 0, 1, 1]))).toEqual({ ranges: [[0, 1], [3, 3], [5, 6]], truncated: false });
  });
});

// A hand-built two-basin landscape, 7 atoms, eps = 0.1:
//   r_1 = [0, -0.05, -2, -3,  -3.5, -4,    -2.5]   max r_1 = 0
//   r_2 = [-4, -3.8, -2, -1.5, -0.05, 0,   -2.5]   max r_2 = 0
// S_1 = {0, 1}, S_2 = {4, 5}, O = {2, 3, 6}.
// delta = min over O of the gaps {2, 2} (atom 2), {3, 1.5} (atom 3), {2.5, 2.5} (atom 6) = 1.5.
// Delta_1 = min over S_2 of -r_1 = min(3.5, 4) = 3.5; Delta_2 = min over S_1 of -r_2 = min(4, 3.8) = 3.8.
// tau = 1: kappa_1 = e^{-(3.5 - 0.2)} = e^{-3.3} = 0.0368832, kappa_2 = e^{-3.6} = 0.0273237.
// q = 0.4: L = (0.4 - e^{-3.3}) / (1 - e^{-3.3}) = 0.377023, U = 0.4 / (1 - e^{-3.6}) = 0.411237.
// Counterexample condition: 2 e^{-1.5} = 0.446 > 1 + e^{-3.5}? No.
// Variance bound with a = q = 0.4: 0.24 * 3.3^2 = 2.6136 and 0.24 * 3.6^2 = 3.1104.
// tau = 2 measures the gaps in units of tau: kappa_1 = e^{-3.3/2} = 0.192050, kappa_2 = e^{-1.8} = 0.165299.
const r7 = new Float64Array([0, -0.05, -2, -3, -3.5, -4, -2.5, -4, -3.8, -2, -1.5, -0.05, 0, -2.5]);

function input7(tau: number, q1 = 0.4): AuditInput {
  return {
    r: r7, w: weights(r7, 7, 2, tau), n: 7, m: 2,
    q: new Float64Array([q1, 1 - q1]), p0: new Float64Array(7).fill(1 / 7), tau, eps: 0.1,
  };
}

const close = (a: number, b: number, tol = 1e-12): void => {
  expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
};

describe("auditScenario on a hand-built two-basin landscape", () => {
  it("gaps, leakages, q-window, Lemma 3.5 interval, variance bound (tau = 1)", () => {
    const a = auditScenario(input7(1));
    expect(a.applicable).toBe(true);
    expect(a.basins.map((b) => b.size)).toEqual([2, 2]);
    expect(a.basins[0].ranges).toEqual([[0, 1]]);
    expect(a.basins[1].ranges).toEqual([[4, 5]]);
    close(a.basins[0].p0Mass, 2 / 7);
    expect(a.outside).toEqual({ size: 3, p0Mass: expect.closeTo(3 / 7, 14) });
    expect(a.disjoint).toBe(true);
    expect(a.p0Positive).toBe(true);
    close(a.delta!, 1.5);
    close(a.Delta![0], 3.5);
    close(a.Delta![1], 3.8);
    close(a.kappa![0], 0.0368831674, 1e-9);
    close(a.kappa![0], Math.exp(-3.3));
    close(a.kappa![1], Math.exp(-3.6));
    close(a.interval!.L, 0.377023, 1e-6);
    close(a.interval!.U, 0.411237, 1e-6);
    close(a.interval!.L, (0.4 - Math.exp(-3.3)) / (1 - Math.exp(-3.3)));
    close(a.interval!.U, 0.4 / (1 - Math.exp(-3.6)));
    expect(a.qWindow).toEqual({ lower: a.kappa![0], upper: 1 - a.kappa![1], q: 0.4, inside: true });
    expect(a.outsideDomination!.counterexampleCondition).toBe(false);
    close(a.varianceBound!.bound[0], 2.6136);
    close(a.varianceBound!.bound[1], 3.1104);
    expect(a.assumptions.every((c) => c.held), JSON.stringify(a.assumptions, null, 1)).toBe(true);
    expect(a.nash!.outsideMass).toBeLessThan(1e-12);
    expect(a.outsideDomination!.supOutsideMultiplierAtNash).toBeLessThan(1);
    // The K = inf limit lies in the Lemma 3.5 interval.
    expect(a.nash!.basinMass[0]).toBeGreaterThanOrEqual(a.interval!.L);
    expect(a.nash!.basinMass[0]).toBeLessThanOrEqual(a.interval!.U);
    // JSON-friendly (no typed arrays).
    expect(JSON.parse(JSON.stringify(a)).kappa).toEqual(a.kappa);
  });

  it("tau enters by measuring gaps in units of tau: kappa_i = exp(-(Delta_i - 2 eps)/tau)", () => {
    const a = auditScenario(input7(2));
    close(a.Delta![0], 3.5);
    close(a.kappa![0], Math.exp(-1.65));
    close(a.kappa![0], 0.192049909, 1e-8);
    close(a.kappa![1], Math.exp(-1.8));
    close(a.interval!.L, (0.4 - Math.exp(-1.65)) / (1 - Math.exp(-1.65)));
    // Variance bound is reward-unit, tau-free.
    close(a.varianceBound!.bound[0], 2.6136);
  });

  it("q outside the window and overlapping basins are reported", () => {
    const a = auditScenario(input7(1, 0.02));
    expect(a.qWindow!.inside).toBe(false);
    expect(a.interval!.L).toBe(0);
    expect(a.assumptions.find((c) => c.id === "q-window")!.held).toBe(false);
    // Two identical rewards: the basins coincide.
    const r = new Float64Array([0, -1, -2, 0, -1, -2]);
    const b = auditScenario({ r, w: weights(r, 3, 2, 1), n: 3, m: 2, q: new Float64Array([0.5, 0.5]), p0: new Float64Array(3).fill(1 / 3), tau: 1, eps: 0.1 });
    expect(b.disjoint).toBe(false);
    expect(b.assumptions.find((c) => c.id === "basins-disjoint")!.held).toBe(false);
  });

  it("m != 2: not applicable, per-group basin info only", () => {
    const r = new Float64Array([0, -1, -2, -2, -1, 0, -1, 0, -1]);
    const a = auditScenario({ r, w: weights(r, 3, 3, 1), n: 3, m: 3, q: new Float64Array([0.3, 0.3, 0.4]), p0: new Float64Array(3).fill(1 / 3), tau: 1, eps: 0.1 });
    expect(a.applicable).toBe(false);
    expect(a.reason).toMatch(/m = 3/);
    expect(a.basins.map((b) => b.ranges)).toEqual([[[0, 0]], [[2, 2]], [[1, 1]]]);
    const c = checkAudit(a, { basinMass: [1, 0, 0], outsideMass: 0, rewardVariance: [0, 0, 0], supOutsideMultiplier: [] });
    expect(c.held.interval).toBeNull();
  });

  it("after a K = inf run every prediction held", () => {
    const input = input7(1);
    const a = auditScenario(input);
    const { observed } = runKInf(input, 3000);
    const c = checkAudit(a, observed);
    expect(c.held, JSON.stringify(c.details)).toEqual({ interval: true, outsideDecays: true, varianceBound: [true, true] });
    expect(observed.outsideMass).toBeLessThan(1e-12);
  });
});

describe("Falahati Lemma 3.5 interval on quadratic wells (docs/model.md, section 5 reference grid)", () => {
  it("a_400 lies in [L - m_T, U + m_T] for D = 3, 5 and several q", () => {
    const n = 3001;
    for (const D of [3, 5]) {
      const r = new Float64Array(2 * n);
      for (let x = 0; x < n; x++) {
        const c = -12 + (24 * (x + 0.5)) / n;
        r[x] = -((c + D / 2) ** 2);
        r[n + x] = -((c - D / 2) ** 2);
      }
      for (const q1 of [0.1, 0.5, 0.9]) {
        const input: AuditInput = { r, w: weights(r, n, 2, 1), n, m: 2, q: new Float64Array([q1, 1 - q1]), p0: new Float64Array(n).fill(1 / n), tau: 1, eps: 0.1 };
        const a = auditScenario(input);
        const { observed } = runKInf(input, 400);
        const c = checkAudit(a, observed);
        expect(c.held.interval, `D=${D}, q=${q1}: ${JSON.stringify(c.details)}`).toBe(true);
        expect(a.nash!.basinMass[0]).toBeGreaterThanOrEqual(a.interval!.L - 1e-12);
        expect(a.nash!.basinMass[0]).toBeLessThanOrEqual(a.interval!.U + 1e-12);
      }
    }
  });
});

describe("Lemma 3.3 counterexample (docs/model.md, section 5)", () => {
  // Atoms A, B, C, D. w_1 = {1, 1/100, 4/5, 1/1000}, w_2 = {1/100, 1, 4/5, 1/1000}; tau = 1, so
  // r_i = log w_i. q = 1/2 and eps = 0.1 < log(5/4) = 0.223, so S_1 = {A}, S_2 = {B}, O = {C, D}.
  // delta = log(5/4) (atom C), Delta_1 = Delta_2 = log 100.
  // 2 e^{-delta} = 1.6 > 1 + e^{-Delta} = 1.01: flagged. Indeed at a = b = 1/2, Z_1 = Z_2 = 0.505 and
  // W(C) = 0.8 / 0.505 = 1.584 > 1, and F(C) = log 0.8 > F(A/2 + B/2) = log 0.505: the Nash
  // solution is all mass on C, so the outside mass rises to 1.
  const w = new Float64Array([1, 0.01, 0.8, 0.001, 0.01, 1, 0.8, 0.001]);
  const r = w.map(Math.log);
  const input: AuditInput = { r, w, n: 4, m: 2, q: new Float64Array([0.5, 0.5]), p0: new Float64Array(4).fill(0.25), tau: 1, eps: 0.1 };

  it("the audit flags 2 e^{-delta} > 1 + e^{-Delta}", () => {
    const a = auditScenario(input);
    expect(a.basins.map((b) => b.ranges)).toEqual([[[0, 0]], [[1, 1]]]);
    close(a.delta!, Math.log(1.25));
    close(a.Delta![0], Math.log(100));
    close(a.Delta![1], Math.log(100));
    expect(a.outsideDomination!.counterexampleCondition).toBe(true);
    expect(a.assumptions.find((c) => c.id === "outside-domination-constants")!.held).toBe(false);
    expect(a.assumptions.find((c) => c.id === "outside-domination-at-limit")!.held).toBe(false);
    // Assumption 2.1 otherwise holds: the failure is B.4's, not the basins'.
    for (const id of ["basins-disjoint", "p0-positive-on-basins", "outside-gap", "cross-gaps", "q-window"]) {
      expect(a.assumptions.find((c) => c.id === id)!.held, id).toBe(true);
    }
    close(a.nash!.outsideMass, 1);
  });

  it("the K = inf dynamics push the outside mass to 1 and checkAudit says so", () => {
    const a = auditScenario(input);
    const { observed, outsideMass } = runKInf(input, 2000);
    expect(outsideMass[0]).toBeCloseTo(0.5, 14);
    // D (w = 1/1000) drains first, so m_t dips below 1/2 before C takes over; then it rises for good.
    const tMin = outsideMass.indexOf(Math.min(...outsideMass));
    expect(tMin).toBeLessThan(20);
    for (let t = tMin + 1; t < outsideMass.length; t++) expect(outsideMass[t]).toBeGreaterThanOrEqual(outsideMass[t - 1] - 1e-15);
    expect(outsideMass[outsideMass.length - 1]).toBeGreaterThan(1 - 1e-9);
    const c = checkAudit(a, observed);
    expect(c.held.outsideDecays).toBe(false);
    expect(c.details.lateSupOutsideMultiplier).toBeGreaterThanOrEqual(1 - 1e-12);
  });
});
