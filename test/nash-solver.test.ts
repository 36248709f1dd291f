import { describe, expect, it } from "vitest";
import { nashGap, nashWelfare, solveNash } from "../src/core/nash.js";
import { rng as mulberry32, weights } from "./helpers.js";


function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}


function dirichlet(rand: () => number, k: number): Float64Array {
  const v = new Float64Array(k);
  let s = 0;
  for (let j = 0; j < k; j++) { v[j] = -Math.log(1 - rand()); s += v[j]; }
  for (let j = 0; j < k; j++) v[j] /= s;
  return v;
}

/** g(x) = sum_i q_i w_i(x) / Z_i(p), the K = infinity multiplier (docs/model.md, section 3). */
function multiplier(p: Float64Array, w: Float64Array, n: number, m: number, q: Float64Array): Float64Array {
  const Z = new Float64Array(m);
  for (let i = 0; i < m; i++) for (let x = 0; x < n; x++) Z[i] += p[x] * w[i * n + x];
  const g = new Float64Array(n);
  for (let x = 0; x < n; x++) for (let i = 0; i < m; i++) g[x] += (q[i] * w[i * n + x]) / Z[i];
  return g;
}

/** One K = infinity per-sample step p <- p * sum_i q_i w_i / Z_i, renormalised (docs/model.md, section 3). */
function kInfStep(p: Float64Array, w: Float64Array, n: number, m: number, q: Float64Array): Float64Array {
  const g = multiplier(p, w, n, m, q);
  const next = new Float64Array(n);
  let s = 0;
  for (let x = 0; x < n; x++) { next[x] = p[x] * g[x]; s += next[x]; }
  for (let x = 0; x < n; x++) next[x] /= s;
  return next;
}

function tv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let x = 0; x < a.length; x++) s += Math.abs(a[x] - b[x]);
  return s / 2;
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

describe("solveNash: two atoms, closed form", () => {
  // Atoms A, B; w_1 = (1, a), w_2 = (b, 1); p = (s, 1 - s); q = (q, 1 - q).
  // Z_1 = s + a(1 - s), Z_2 = b s + (1 - s). F'(s) = q(1 - a)/Z_1 - (1 - q)(1 - b)/Z_2 = 0
  // <=> q(1 - a) Z_2 = (1 - q)(1 - b) Z_1
  // <=> q(1 - a) - (1 - q)(1 - b) a = s [q(1 - a)(1 - b) + (1 - q)(1 - b)(1 - a)] = s (1 - a)(1 - b)
  // <=> s* = q / (1 - b) - (1 - q) a / (1 - a), clipped to [0, 1] (F is concave in s).
  // q = 0.3, a = 0.1, b = 0.2: s* = 0.375 - 0.07/0.9 = 0.2972222...; this is also the K = inf fixed
  // point: g(A) = g(B) = 1 there.
  it("interior solution s* = q/(1-b) - (1-q)a/(1-a)", () => {
    const w = new Float64Array([1, 0.1, 0.2, 1]);
    const q = new Float64Array([0.3, 0.7]);
    const sol = solveNash(w, 2, 2, q, new Float64Array([0.5, 0.5]));
    const s = 0.3 / 0.8 - (0.7 * 0.1) / 0.9;
    expect(Math.abs(sol.p[0] - s), `p(A) = ${sol.p[0]}, want ${s}`).toBeLessThan(1e-13);
    expect(Math.abs(sol.p[1] - (1 - s))).toBeLessThan(1e-13);
    expect(sol.gap).toBeLessThanOrEqual(1e-10);
    const Z1 = s + 0.1 * (1 - s);
    const Z2 = 0.2 * s + (1 - s);
    expect(Math.abs(sol.welfare - (0.3 * Math.log(Z1) + 0.7 * Math.log(Z2)))).toBeLessThan(1e-14);
  });

  // q = 0.05, a = 0.5, b = 0: s* = 0.05 - 0.95 = -0.9 < 0, so p* = (0, 1); then Z = (0.5, 1) and
  // g(A) = 0.05 * 1/0.5 + 0.95 * 0/1 = 0.1 < 1: the certificate holds with A unused.
  it("clipped solution at a vertex", () => {
    const w = new Float64Array([1, 0.5, 0, 1]);
    const q = new Float64Array([0.05, 0.95]);
    const sol = solveNash(w, 2, 2, q, new Float64Array([0.5, 0.5]));
    expect(sol.p[0]).toBe(0);
    expect(Math.abs(sol.p[1] - 1)).toBeLessThan(1e-15);
    expect(sol.gap).toBeLessThanOrEqual(1e-10);
  });

  it("a = b = 0 (hard separation): s* = q", () => {
    const w = new Float64Array([1, 0, 0, 1]);
    for (const q1 of [0.1, 0.37, 0.5, 0.9]) {
      const sol = solveNash(w, 2, 2, new Float64Array([q1, 1 - q1]), new Float64Array([0.9, 0.1]));
      expect(Math.abs(sol.p[0] - q1)).toBeLessThan(1e-14);
    }
  });
});

describe("solveNash: one group", () => {
  // r = [0, 1, 3, 3, 2, 3], p0(5) = 0, so the argmax set on the support is {2, 3}: p* = p0 there,
  // renormalised: 0.3/0.4 and 0.1/0.4 (Ferbach Thm 2.1, where the dynamics go).
  it("returns p0 restricted to the argmax set on the support", () => {
    const r = new Float64Array([0, 1, 3, 3, 2, 3]);
    const w = weights(r, 6, 1, 0.7);
    const p0 = new Float64Array([0.1, 0.2, 0.3, 0.1, 0.3, 0]);
    const sol = solveNash(w, 6, 1, new Float64Array([1]), p0);
    const want = [0, 0, 0.75, 0.25, 0, 0];
    for (let x = 0; x < 6; x++) expect(Math.abs(sol.p[x] - want[x]), `atom ${x}`).toBeLessThan(1e-15);
    expect(sol.gap).toBeLessThanOrEqual(0);
    expect(sol.welfare).toBe(0);
  });

  it("identical atoms in m = 2 share their class mass in proportion to p0", () => {
    // Atoms 0,1,2 have the same weight vector (1, 0.01); atoms 3,4 the same (0.02, 1).
    const w = new Float64Array([1, 1, 1, 0.02, 0.02, 0.01, 0.01, 0.01, 1, 1]);
    const p0 = new Float64Array([0.1, 0.3, 0.2, 0.25, 0.15]);
    const q = new Float64Array([0.4, 0.6]);
    const sol = solveNash(w, 5, 2, q, p0);
    const a = sol.p[0] + sol.p[1] + sol.p[2];
    for (const x of [0, 1, 2]) expect(Math.abs(sol.p[x] - (a * p0[x]) / 0.6)).toBeLessThan(1e-15);
    for (const x of [3, 4]) expect(Math.abs(sol.p[x] - ((1 - a) * p0[x]) / 0.4)).toBeLessThan(1e-15);
    // Closed form above with a = 0.02 (w_1 of the second class), b = 0.01.
    expect(Math.abs(a - (0.4 / 0.99 - (0.6 * 0.02) / 0.98))).toBeLessThan(1e-13);
  });

  it("a single support atom", () => {
    const w = new Float64Array([0.3, 1, 1, 0.2]);
    const sol = solveNash(w, 2, 2, new Float64Array([0.5, 0.5]), new Float64Array([0, 1]));
    expect(Array.from(sol.p)).toEqual([0, 1]);
    expect(sol.gap).toBeLessThanOrEqual(1e-15);
  });
});

interface Instance { n: number; m: number; w: Float64Array; q: Float64Array; p0: Float64Array }

function randomInstance(rand: () => number, maxN: number, maxM: number, zeros: boolean): Instance {
  const n = 2 + Math.floor(rand() * (maxN - 1));
  const m = 1 + Math.floor(rand() * maxM);
  const scale = [0.3, 1, 3, 10][Math.floor(rand() * 4)];
  const r = new Float64Array(n * m);
  for (let k = 0; k < n * m; k++) r[k] = scale * normal(rand);
  const tau = 0.5 + rand() * 1.5;
  const q = dirichlet(rand, m);
  const p0 = dirichlet(rand, n);
  if (zeros) {
    for (let x = 0; x < n; x++) if (rand() < 0.25) p0[x] = 0;
    if (sum(p0) === 0) p0[0] = 1;
    const s = sum(p0);
    for (let x = 0; x < n; x++) p0[x] /= s;
  }
  return { n, m, w: weights(r, n, m, tau), q, p0 };
}

describe("solveNash: random problems (n <= 50, m <= 5)", () => {
  const rand = mulberry32(20240611);
  const instances = Array.from({ length: 200 }, () => randomInstance(rand, 50, 5, true));

  it("certificate nashGap(p*) <= 1e-10, p* a distribution on the support of p0", () => {
    for (const [k, { n, m, w, q, p0 }] of instances.entries()) {
      const sol = solveNash(w, n, m, q, p0);
      expect(sol.gap, `instance ${k} (n=${n}, m=${m})`).toBeLessThanOrEqual(1e-10);
      expect(Math.abs(nashGap(sol.p, w, n, m, q, p0) - sol.gap)).toBe(0);
      expect(Math.abs(sum(sol.p) - 1)).toBeLessThan(1e-14);
      for (let x = 0; x < n; x++) {
        expect(sol.p[x]).toBeGreaterThanOrEqual(0);
        if (p0[x] === 0) expect(sol.p[x]).toBe(0);
      }
    }
  });

  it("F(p*) >= F at random feasible points and at every vertex", () => {
    const r2 = mulberry32(7);
    for (const { n, m, w, q, p0 } of instances) {
      const sol = solveNash(w, n, m, q, p0);
      const support = [...p0.keys()].filter((x) => p0[x] > 0);
      const fStar = sol.welfare;
      // Vertices.
      for (const x of support) {
        const e = new Float64Array(n);
        e[x] = 1;
        expect(nashWelfare(e, w, n, m, q)).toBeLessThanOrEqual(fStar + 1e-12);
      }
      // Dense and sparse random points on the support.
      for (let t = 0; t < 40; t++) {
        const p = new Float64Array(n);
        const d = dirichlet(r2, support.length);
        const sparse = t % 2 === 1;
        support.forEach((x, j) => { p[x] = sparse && r2() < 0.6 ? 0 : d[j]; });
        const s = sum(p);
        if (s === 0) continue;
        for (let x = 0; x < n; x++) p[x] /= s;
        expect(nashWelfare(p, w, n, m, q)).toBeLessThanOrEqual(fStar + 1e-12);
        // The certificate bounds the suboptimality of every point: F* - F(p) <= nashGap(p).
        expect(fStar - nashWelfare(p, w, n, m, q)).toBeLessThanOrEqual(nashGap(p, w, n, m, q, p0) + 1e-12);
      }
    }
  });

  it("KKT: g = 1 on supp p*, g <= 1 on the support of p0", () => {
    for (const { n, m, w, q, p0 } of instances) {
      const sol = solveNash(w, n, m, q, p0);
      const g = multiplier(sol.p, w, n, m, q);
      for (let x = 0; x < n; x++) {
        if (sol.p[x] > 0) expect(Math.abs(g[x] - 1), `g(${x}) = ${g[x]}`).toBeLessThan(1e-10);
        if (p0[x] > 0) expect(g[x]).toBeLessThanOrEqual(1 + 1e-10);
      }
    }
  });
});

describe("solveNash agrees with the K = infinity dynamics' limit (Cover 1984)", () => {
  // Strictly complementary instances only: every atom off supp p* has g <= 1 - 0.02 and every
  // atom on it has p* >= 0.02, so the multiplicative update converges geometrically and
  // 60000 steps put it well inside TV 1e-8 (rate <= 0.98 per step off the support).
  it("TV(p_T, p*) <= 1e-8 on random small scenarios", () => {
    const rand = mulberry32(99);
    let tested = 0;
    for (let trial = 0; trial < 200 && tested < 25; trial++) {
      const n = 4 + Math.floor(rand() * 5);
      const m = 2 + Math.floor(rand() * 2);
      const r = new Float64Array(n * m);
      for (let k = 0; k < n * m; k++) r[k] = 2 * normal(rand);
      const w = weights(r, n, m, 1);
      const q = dirichlet(rand, m);
      const p0 = dirichlet(rand, n);
      const sol = solveNash(w, n, m, q, p0);
      const g = multiplier(sol.p, w, n, m, q);
      let ok = true;
      for (let x = 0; x < n; x++) {
        if (sol.p[x] > 0 && sol.p[x] < 0.02) ok = false;
        if (sol.p[x] === 0 && g[x] > 0.98) ok = false;
      }
      if (!ok) continue;
      tested++;
      let p: Float64Array = Float64Array.from(p0);
      for (let t = 0; t < 60000; t++) p = kInfStep(p, w, n, m, q);
      expect(tv(p, sol.p), `trial ${trial}: n=${n}, m=${m}`).toBeLessThanOrEqual(1e-8);
    }
    expect(tested).toBeGreaterThanOrEqual(10);
  });
});

describe("Falahati Thm 3.7: two plateau basins, hard separation", () => {
  // 20 atoms; r_1 = 0 on S_1 = {2..5}, -60 elsewhere; r_2 = 0 on S_2 = {12..16}, -60 elsewhere.
  // Cross weights are e^{-60} ~ 1e-26, so by the two-atom closed form p*(S_1) = q up to 1e-25,
  // and inside each plateau (bit-identical weight vectors) p* follows p0.
  it("p* puts mass q on S_1 and 1 - q on S_2, spread like p0", () => {
    const n = 20;
    const r = new Float64Array(2 * n).fill(-60);
    for (let x = 2; x <= 5; x++) r[x] = 0;
    for (let x = 12; x <= 16; x++) r[n + x] = 0;
    const w = weights(r, n, 2, 1);
    const rand = mulberry32(5);
    const p0 = dirichlet(rand, n);
    let s1 = 0;
    let s2 = 0;
    for (let x = 2; x <= 5; x++) s1 += p0[x];
    for (let x = 12; x <= 16; x++) s2 += p0[x];
    for (const q1 of [0.1, 0.3, 0.5, 0.8]) {
      const sol = solveNash(w, n, 2, new Float64Array([q1, 1 - q1]), p0);
      for (let x = 2; x <= 5; x++) expect(Math.abs(sol.p[x] - (q1 * p0[x]) / s1)).toBeLessThan(1e-15);
      for (let x = 12; x <= 16; x++) expect(Math.abs(sol.p[x] - ((1 - q1) * p0[x]) / s2)).toBeLessThan(1e-15);
      expect(sol.gap).toBeLessThanOrEqual(1e-10);
    }
  });

  it("quadratic wells on the reference grid (n = 3001, D = 5): p*(S_1) = q", () => {
    const n = 3001;
    const D = 5;
    const r = new Float64Array(2 * n);
    for (let x = 0; x < n; x++) {
      const c = -12 + (24 * (x + 0.5)) / n;
      r[x] = -((c + D / 2) ** 2);
      r[n + x] = -((c - D / 2) ** 2);
    }
    const w = weights(r, n, 2, 1);
    const p0 = new Float64Array(n).fill(1 / n);
    for (const q1 of [0.1, 0.5, 0.9]) {
      const sol = solveNash(w, n, 2, new Float64Array([q1, 1 - q1]), p0);
      let a = 0;
      for (let x = 0; x < n; x++) if (r[x] >= -0.1) a += sol.p[x];
      // Leakage e^{-D^2} ~ 1.4e-11 bounds |a - q| (two-atom closed form).
      expect(Math.abs(a - q1)).toBeLessThan(1e-9);
      expect(sol.gap).toBeLessThanOrEqual(1e-10);
    }
  });
});

describe("solveNash: size and speed", () => {
  function wells(n: number, m: number): { w: Float64Array; q: Float64Array; p0: Float64Array } {
    const r = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      const centre = -8 + (16 * i) / Math.max(1, m - 1);
      for (let x = 0; x < n; x++) {
        const c = -12 + (24 * (x + 0.5)) / n;
        r[i * n + x] = -((c - centre) ** 2) * (0.5 + (i % 3) * 0.25);
      }
    }
    const q = new Float64Array(m).fill(1 / m);
    q[0] += 0.5 / m;
    q[m - 1] -= 0.5 / m;
    return { w: weights(r, n, m, 1), q, p0: new Float64Array(n).fill(1 / n) };
  }

  for (const [n, m] of [[3001, 2], [100000, 8], [20000, 64]] as const) {
    it(`n=${n}, m=${m}`, () => {
      // Correctness at size; speed belongs in bench/, not in a timed assertion here.
      const { w, q, p0 } = wells(n, m);
      const sol = solveNash(w, n, m, q, p0);
      expect(sol.gap).toBeLessThanOrEqual(1e-10);
    });
  }
});

describe("solveNash: bad input", () => {
  it("rejects mismatched lengths and an all-zero group on the support", () => {
    const q = new Float64Array([0.5, 0.5]);
    expect(() => solveNash(new Float64Array(3), 2, 2, q, new Float64Array([0.5, 0.5]))).toThrow(/length/);
    expect(() => solveNash(new Float64Array([1, 1, 0, 0]), 2, 2, q, new Float64Array([0.5, 0.5]))).toThrowError(
      expect.objectContaining({ code: "REWARD_UNDERFLOW" }),
    );
    expect(() => solveNash(new Float64Array([1, 1]), 2, 1, new Float64Array([1]), new Float64Array([0, 0]))).toThrowError(
      expect.objectContaining({ code: "INVALID_SCENARIO" }),
    );
  });
});
