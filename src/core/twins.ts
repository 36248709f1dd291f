// Plain TypeScript twins of the Wasm kernels (assembly/*.ts): straightforward loops that the
// tests compare against. Tolerances (test/kernels-*.test.ts):
// - elementwise results (weights, the K = infinity out vector, scale, w1Grid, masked max,
//   counts) use the same operation order as the kernels and agree bit for bit;
// - sums agree to a relative 1e-12 (the kernels sum two interleaved lanes);
// - finite K: the twin evaluates the same trapezoid (same u_0, h, stopping rule) with one
//   direct exp per node and atom, over every node (no series left of an atom's active nodes,
//   no cut right of them, no squaring chain), so it agrees with the kernel to a relative
//   ~1e-13 per atom (squaring chains cost up to ~2^8 ulp where the terms are smallest; the
//   cuts e^-34.5).
import type { FiniteKResult, KernelArrays, KinfResult } from "./kernels.js";

const LEFT = 2 ** -56;
const RIGHT = 708;
const MAX_NODES = 27 * 151;
const TINY_MASS = 2 ** -1000;

/**
 * H_i(x; p / P) for one group by the trapezoid in s = log u (docs/model.md, section 3), one direct
 * exp per node and atom; P = sum p. Near phi = P the power uses psi = sum p (1 - e) from expm1
 * (as the kernel does), since phi^(K-1) amplifies an absolute error of phi K-fold. `perOctave`
 * nodes per doubling of u (h = ln 2 / perOctave): 3 is the kernel's rule; other values test it.
 */
export function finiteKH(p: Float64Array, w: Float64Array, K: number, perOctave = 3): Float64Array {
  const n = p.length;
  const H = new Float64Array(n);
  if (K <= 1) return H.fill(1);
  let total = 0;
  let wMax = 0;
  let wMinPos = Infinity;
  for (let x = 0; x < n; x++) {
    total += p[x];
    if (p[x] > 0) {
      if (w[x] > wMax) wMax = w[x];
      if (w[x] > 0 && w[x] < wMinPos) wMinPos = w[x];
    }
  }
  if (!(wMax > 0)) return H;
  if (!(total > 0)) total = 1;
  const u0 = LEFT / (K * wMax);
  const h = Math.LN2 / perOctave;
  for (let j = 0; j < (MAX_NODES * perOctave) / 3; j++) {
    const u = u0 * 2 ** (j / perOctave);
    if (!Number.isFinite(u)) break;
    let phi = 0;
    let psi = 0;
    for (let y = 0; y < n; y++) {
      if (p[y] > 0) {
        phi += p[y] * Math.exp(-u * w[y]);
        psi -= p[y] * Math.expm1(-u * w[y]);
      }
    }
    phi /= total;
    psi /= total;
    const pw = psi <= 0.5 ? Math.exp((K - 1) * Math.log1p(-psi)) : phi ** (K - 1);
    if (psi <= 0.5) phi = 1 - psi;
    const g = h * u * pw;
    for (let x = 0; x < n; x++) H[x] += g * Math.exp(-u * w[x]);
    if (phi ** K < TINY_MASS || u * wMinPos > RIGHT) break;
  }
  for (let x = 0; x < n; x++) H[x] *= K * w[x];
  return H;
}

function kinfStepArrays(p: Float64Array, w: Float64Array, n: number, m: number, c: Float64Array, lambda: number, pData?: Float64Array): KinfResult {
  const keep = 1 - lambda;
  const cc = Array.from(c, (ci) => keep * ci);
  const out = new Float64Array(n);
  const zNext = new Float64Array(m);
  let sum = 0;
  for (let x = 0; x < n; x++) {
    let mult = cc[0] * w[x];
    for (let i = 1; i < m; i++) mult += cc[i] * w[i * n + x];
    let v = p[x] * mult;
    if (lambda !== 0) v += lambda * pData![x];
    out[x] = v;
    sum += v;
    for (let i = 0; i < m; i++) zNext[i] += v * w[i * n + x];
  }
  return { out, zNext, sum };
}

function finiteKStepArrays(p: Float64Array, w: Float64Array, n: number, m: number, q: Float64Array, K: number, lambda: number, pData?: Float64Array): FiniteKResult {
  const mult = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    if (!(q[i] > 0)) continue;
    const H = finiteKH(p, w.subarray(i * n, (i + 1) * n), K);
    for (let x = 0; x < n; x++) mult[x] += q[i] * H[x];
  }
  const out = new Float64Array(n);
  let sum = 0;
  let total = 0;
  for (let x = 0; x < n; x++) total += p[x];
  if (!(total > 0)) total = 1;
  for (let x = 0; x < n; x++) {
    let v = ((1 - lambda) * p[x] * mult[x]) / total;
    if (lambda !== 0) v += lambda * pData![x];
    out[x] = v;
    sum += v;
  }
  return { out, sum };
}

function groupStatsArrays(p: Float64Array, r: Float64Array, w: Float64Array, n: number, m: number): Float64Array {
  const out = new Float64Array(3 * m);
  let total = 0;
  for (let x = 0; x < n; x++) total += p[x];
  const inv = total > 0 ? 1 / total : 0;
  for (let i = 0; i < m; i++) {
    // The variance of r - r(x0), x0 the first atom with p > 0 (as the kernel: exact 0 for a constant).
    let ref = 0;
    for (let x = 0; x < n; x++) {
      if (p[x] > 0) {
        ref = r[i * n + x];
        break;
      }
    }
    let mean = 0;
    let shifted = 0;
    let z = 0;
    for (let x = 0; x < n; x++) {
      if (p[x] > 0) {
        mean += p[x] * r[i * n + x];
        shifted += p[x] * (r[i * n + x] - ref);
        z += p[x] * w[i * n + x];
      }
    }
    mean *= inv;
    shifted *= inv;
    let v = 0;
    for (let x = 0; x < n; x++) {
      if (p[x] > 0) {
        const d = r[i * n + x] - ref - shifted;
        v += p[x] * d * d;
      }
    }
    out[3 * i] = mean;
    out[3 * i + 1] = v * inv;
    out[3 * i + 2] = z * inv;
  }
  return out;
}

/** The twins, with the same typed-array signatures as the Wasm kernels. */
export const twins: KernelArrays = {
  computeWeightsArrays(r, n, m, tau) {
    const w = new Float64Array(n * m);
    const max = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let mx = -Infinity;
      for (let x = 0; x < n; x++) if (r[i * n + x] > mx) mx = r[i * n + x];
      max[i] = mx;
      for (let x = 0; x < n; x++) w[i * n + x] = Math.exp((r[i * n + x] - mx) / tau);
    }
    return { w, max };
  },
  kinfStepArrays,
  finiteKStepArrays,
  scaleArrays: (a, factor) => a.map((v) => v * factor),
  sumArray(a) {
    let s = 0;
    for (const v of a) s += v;
    return s;
  },
  zValuesArrays(p, w, n, m) {
    const z = new Float64Array(m);
    for (let i = 0; i < m; i++) for (let x = 0; x < n; x++) z[i] += p[x] * w[i * n + x];
    return z;
  },
  groupStatsArrays,
  maskedMultiplierMaxArrays(w, n, m, c, mask) {
    let best = -Infinity;
    for (let x = 0; x < n; x++) {
      if (!mask[x]) continue;
      let s = 0;
      for (let i = 0; i < m; i++) s += c[i] * w[i * n + x];
      if (s > best) best = s;
    }
    return best;
  },
  maskedSumArrays(p, mask) {
    let s = 0;
    for (let x = 0; x < p.length; x++) if (mask[x]) s += p[x];
    return s;
  },
  entropyArray(p) {
    let h = 0;
    for (const v of p) if (v > 0) h -= v * Math.log(v);
    return h;
  },
  klDivergenceArrays(p, q) {
    let d = 0;
    for (let x = 0; x < p.length; x++) {
      if (p[x] > 0) {
        if (!(q[x] > 0)) return Infinity;
        d += p[x] * Math.log(p[x] / q[x]);
      }
    }
    return d;
  },
  l1DistanceArrays(a, b) {
    let s = 0;
    for (let x = 0; x < a.length; x++) s += Math.abs(a[x] - b[x]);
    return s;
  },
  w1GridArrays(p, q, width) {
    let diff = 0;
    let s = 0;
    for (let x = 0; x < p.length; x++) {
      diff += p[x] - q[x];
      s += Math.abs(diff);
    }
    return s * width;
  },
  countPositiveArray(p) {
    let c = 0;
    for (const v of p) if (v > 0) c++;
    return c;
  },
};
