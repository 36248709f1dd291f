// The exact finite-K kernel (docs/model.md, section 3): mass defect, closed forms for K = 2 and 3,
// the TS twin, the K -> infinity limit, and the worked 12-atom example of section 4.
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/core/kernels.js";
import { twins } from "../src/core/twins.js";
import { loadKernels, maxRelErr, quadraticGrid, randomSimplex, rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

function uniform(n: number): Float64Array {
  return new Float64Array(n).fill(1 / n);
}

/** p collapsed: a narrow Gaussian bump of width s around x0, tiny mass elsewhere (floor). */
function collapsed(xs: Float64Array, x0: number, s: number, floor: number): Float64Array {
  const p = xs.map((x) => Math.exp(-(((x - x0) / s) ** 2) / 2) + floor);
  const t = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / t);
}

function weights(r: Float64Array, n: number, m: number, tau = 1): Float64Array {
  return twins.computeWeightsArrays(r, n, m, tau).w;
}

describe("finite-K mass defect on realistic scenarios", () => {
  const n = 3001;
  const cases: { name: string; centres: number[]; q: number[] }[] = [
    { name: "one group c=0", centres: [0], q: [1] },
    { name: "two groups c=+-1", centres: [-1, 1], q: [0.3, 0.7] },
    { name: "two groups c=+-5", centres: [-5, 5], q: [0.5, 0.5] },
    { name: "three groups", centres: [-8, 0.5, 11], q: [0.2, 0.5, 0.3] },
  ];
  for (const c of cases) {
    const { xs, r } = quadraticGrid(n, -12, 12, c.centres);
    const m = c.centres.length;
    const w = weights(r, n, m);
    const q = new Float64Array(c.q);
    const ps: [string, Float64Array][] = [
      ["uniform", uniform(n)],
      ["collapsed", collapsed(xs, c.centres[0], 0.05, 0)],
      ["collapsed+floor", collapsed(xs, 3, 0.2, 1e-12)],
    ];
    for (const [pname, p] of ps) {
      for (const K of [2, 3, 4, 16, 64, 1024]) {
        it(`${c.name}, p ${pname}, K=${K}`, () => {
          const { sum } = k.finiteKStepArrays(p, w, n, m, q, K, 0);
          expect(Math.abs(1 - sum), `defect ${1 - sum}`).toBeLessThanOrEqual(1e-10);
        });
      }
    }
  }
});

describe("finite-K against closed forms and brute force", () => {
  const rand = rng(7);
  /** K = 2: H(x) = 2 w(x) sum_y p(y) / (w(x) + w(y)) (one other candidate, exact); 0 where w(x) = 0. */
  function h2(p: Float64Array, w: Float64Array): Float64Array {
    return w.map((wx) => {
      // w(x) = 0 never wins; the sum itself would be 0 / 0 against another zero weight.
      if (wx === 0) return 0;
      let s = 0;
      for (let y = 0; y < p.length; y++) s += p[y] / (wx + w[y]);
      return 2 * wx * s;
    });
  }
  /** K = 3: H(x) = 3 w(x) sum_{y,z} p(y) p(z) / (w(x) + w(y) + w(z)). */
  function h3(p: Float64Array, w: Float64Array): Float64Array {
    return w.map((wx) => {
      let s = 0;
      for (let y = 0; y < p.length; y++) for (let z = 0; z < p.length; z++) s += (p[y] * p[z]) / (wx + w[y] + w[z]);
      return 3 * wx * s;
    });
  }
  for (const n of [1, 2, 5, 12, 33, 200]) {
    for (const spread of [1, 30, 300]) {
      it(`K=2 and K=3 closed forms, n=${n}, reward spread ${spread}`, () => {
        const p = randomSimplex(n, rand, n > 2 ? 0.2 : 0);
        const r = new Float64Array(n).map(() => -spread * rand());
        const w = weights(r, n, 1);
        const q = new Float64Array([1]);
        for (const [K, ref] of [[2, h2(p, w)], [3, h3(p, w)]] as const) {
          const { out, sum } = k.finiteKStepArrays(p, w, n, 1, q, K, 0);
          const expected = p.map((px, x) => px * ref[x]);
          const err = maxRelErr(out, expected, 1e-300);
          expect(err, `K=${K} max rel err ${err}`).toBeLessThanOrEqual(1e-12);
          expect(Math.abs(1 - sum)).toBeLessThanOrEqual(1e-12);
        }
      });
    }
  }

  it("zero-weight atoms: H = 0 there, the rest as the closed form", () => {
    const p = new Float64Array([0.25, 0.25, 0.25, 0.25]);
    const w = new Float64Array([1, 0.5, 0, 1e-3]);
    const { out } = k.finiteKStepArrays(p, w, 4, 1, new Float64Array([1]), 2, 0);
    const ref = h2(p, w).map((h, x) => p[x] * h);
    expect(out[2]).toBe(0);
    expect(maxRelErr(out, ref, 1e-300)).toBeLessThanOrEqual(1e-12);
  });
});

describe("finite-K Wasm vs TS twin", () => {
  const rand = rng(11);
  for (const n of [1, 2, 3, 17, 100, 301]) {
    for (const m of [1, 2, 3, 8]) {
      it(`n=${n}, m=${m}, K in {2, 5, 64, 1000}, with and without lambda`, () => {
        const p = randomSimplex(n, rand, 0.3);
        const pData = randomSimplex(n, rand);
        const r = new Float64Array(n * m).map(() => -40 * rand() ** 2);
        const w = weights(r, n, m, 0.7);
        const q = randomSimplex(m, rand);
        if (m === 3) q[1] = 0;
        for (const K of [2, 5, 64, 1000]) {
          for (const lambda of [0, 0.25]) {
            const a = k.finiteKStepArrays(p, w, n, m, q, K, lambda, pData);
            const b = twins.finiteKStepArrays(p, w, n, m, q, K, lambda, pData);
            const err = maxRelErr(a.out, b.out, 1e-300);
            expect(err, `K=${K} lambda=${lambda}: ${err}`).toBeLessThanOrEqual(1e-12);
            expect(Math.abs(a.sum - b.sum)).toBeLessThanOrEqual(1e-12);
          }
        }
      });
    }
  }
});

describe("finite-K special cases", () => {
  it("one atom: out = p (any K)", () => {
    for (const K of [2, 7, 500]) {
      const { out, sum } = k.finiteKStepArrays(new Float64Array([1]), new Float64Array([1]), 1, 1, new Float64Array([1]), K, 0);
      expect(Math.abs(out[0] - 1)).toBeLessThanOrEqual(1e-14);
      expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-14);
    }
  });
  it("identical rewards: out = p", () => {
    const n = 9;
    const p = randomSimplex(n, rng(3));
    const { out } = k.finiteKStepArrays(p, new Float64Array(n).fill(1), n, 1, new Float64Array([1]), 10, 0);
    expect(maxRelErr(out, p)).toBeLessThanOrEqual(1e-13);
  });
  it("lambda mixes p_data in and groups with q = 0 are skipped", () => {
    const n = 6;
    const p = randomSimplex(n, rng(4));
    const pData = randomSimplex(n, rng(5));
    const w = new Float64Array([1, 0.5, 0.2, 0.1, 0.05, 0.01, 0.01, 0.05, 0.1, 0.2, 0.5, 1]);
    const only0 = k.finiteKStepArrays(p, w, n, 2, new Float64Array([1, 0]), 4, 0.3, pData);
    const single = k.finiteKStepArrays(p, w.subarray(0, n), n, 1, new Float64Array([1]), 4, 0, undefined);
    const expected = single.out.map((v, x) => 0.7 * v + 0.3 * pData[x]);
    expect(maxRelErr(only0.out, expected)).toBeLessThanOrEqual(1e-14);
  });
  it("weights that underflow to 0: the defect is the chance that all K candidates have w = 0", () => {
    // Luce's rule is 0/0 there; the kernel gives those draws no mass: sum = 1 - p(w = 0)^K.
    const w = new Float64Array([1, 0.5, 0, 0, 1e-3, 0.2, 0]);
    const n = w.length;
    const p0 = 3 / n;
    for (const K of [2, 8]) {
      const { sum } = k.finiteKStepArrays(uniform(n), w, n, 1, new Float64Array([1]), K, 0);
      expect(Math.abs(1 - p0 ** K - sum)).toBeLessThanOrEqual(1e-12);
    }
  });
  it("tau small (weights down to 1e-251) and huge keep the mass", () => {
    const n = 101;
    const { r } = quadraticGrid(n, -3, 3, [0.4]);
    for (const tau of [0.02, 1e3]) {
      const w = weights(r, n, 1, tau);
      const { sum } = k.finiteKStepArrays(uniform(n), w, n, 1, new Float64Array([1]), 8, 0);
      expect(Math.abs(1 - sum)).toBeLessThanOrEqual(1e-10);
    }
  });
});

describe("finite K approaches the K = infinity update", () => {
  it("error shrinks like 1/K", () => {
    const n = 301;
    const { r } = quadraticGrid(n, -4, 4, [-1, 1.5]);
    const w = weights(r, n, 2);
    const p = randomSimplex(n, rng(9));
    const q = new Float64Array([0.4, 0.6]);
    const Z = twins.zValuesArrays(p, w, n, 2);
    const c = q.map((qi, i) => qi / Z[i]);
    const inf = k.kinfStepArrays(p, w, n, 2, c, 0).out;
    const errs = [16, 256, 4096].map((K) => {
      const out = k.finiteKStepArrays(p, w, n, 2, q, K, 0).out;
      return out.reduce((s, v, x) => s + Math.abs(v - inf[x]), 0);
    });
    expect(errs[1]).toBeLessThan(errs[0] / 8);
    expect(errs[2]).toBeLessThan(errs[1] / 8);
    expect(errs[2]).toBeLessThan(1e-3);
  });
});

describe("the worked 12-atom example (docs/model.md, section 4)", () => {
  const n = 12;
  const xs = new Float64Array(n).map((_, k) => -3 + (6 * k) / (n - 1));
  const r = new Float64Array(2 * n);
  for (let x = 0; x < n; x++) {
    r[x] = -((xs[x] - 2) ** 2);
    r[n + x] = -((xs[x] + 2) ** 2);
  }
  const q = new Float64Array([0.5, 0.5]);

  function converge(K: number): Float64Array {
    const w = weights(r, n, 2);
    let p: Float64Array = xs.map((x) => Math.exp(-(x * x) / 2));
    const t0 = p.reduce((a, b) => a + b, 0);
    p = p.map((v) => v / t0);
    for (let t = 0; t < 200000; t++) {
      const { out, sum } = k.finiteKStepArrays(p, w, n, 2, q, K, 0);
      expect(Math.abs(1 - sum)).toBeLessThanOrEqual(1e-10);
      let change = 0;
      for (let x = 0; x < n; x++) {
        out[x] /= sum;
        change += Math.abs(out[x] - p[x]);
      }
      p = out;
      if (change < 1e-13) break;
    }
    return p;
  }

  it("K = 2: 1/2 on the two centre atoms", () => {
    const p = converge(2);
    expect(p[5]).toBeCloseTo(0.5, 6);
    expect(p[6]).toBeCloseTo(0.5, 6);
  });
  it("K = 4: about 0.434 / 0.066 / 0.066 / 0.434 on atoms 3, 4, 9, 10", () => {
    const p = converge(4);
    const got = [p[2], p[3], p[8], p[9]];
    [0.434, 0.066, 0.066, 0.434].forEach((v, i) => expect(Math.abs(got[i] - v), `atoms ${got}`).toBeLessThan(1.5e-3));
  });
  for (const K of [16, 64]) {
    it(`K = ${K}: 1/2 on atoms 3 and 10 (the Nash solution)`, () => {
      const p = converge(K);
      expect(p[2]).toBeCloseTo(0.5, 4);
      expect(p[9]).toBeCloseTo(0.5, 4);
    });
  }
});
