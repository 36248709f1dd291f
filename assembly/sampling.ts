// Sampling kernels of finite-sample retraining (docs/model.md, sections 2 and 6): Walker/Vose alias
// tables, bulk alias sampling with histogram counting, and the curation choice among K
// candidates by cumulative weights (exact Luce choice). Every draw comes from the Philox
// counter of ./prng, keyed by (seed, stream = generation) and indexed by the sample number s,
// so the result is the same whatever the order, chunking or thread of the work.
//
// Counter layout (c0, c1, c2 = tag, c3):
//   curated sample s:  group and selection uniforms  (0, s, TAG_GROUP, 0): group (r0, r1), select (r2, r3)
//                      atom candidates 2b, 2b+1      (b, s, TAG_CANDIDATE, 0)
//                      point candidate k, attempt a  (k, s, TAG_POINT, 2a) and (k, s, TAG_POINT, 2a + 1)
//   real sample s:     (s >> 1, 0, TAG_REAL, 0), half s & 1 (atoms) or (s, 0, TAG_REAL, 0) (points)
// A uniform for the alias step has 53 bits: u n = j + f, atom j kept when f < prob[j]. The
// coin f keeps 53 - log2(n) bits (>= 32 up to 2^21 atoms); the bias is below 2^-32.

import { philox, r0, r1, r2, r3, toUnit53, INV_2_32, TAG_GROUP, TAG_CANDIDATE, TAG_REAL, TAG_POINT } from "./prng";

/**
 * Builds a Vose alias table over the atoms with weight > 0 (weights need not sum to 1) and
 * returns the number of such atoms nPos. Table layout: prob (f64 x nPos), atom (i32 x nPos:
 * the atom of slot j), alias (i32 x nPos: the atom taken when the coin fails). Atoms of weight
 * 0 are never drawn. scratch: 2n i32. Returns 0 when no weight is positive.
 */
export function aliasBuild(weights: usize, n: i32, prob: usize, atom: usize, alias: usize, scratch: usize): i32 {
  let total: f64 = 0;
  let nPos = 0;
  for (let x = 0; x < n; x++) {
    const v = load<f64>(weights + (<usize>x << 3));
    if (v > 0) {
      total += v;
      store<i32>(atom + (<usize>nPos << 2), x);
      nPos++;
    }
  }
  if (nPos == 0) return 0;
  const scale = <f64>nPos / total;
  const small = scratch;
  const large = scratch + (<usize>n << 2);
  let ns = 0;
  let nl = 0;
  for (let j = 0; j < nPos; j++) {
    const x = load<i32>(atom + (<usize>j << 2));
    const v = load<f64>(weights + (<usize>x << 3)) * scale;
    store<f64>(prob + (<usize>j << 3), v);
    store<i32>(alias + (<usize>j << 2), x);
    if (v < 1) {
      store<i32>(small + (<usize>ns << 2), j);
      ns++;
    } else {
      store<i32>(large + (<usize>nl << 2), j);
      nl++;
    }
  }
  while (ns > 0 && nl > 0) {
    ns--;
    const s = load<i32>(small + (<usize>ns << 2));
    const l = load<i32>(large + (<usize>(nl - 1) << 2));
    store<i32>(alias + (<usize>s << 2), load<i32>(atom + (<usize>l << 2)));
    const pl = load<f64>(prob + (<usize>l << 3)) + load<f64>(prob + (<usize>s << 3)) - 1;
    store<f64>(prob + (<usize>l << 3), pl);
    if (pl < 1) {
      nl--;
      store<i32>(small + (<usize>ns << 2), l);
      ns++;
    }
  }
  // Leftovers differ from 1 only by rounding: each keeps its own (positive-weight) atom.
  while (nl > 0) {
    nl--;
    store<f64>(prob + (<usize>load<i32>(large + (<usize>nl << 2)) << 3), 1.0);
  }
  while (ns > 0) {
    ns--;
    store<f64>(prob + (<usize>load<i32>(small + (<usize>ns << 2)) << 3), 1.0);
  }
  return nPos;
}

/** One alias draw from a 53-bit uniform u: the atom index. */
// @ts-ignore: decorator
@inline
function aliasDraw(u: f64, nPos: i32, prob: usize, atom: usize, alias: usize): i32 {
  const t = u * <f64>nPos;
  const j = <i32>t;
  const f = t - <f64>j;
  return f < load<f64>(prob + (<usize>j << 3)) ? load<i32>(atom + (<usize>j << 2)) : load<i32>(alias + (<usize>j << 2));
}

/** The group of a curated sample from a uniform u and cumulative weights qCum (m f64, last = 1). */
// @ts-ignore: decorator
@inline
function groupOf(u: f64, qCum: usize, m: i32): i32 {
  let i = 0;
  while (i < m - 1 && u >= load<f64>(qCum + (<usize>i << 3))) i++;
  return i;
}

/**
 * Index k of the kept candidate given cumulative weights cum[0..K) and a uniform u: the first
 * k with cum[k] > u * cum[K-1] (binary search). When every weight is 0 the Luce rule is
 * undefined; the candidate floor(u K) is kept (uniform choice), documented in retrain.ts.
 */
// @ts-ignore: decorator
@inline
function pickCumulative(cum: usize, K: i32, u: f64): i32 {
  const W = load<f64>(cum + (<usize>(K - 1) << 3));
  if (!(W > 0)) return min(<i32>(u * <f64>K), K - 1);
  const t = u * W;
  let lo = 0;
  let hi = K - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<f64>(cum + (<usize>mid << 3)) > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Curated samples s in [start, start + count) over atoms (docs/model.md, section 2): group (fixed
 * group g >= 0, or drawn from qCum when g < 0), K candidates from the alias table of the
 * current model, one kept with probability w_g(x_k) / sum_j w_g(x_j), w group-major (m x n).
 * Adds 1 to counts[kept] (f64) and, when kept != 0, writes the kept atom of s to kept[s - start]
 * (i32). scratch: K i32 + K f64 (8-byte aligned). Returns the number of candidate draws.
 */
export function curateAtoms(
  seed: u32, stream: u32, start: i32, count: i32,
  nPos: i32, prob: usize, atom: usize, alias: usize,
  w: usize, n: i32, qCum: usize, m: i32, g: i32, K: i32,
  scratch: usize, counts: usize, kept: usize,
): f64 {
  const cum = scratch;
  const cand = scratch + (<usize>K << 3);
  for (let s = start; s < start + count; s++) {
    philox(0, s, TAG_GROUP, 0, seed, stream);
    const uSel = toUnit53(r2, r3);
    const grp = g >= 0 ? g : groupOf(toUnit53(r0, r1), qCum, m);
    const wg = w + ((<usize>grp * <usize>n) << 3);
    let W: f64 = 0;
    for (let b = 0; b < K; b += 2) {
      philox(b >> 1, s, TAG_CANDIDATE, 0, seed, stream);
      const x0 = aliasDraw(toUnit53(r0, r1), nPos, prob, atom, alias);
      W += load<f64>(wg + (<usize>x0 << 3));
      store<f64>(cum + (<usize>b << 3), W);
      store<i32>(cand + (<usize>b << 2), x0);
      if (b + 1 < K) {
        const x1 = aliasDraw(toUnit53(r2, r3), nPos, prob, atom, alias);
        W += load<f64>(wg + (<usize>x1 << 3));
        store<f64>(cum + (<usize>(b + 1) << 3), W);
        store<i32>(cand + (<usize>(b + 1) << 2), x1);
      }
    }
    const x = load<i32>(cand + (<usize>pickCumulative(cum, K, uSel) << 2));
    const c = counts + (<usize>x << 3);
    store<f64>(c, load<f64>(c) + 1);
    if (kept != 0) store<i32>(kept + (<usize>(s - start) << 2), x);
  }
  return <f64>count * <f64>K;
}

/**
 * K = infinity curated samples over atoms: the kept sample is drawn exactly from the tilted
 * model p w_g / Z_g, one alias table per group (tables laid out group after group: prob at
 * prob + g n 8, atom and alias at + g n 4; nPos[g] i32). Adds to counts; kept as curateAtoms.
 */
export function curateAtomsTilted(
  seed: u32, stream: u32, start: i32, count: i32,
  nPos: usize, prob: usize, atom: usize, alias: usize,
  n: i32, qCum: usize, m: i32, g: i32, counts: usize, kept: usize,
): void {
  for (let s = start; s < start + count; s++) {
    philox(0, s, TAG_GROUP, 0, seed, stream);
    const grp = g >= 0 ? g : groupOf(toUnit53(r0, r1), qCum, m);
    const off = <usize>grp * <usize>n;
    const x = aliasDraw(toUnit53(r2, r3), load<i32>(nPos + (<usize>grp << 2)), prob + (off << 3), atom + (off << 2), alias + (off << 2));
    const c = counts + (<usize>x << 3);
    store<f64>(c, load<f64>(c) + 1);
    if (kept != 0) store<i32>(kept + (<usize>(s - start) << 2), x);
  }
}

/**
 * Samples s in [start, start + count) i.i.d. from an alias table (uniform index s of
 * (seed, stream, tag): block (s >> 1, 0, tag, 0), half s & 1) and adds 1 to counts[atom].
 */
export function sampleAtomCounts(
  seed: u32, stream: u32, tag: u32, start: i32, count: i32,
  nPos: i32, prob: usize, atom: usize, alias: usize, counts: usize,
): void {
  for (let s = start; s < start + count; s++) {
    philox(<u32>s >> 1, 0, tag, 0, seed, stream);
    const u = (s & 1) == 0 ? toUnit53(r0, r1) : toUnit53(r2, r3);
    const c = counts + (<usize>aliasDraw(u, nPos, prob, atom, alias) << 3);
    store<f64>(c, load<f64>(c) + 1);
  }
}

/** Real-data tag for sampleAtomCounts (so the engine and tests need not know tag numbers). */
export function tagReal(): u32 {
  return TAG_REAL;
}

/** Histogram refit (docs/model.md, section 6): p(x) = (counts(x) + alpha) / (N + n alpha). */
export function histogramRefit(counts: usize, n: i32, N: f64, alpha: f64, out: usize): void {
  const inv = 1.0 / (N + <f64>n * alpha);
  for (let x = 0; x < n; x++) {
    const o = <usize>x << 3;
    store<f64>(out + o, (load<f64>(counts + o) + alpha) * inv);
  }
}

/** Zeroes len f64 at ptr. */
export function zeroF64(ptr: usize, len: i32): void {
  memory.fill(ptr, 0, <usize>len << 3);
}

/** Groups of curated samples s < count (fixed g >= 0 or drawn from qCum) into groupOut (i32). */
export function assignGroups(seed: u32, stream: u32, count: i32, qCum: usize, m: i32, g: i32, groupOut: usize): void {
  for (let s = 0; s < count; s++) {
    let grp = g;
    if (g < 0) {
      philox(0, s, TAG_GROUP, 0, seed, stream);
      grp = groupOf(toUnit53(r0, r1), qCum, m);
    }
    store<i32>(groupOut + (<usize>s << 2), grp);
  }
}

/**
 * Point samples s in [start, start + count) from a discrete model over grid cells, spread
 * uniformly inside the chosen cell: block (s, 0, tag, 0), alias uniform (r0, r1), offsets
 * from r2 (x) and r3 (y), 32 bits each. coords: atom-major (n x dim); half: cell half-widths
 * (dim f64, 0 keeps the atom centre). Writes out[(s - start) dim + d].
 */
export function sampleCellPoints(
  seed: u32, stream: u32, tag: u32, c0Base: u32, start: i32, count: i32,
  nPos: i32, prob: usize, atom: usize, alias: usize,
  coords: usize, dim: i32, half: usize, out: usize,
): void {
  for (let s = start; s < start + count; s++) {
    philox(c0Base, s, tag, 0, seed, stream);
    const x = aliasDraw(toUnit53(r0, r1), nPos, prob, atom, alias);
    const o = out + ((<usize>(s - start) * <usize>dim) << 3);
    const a = coords + ((<usize>x * <usize>dim) << 3);
    const h0 = load<f64>(half);
    store<f64>(o, load<f64>(a) + h0 * (2.0 * (<f64>r2 * INV_2_32) - 1.0));
    if (dim == 2) {
      const h1 = load<f64>(half, 8);
      store<f64>(o, load<f64>(a, 8) + h1 * (2.0 * (<f64>r3 * INV_2_32) - 1.0), 8);
    }
  }
}

/**
 * K candidate points for each curated sample order[rank], rank in [rankStart, rankStart +
 * rankCount), written to out[((rank - rankStart) K + k) dim + d]. kind 0: a Gaussian mixture
 * (model: C blocks of [weight, mean (dim), Cholesky factor: sd (1-D) or l11, l21, l22 (2-D)]
 * and comp cumulative weights compCum (C f64)); kind 1: a Gaussian KDE (model: N points,
 * point-major, bandwidth h). Points outside the box [lo_d, hi_d] (box: lo0, hi0, lo1, hi1)
 * are redrawn with the next attempt counter; after maxAttempts the last draw is clamped into
 * the box (documented in retrain.ts).
 */
export function sampleCandidatePoints(
  seed: u32, stream: u32, order: usize, rankStart: i32, rankCount: i32, K: i32, dim: i32,
  kind: i32, model: usize, C: i32, compCum: usize, h: f64,
  box: usize, maxAttempts: i32, out: usize,
): void {
  const lo0 = load<f64>(box), hi0 = load<f64>(box, 8);
  const lo1 = dim == 2 ? load<f64>(box, 16) : 0.0, hi1 = dim == 2 ? load<f64>(box, 24) : 0.0;
  const stride = kind == 0 ? 1 + dim + (dim == 1 ? 1 : 3) : dim;
  for (let rank = rankStart; rank < rankStart + rankCount; rank++) {
    const s = load<i32>(order + (<usize>rank << 2));
    for (let k = 0; k < K; k++) {
      let x: f64 = 0, y: f64 = 0;
      for (let a = 0; a < maxAttempts; a++) {
        philox(k, s, TAG_POINT, a << 1, seed, stream);
        const uPick = toUnit53(r0, r1);
        const theta = toUnit53(r2, r3) * 6.283185307179586;
        philox(k, s, TAG_POINT, (a << 1) | 1, seed, stream);
        // Box-Muller on (0, 1]: 1 - u never reaches 0.
        const rad = Math.sqrt(-2.0 * Math.log(1.0 - toUnit53(r0, r1)));
        const z1 = rad * Math.cos(theta);
        const z2 = rad * Math.sin(theta);
        let base: usize;
        if (kind == 0) {
          let c = 0;
          while (c < C - 1 && uPick >= load<f64>(compCum + (<usize>c << 3))) c++;
          base = model + ((<usize>c * <usize>stride) << 3);
          if (dim == 1) {
            x = load<f64>(base, 8) + load<f64>(base, 16) * z1;
          } else {
            x = load<f64>(base, 8) + load<f64>(base, 24) * z1;
            y = load<f64>(base, 16) + load<f64>(base, 32) * z1 + load<f64>(base, 40) * z2;
          }
        } else {
          const i = min(<i32>(uPick * <f64>C), C - 1);
          base = model + ((<usize>i * <usize>dim) << 3);
          x = load<f64>(base) + h * z1;
          if (dim == 2) y = load<f64>(base, 8) + h * z2;
        }
        if (x >= lo0 && x <= hi0 && (dim == 1 || (y >= lo1 && y <= hi1))) break;
        if (a == maxAttempts - 1) {
          x = min(max(x, lo0), hi0);
          if (dim == 2) y = min(max(y, lo1), hi1);
        }
      }
      const o = out + ((((<usize>(rank - rankStart) * <usize>K) + <usize>k) * <usize>dim) << 3);
      store<f64>(o, x);
      if (dim == 2) store<f64>(o, y, 8);
    }
  }
}

/**
 * Keeps one of the K candidate points of each curated sample order[rank] (rank in [rankStart,
 * rankStart + rankCount)) with probability w_k / sum_j w_j, w_k = exp((r_k - max_j r_j) / tau),
 * rewards[(rank - rankStart) K + k]; copies the kept point to kept[rank dim + d].
 * scratch: K f64.
 */
export function selectPoints(
  seed: u32, stream: u32, order: usize, rankStart: i32, rankCount: i32, K: i32, dim: i32,
  cands: usize, rewards: usize, tau: f64, scratch: usize, kept: usize,
): void {
  const invTau = 1.0 / tau;
  for (let rank = rankStart; rank < rankStart + rankCount; rank++) {
    const s = load<i32>(order + (<usize>rank << 2));
    philox(0, s, TAG_GROUP, 0, seed, stream);
    const uSel = toUnit53(r2, r3);
    const rb = rewards + ((<usize>(rank - rankStart) * <usize>K) << 3);
    let hi = -Infinity;
    for (let k = 0; k < K; k++) hi = max(hi, load<f64>(rb + (<usize>k << 3)));
    let W: f64 = 0;
    for (let k = 0; k < K; k++) {
      W += Math.exp((load<f64>(rb + (<usize>k << 3)) - hi) * invTau);
      store<f64>(scratch + (<usize>k << 3), W);
    }
    const k = pickCumulative(scratch, K, uSel);
    const src = cands + ((((<usize>(rank - rankStart) * <usize>K) + <usize>k) * <usize>dim) << 3);
    const dst = kept + ((<usize>rank * <usize>dim) << 3);
    store<f64>(dst, load<f64>(src));
    if (dim == 2) store<f64>(dst, load<f64>(src, 8), 8);
  }
}

/**
 * K candidate points per curated sample order[rank] from a discrete model over cells, spread
 * uniformly inside the cell (the model of generation 0 for kde: p_0 as a piecewise-constant
 * density): block (k, s, TAG_POINT, 0), alias uniform (r0, r1), offsets from r2, r3.
 */
export function sampleCandidateCells(
  seed: u32, stream: u32, order: usize, rankStart: i32, rankCount: i32, K: i32,
  nPos: i32, prob: usize, atom: usize, alias: usize,
  coords: usize, dim: i32, half: usize, out: usize,
): void {
  const h0 = load<f64>(half);
  const h1 = dim == 2 ? load<f64>(half, 8) : 0.0;
  for (let rank = rankStart; rank < rankStart + rankCount; rank++) {
    const s = load<i32>(order + (<usize>rank << 2));
    for (let k = 0; k < K; k++) {
      philox(k, s, TAG_POINT, 0, seed, stream);
      const x = aliasDraw(toUnit53(r0, r1), nPos, prob, atom, alias);
      const a = coords + ((<usize>x * <usize>dim) << 3);
      const o = out + ((((<usize>(rank - rankStart) * <usize>K) + <usize>k) * <usize>dim) << 3);
      store<f64>(o, load<f64>(a) + h0 * (2.0 * (<f64>r2 * INV_2_32) - 1.0));
      if (dim == 2) store<f64>(o, load<f64>(a, 8) + h1 * (2.0 * (<f64>r3 * INV_2_32) - 1.0), 8);
    }
  }
}
