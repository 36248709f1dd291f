// Gaussian-mixture fitting by EM for gmm retraining (docs/model.md, section 6). The E-step and the
// M-step sums run in the Wasm (assembly/fit.ts, emPass); here are the C-sized parts: the
// M-step division, the variance floor, the empty-component rule, and the deterministic
// k-means++ seeding of generation 0.
//
// Parameters, C blocks: 1-D [weight, mean, var]; 2-D [weight, mx, my, sxx, sxy, syy].
//
// Empty-component rule: a component whose responsibility sum S0 falls below EMPTY_POINTS
// (1e-9 of one average point) has lost all its points. Its weight becomes 0 and its mean and
// covariance keep their previous values. A weight-0 component takes no responsibility in
// later E-steps, so it stays empty for the rest of the run: like a histogram cell that
// drifted to 0, capacity lost to sampling noise is not regained (no re-seeding).
//
// Variance floor: 1-D var >= floor; 2-D the eigenvalues of the covariance are raised to at
// least floor (the eigenvectors are kept).
import { dmath } from "./detmath.js";
import type { Kernels } from "./kernels.js";

/** Responsibility sum (in units of one average point) below which a component is empty. */
export const EMPTY_POINTS = 1e-9;

/** f64 slots per component: 3 in 1-D, 6 in 2-D. */
export function paramStride(dim: 1 | 2): number {
  return dim === 1 ? 3 : 6;
}

/** Raises the eigenvalues of the 2x2 covariance [a b; b c] to at least floor; returns [a, b, c]. */
export function floorCovariance(a: number, b: number, c: number, floor: number): [number, number, number] {
  const half = (a - c) / 2;
  const root = dmath.hypot(half, b);
  const mid = (a + c) / 2;
  const l1 = mid + root;
  const l2 = mid - root;
  if (l2 >= floor) return [a, b, c];
  const f1 = Math.max(l1, floor);
  const f2 = Math.max(l2, floor);
  if (root === 0) return [Math.max(a, floor), 0, Math.max(c, floor)];
  // Unit eigenvector of l1: (b, l1 - a) or (l1 - c, b), whichever is better conditioned.
  let vx: number, vy: number;
  if (Math.abs(l1 - a) > Math.abs(l1 - c)) {
    vx = b;
    vy = l1 - a;
  } else {
    vx = l1 - c;
    vy = b;
  }
  const norm = dmath.hypot(vx, vy);
  vx /= norm;
  vy /= norm;
  // Sigma = f1 v v^T + f2 u u^T with u = (-vy, vx).
  return [f1 * vx * vx + f2 * vy * vy, (f1 - f2) * vx * vy, f1 * vy * vy + f2 * vx * vx];
}

/**
 * The M-step from the sums of emPass: new weights, means and (floored) covariances written
 * into params; empty components get weight 0 and keep their mean and covariance.
 * totalWeight: sum of point weights; points: number of points. Returns the live component count.
 */
export function mStep(acc: Float64Array, params: Float64Array, dim: 1 | 2, C: number, totalWeight: number, points: number, varianceFloor: number): number {
  const st = paramStride(dim);
  const empty = (EMPTY_POINTS * totalWeight) / Math.max(points, 1);
  let live = 0;
  for (let k = 0; k < C; k++) {
    const a = k * st;
    const S0 = acc[a];
    if (!(S0 >= empty) || params[a] === 0) {
      params[a] = 0;
      continue;
    }
    live++;
    params[a] = S0 / totalWeight;
    if (dim === 1) {
      const d = acc[a + 1] / S0;
      params[a + 1] += d;
      params[a + 2] = Math.max(acc[a + 2] / S0 - d * d, varianceFloor);
    } else {
      const dx = acc[a + 1] / S0;
      const dy = acc[a + 2] / S0;
      params[a + 1] += dx;
      params[a + 2] += dy;
      const [sxx, sxy, syy] = floorCovariance(acc[a + 3] / S0 - dx * dx, acc[a + 4] / S0 - dx * dy, acc[a + 5] / S0 - dy * dy, varianceFloor);
      params[a + 3] = sxx;
      params[a + 4] = sxy;
      params[a + 5] = syy;
    }
  }
  return live;
}

/** Runs up to `iterations` EM passes (stopping once the log-likelihood stops changing); returns the last log-likelihood. */
export function runEm(
  kernels: Kernels,
  buf: { points: number; pw: number; params: number; acc: number; scratch: number },
  count: number,
  totalWeight: number,
  dim: 1 | 2,
  C: number,
  params: Float64Array,
  iterations: number,
  varianceFloor: number,
): number {
  const st = paramStride(dim);
  let ll = -Infinity;
  for (let it = 0; it < iterations; it++) {
    kernels.write(buf.params, params);
    const next = kernels.raw.emPass(buf.points, buf.pw, count, dim, C, buf.params, buf.acc, buf.scratch);
    mStep(kernels.read(buf.acc, C * st), params, dim, C, totalWeight, count, varianceFloor);
    if (Math.abs(next - ll) <= 1e-12 * Math.abs(next)) {
      ll = next;
      break;
    }
    ll = next;
  }
  return ll;
}

/**
 * Deterministic k-means++ seeding over weighted atoms (coords atom-major, weights p): the
 * first centre is drawn proportionally to p, each next one proportionally to p D^2, with the
 * uniforms uniformAt(seed, INIT_STREAM, k). Every component starts with weight 1/C and the
 * overall weighted covariance divided by C (floored).
 */
export function seedMixture(kernels: Kernels, coords: Float64Array, p: Float64Array, dim: 1 | 2, C: number, seed: number, varianceFloor: number): Float64Array {
  const n = p.length;
  const st = paramStride(dim);
  const params = new Float64Array(C * st);
  const d2 = new Float64Array(n).fill(Infinity);
  const centres: number[] = [];
  const draw = (weights: (x: number) => number, k: number): number => {
    let total = 0;
    for (let x = 0; x < n; x++) total += weights(x);
    if (!(total > 0)) return centres.length > 0 ? centres[0] : 0;
    const t = kernels.raw.uniformAt(seed >>> 0, INIT_STREAM, k) * total;
    let acc = 0;
    let last = 0;
    for (let x = 0; x < n; x++) {
      const v = weights(x);
      if (v > 0) {
        last = x;
        acc += v;
        if (acc > t) return x;
      }
    }
    return last;
  };
  for (let k = 0; k < C; k++) {
    const c = k === 0 ? draw((x) => p[x], 0) : draw((x) => p[x] * d2[x], k);
    centres.push(c);
    for (let x = 0; x < n; x++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (coords[x * dim + d] - coords[c * dim + d]) ** 2;
      if (s < d2[x]) d2[x] = s;
    }
  }
  const mean = [0, 0];
  for (let x = 0; x < n; x++) for (let d = 0; d < dim; d++) mean[d] += p[x] * coords[x * dim + d];
  let sxx = 0, sxy = 0, syy = 0;
  for (let x = 0; x < n; x++) {
    const dx = coords[x * dim] - mean[0];
    const dy = dim === 2 ? coords[x * dim + 1] - mean[1] : 0;
    sxx += p[x] * dx * dx;
    sxy += p[x] * dx * dy;
    syy += p[x] * dy * dy;
  }
  for (let k = 0; k < C; k++) {
    const a = k * st;
    params[a] = 1 / C;
    for (let d = 0; d < dim; d++) params[a + 1 + d] = coords[centres[k] * dim + d];
    if (dim === 1) params[a + 2] = Math.max(sxx / C, varianceFloor);
    else {
      const [fa, fb, fc] = floorCovariance(sxx / C, sxy / C, syy / C, varianceFloor);
      params[a + 3] = fa;
      params[a + 4] = fb;
      params[a + 5] = fc;
    }
  }
  return params;
}

/** PRNG stream of the k-means++ seeding ("gmm\0"). */
export const INIT_STREAM = 0x676d6d00;

/** EM passes of the generation-0 fit of p_0 (weighted atoms). */
export const INIT_ITERATIONS = 500;

/**
 * The mixture in the sampling layout of sampleCandidatePoints: 1-D [w, mean, sd], 2-D
 * [w, mx, my, l11, l21, l22] (Cholesky factor), and cumulative weights with +Infinity from
 * the last live component on (so a weight-0 tail is never picked).
 */
export function samplingLayout(params: Float64Array, dim: 1 | 2, C: number): { model: Float64Array; compCum: Float64Array } {
  const st = paramStride(dim);
  const model = new Float64Array(params.length);
  const compCum = new Float64Array(C);
  let total = 0;
  let lastLive = 0;
  for (let k = 0; k < C; k++) {
    total += params[k * st];
    if (params[k * st] > 0) lastLive = k;
  }
  let acc = 0;
  for (let k = 0; k < C; k++) {
    const a = k * st;
    model[a] = params[a];
    acc += params[a];
    compCum[k] = k >= lastLive ? Infinity : acc / total;
    if (dim === 1) {
      model[a + 1] = params[a + 1];
      model[a + 2] = Math.sqrt(params[a + 2]);
    } else {
      model[a + 1] = params[a + 1];
      model[a + 2] = params[a + 2];
      const l11 = Math.sqrt(params[a + 3]);
      const l21 = params[a + 4] / l11;
      model[a + 3] = l11;
      model[a + 4] = l21;
      model[a + 5] = Math.sqrt(Math.max(params[a + 5] - l21 * l21, 0));
    }
  }
  return { model, compCum };
}
