// Reductions behind the metrics (docs/model.md, sections 4 and 7). Plain passes over pointers;
// the purely arithmetic ones go two atoms per v128, the ones with a log or a branch per atom
// stay scalar (the log dominates and is scalar anyway).

import { ZB, ZB_SHIFT, zeroBlockCount, live } from "./blocks";

// Every reduction over p takes p's zero-block flags (blocks.ts; 0 = dense) and skips dead
// blocks: their atoms would add exactly +0 (or are skipped by p > 0 anyway).

/**
 * Per group: out[3i] = E_p[r_i], out[3i+1] = Var_p[r_i] (shifted by the mean, second pass),
 * out[3i+2] = Z_i = E_p[w_i]. Atoms with p = 0 are skipped, so r = -Infinity there is harmless;
 * p is normalised by its own sum. The variance is taken of r - r(x0), x0 the first atom with
 * p > 0: the mean of r is off by a few ulps of |r|, which squared would swamp the variance (a
 * constant reward of 1e300 would give Infinity), while r - r(x0) is exactly 0 for a constant.
 */
export function groupStats(pPtr: usize, rPtr: usize, wPtr: usize, n: i32, m: i32, outPtr: usize, flags: usize): void {
  const nb = zeroBlockCount(n);
  let total: f64 = 0;
  for (let b = 0; b < nb; b++) {
    if (!live(flags, b)) continue;
    const x1 = min((b + 1) << ZB_SHIFT, n);
    for (let x = b << ZB_SHIFT; x < x1; x++) total += load<f64>(pPtr + (<usize>x << 3));
  }
  const inv = total > 0 ? 1 / total : 0;
  for (let i = 0; i < m; i++) {
    const row = <usize>i * <usize>n * 8;
    let ref: f64 = 0;
    for (let x = 0; x < n; x++) {
      if (load<f64>(pPtr + (<usize>x << 3)) > 0) {
        ref = load<f64>(rPtr + row + (<usize>x << 3));
        break;
      }
    }
    let mean: f64 = 0;
    let shifted: f64 = 0;
    let z: f64 = 0;
    for (let b = 0; b < nb; b++) {
      if (!live(flags, b)) continue;
      const x1 = min((b + 1) << ZB_SHIFT, n);
      for (let x = b << ZB_SHIFT; x < x1; x++) {
        const o = <usize>x << 3;
        const p = load<f64>(pPtr + o);
        if (p > 0) {
          const r = load<f64>(rPtr + row + o);
          mean += p * r;
          shifted += p * (r - ref);
          z += p * load<f64>(wPtr + row + o);
        }
      }
    }
    mean *= inv;
    shifted *= inv;
    let v: f64 = 0;
    for (let b = 0; b < nb; b++) {
      if (!live(flags, b)) continue;
      const x1 = min((b + 1) << ZB_SHIFT, n);
      for (let x = b << ZB_SHIFT; x < x1; x++) {
        const o = <usize>x << 3;
        const p = load<f64>(pPtr + o);
        if (p > 0) {
          const d = load<f64>(rPtr + row + o) - ref - shifted;
          v += p * d * d;
        }
      }
    }
    const out = outPtr + <usize>i * 24;
    store<f64>(out, mean);
    store<f64>(out, v * inv, 8);
    store<f64>(out, z * inv, 16);
  }
}

/** Returns max over x with mask[x] = 1 of sum_i c[i] w_i(x); -Infinity for an empty mask. */
export function maskedMultiplierMax(wPtr: usize, n: i32, m: i32, cPtr: usize, maskPtr: usize): f64 {
  let best = -Infinity;
  const rowBytes = <usize>n << 3;
  for (let x = 0; x < n; x++) {
    if (load<u8>(maskPtr + <usize>x) == 0) continue;
    const o = <usize>x << 3;
    let s: f64 = 0;
    for (let i = 0; i < m; i++) s += load<f64>(cPtr + (<usize>i << 3)) * load<f64>(wPtr + <usize>i * rowBytes + o);
    if (s > best) best = s;
  }
  return best;
}

/**
 * mask[x] = 1 where r[x] >= threshold, else 0, and outside[x] = 0 there: one basin
 * S_i = {x : r_i(x) >= max r_i - eps} of docs/model.md, section 5 (src/core/basins.ts has the same rule in TypeScript).
 */
export function markBasin(rPtr: usize, n: i32, threshold: f64, maskPtr: usize, outsidePtr: usize): void {
  for (let x = 0; x < n; x++) {
    const inside = load<f64>(rPtr + (<usize>x << 3)) >= threshold;
    store<u8>(maskPtr + <usize>x, inside ? 1 : 0);
    if (inside) store<u8>(outsidePtr + <usize>x, 0);
  }
}

/** Returns sum of p[x] over x with mask[x] = 1. */
export function maskedSum(pPtr: usize, maskPtr: usize, n: i32, flags: usize): f64 {
  let s: f64 = 0;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    if (!live(flags, b)) continue;
    const x1 = min((b + 1) << ZB_SHIFT, n);
    for (let x = b << ZB_SHIFT; x < x1; x++) {
      if (load<u8>(maskPtr + <usize>x) != 0) s += load<f64>(pPtr + (<usize>x << 3));
    }
  }
  return s;
}

/** Returns the entropy -sum p log p in nats (0 log 0 = 0). */
export function entropy(pPtr: usize, n: i32, flags: usize): f64 {
  let h: f64 = 0;
  // log is pure: an atom with the same p as the last one reuses its log (a uniform p takes one).
  let last: f64 = NaN;
  let logLast: f64 = NaN;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    if (!live(flags, b)) continue;
    const x1 = min((b + 1) << ZB_SHIFT, n);
    for (let x = b << ZB_SHIFT; x < x1; x++) {
      const p = load<f64>(pPtr + (<usize>x << 3));
      if (p > 0) {
        if (p != last) {
          last = p;
          logLast = Math.log(p);
        }
        h -= p * logLast;
      }
    }
  }
  return h;
}

/** Returns KL(p || q) = sum p log(p / q); +Infinity when p > 0 where q = 0, never NaN. */
export function klDivergence(pPtr: usize, qPtr: usize, n: i32, flags: usize): f64 {
  let d: f64 = 0;
  // As in entropy: a repeated p / q (p = q at generation 0) reuses its log.
  let last: f64 = NaN;
  let logLast: f64 = NaN;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    if (!live(flags, b)) continue;
    const x1 = min((b + 1) << ZB_SHIFT, n);
    for (let x = b << ZB_SHIFT; x < x1; x++) {
      const o = <usize>x << 3;
      const p = load<f64>(pPtr + o);
      if (p > 0) {
        const q = load<f64>(qPtr + o);
        if (!(q > 0)) return Infinity;
        const ratio = p / q;
        if (ratio != last) {
          last = ratio;
          logLast = Math.log(ratio);
        }
        d += p * logLast;
      }
    }
  }
  return d;
}

/** Returns sum |a - b| (twice the total variation); a block is skipped when both a's and b's flags say dead. */
export function l1Distance(aPtr: usize, bPtr: usize, n: i32, flagsA: usize, flagsB: usize): f64 {
  let acc = f64x2.splat(0);
  const even = n & ~1;
  const both = flagsA != 0 && flagsB != 0;
  for (let x0 = 0; x0 < even; x0 += ZB) {
    const b = x0 >> ZB_SHIFT;
    if (both && !live(flagsA, b) && !live(flagsB, b)) continue;
    const x1 = min(x0 + ZB, even);
    for (let x = x0; x < x1; x += 2) {
      const o = <usize>x << 3;
      acc = f64x2.add(acc, f64x2.abs(f64x2.sub(v128.load(aPtr + o), v128.load(bPtr + o))));
    }
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (even < n) {
    const o = <usize>even << 3;
    s += Math.abs(load<f64>(aPtr + o) - load<f64>(bPtr + o));
  }
  return s;
}

/** Returns the 1-D Wasserstein-1 distance sum_x |CDF_p(x) - CDF_q(x)| * width. */
export function w1Grid(pPtr: usize, qPtr: usize, n: i32, width: f64): f64 {
  let diff: f64 = 0;
  let s: f64 = 0;
  for (let x = 0; x < n; x++) {
    const o = <usize>x << 3;
    diff += load<f64>(pPtr + o) - load<f64>(qPtr + o);
    s += Math.abs(diff);
  }
  return s * width;
}

/** Returns the number of atoms with p[x] > 0. */
export function countPositive(pPtr: usize, n: i32, flags: usize): i32 {
  let c = 0;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    if (!live(flags, b)) continue;
    const x1 = min((b + 1) << ZB_SHIFT, n);
    for (let x = b << ZB_SHIFT; x < x1; x++) if (load<f64>(pPtr + (<usize>x << 3)) > 0) c++;
  }
  return c;
}
