// The bench's "before" for exact finite K: the chunked trapezoid that the kernel in
// assembly/finitek.ts replaced, kept unchanged as a separate module (built by `npm run
// build:wasm` into src/bench/baselines/finitek-chunked.wasm) so the bench can run old
// and new steps on the same input in one process and report their ratio and their agreement.
// It is never part of the engine.
//
// Memory: one exported linear memory; the bench places its arrays from dataStart() on and grows
// the memory itself.

/** The first byte past the module's own data: where the caller may place its arrays. */
export function dataStart(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

// The exact finite-K curated update (docs/model.md, section 3):
//   out[x] = lambda pData[x] + (1 - lambda) p[x] sum_i q_i H_i(x; p),
//   H_i(x; p) = K w_i(x) integral_0^inf exp(-u w_i(x)) phi_i(u)^(K-1) du,
//   phi_i(u)  = sum_y p(y) exp(-u w_i(y)).
// Quadrature: the trapezoid rule in s = log u on nodes u_j = u_0 2^(j/3) (h = ln 2 / 3). The
// integrand is analytic in the strip |Im s| < pi/2, so the error is about exp(-pi^2 / h) ~ 3e-19.
// Then H_i(x) = K w(x) sum_j g_j exp(-u_j w(x)) with g_j = h u_j phi_j^(K-1).
//
// Cost savers, all exact up to rounding:
// - u_{j+3} = 2 u_j exactly, so exp(-u_{j+3} w) = exp(-u_j w)^2: per chunk of CH = 3 * TRI
//   nodes only the first 3 nodes take an exp, the next 3 * (TRI - 1) are squarings. TRI - 1
//   squarings grow the relative error to about 2^(TRI-1) ulp (8 squarings: ~3e-14).
// - Where u_j w(x) < LEFT, exp(-u_j w(x)) = 1 to 1.4e-17: whole chunks left of an atom's active
//   range contribute p(x) to phi (pass 1) or the prefix sum of g (pass 2) without any exp.
// - Where u_j w(x) > RIGHT, exp(-u_j w(x)) < 1e-307: the atom's loop stops.
// - phi_j near 1 is where K - 1 powers amplify rounding: pass 1 also carries d = 1 - e
//   (d <- d (2 - d) along the squaring chain) and uses psi_j = sum p d = P - phi_j there, so
//   the relative error of phi^(K-1) stays ~ulp-sized instead of K ulp. H is computed for p / P
//   (P = sum p), so a p that sums to 1 + 1e-15 does not show up as a K-fold mass defect.
// - The left end u_0 = LEFT / (K wMax) (wMax over the support of p) loses a relative 2^-56 of
//   every H(x) on the support (integral >= 1 / (K wMax) there); the node sequence stops once
//   phi_j^K < 2^-1000 (remaining mass) or every support atom has underflowed.

const TRI: i32 = 9; // triples of nodes per chunk: 1 exact + 8 squared
const CH: i32 = 3 * TRI; // nodes per chunk
const MAX_CHUNKS: i32 = 151; // 4077 nodes at most
const MAX_NODES: i32 = CH * MAX_CHUNKS;
const LEFT: f64 = 1.3877787807814457e-17; // 2^-56
const RIGHT: f64 = 708;
const H_STEP: f64 = 0.23104906018664842; // ln(2) / 3
const CBRT2: f64 = 1.2599210498948732; // 2^(1/3)
const CBRT4: f64 = 1.5874010519681994; // 2^(2/3)
const TINY_MASS: f64 = 9.332636185032189e-302; // 2^-1000

// Scratch layout (byte offsets from scratchPtr): u[MAX_NODES], g[MAX_NODES],
// G[MAX_CHUNKS + 1] (prefix sums of g by chunk), phi2[CH] and psi2[CH] as v128 (two lanes
// per node: sum p e and sum p (1 - e)).
const OFF_U: usize = 0;
const OFF_G: usize = OFF_U + (<usize>MAX_NODES << 3);
const OFF_PREFIX: usize = OFF_G + (<usize>MAX_NODES << 3);
const OFF_PHI2: usize = (OFF_PREFIX + ((<usize>MAX_CHUNKS + 2) << 3) + 15) & ~15;
const OFF_PSI2: usize = OFF_PHI2 + (<usize>CH << 4);
const SCRATCH_BYTES: usize = OFF_PSI2 + (<usize>CH << 4);

/** Returns the scratch bytes finiteKStep needs (independent of n and m: node arrays only). */
export function finiteKScratchBytes(n: i32, m: i32): usize {
  return SCRATCH_BYTES + 16;
}

@inline
function expPair(u: f64, wa: f64, wb: f64): v128 {
  return f64x2(Math.exp(-(u * wa)), Math.exp(-(u * wb)));
}

/** Returns exp(-a) (small a: 1 - d with d from expm1, accurate in d; see dOf). */
@inline
function eOf(a: f64): f64 {
  return a < 0.6931471805599453 ? 1 + Math.expm1(-a) : Math.exp(-a);
}

/** Returns 1 - exp(-a), accurate for small a. */
@inline
function dOf(a: f64): f64 {
  return a < 0.6931471805599453 ? -Math.expm1(-a) : 1 - Math.exp(-a);
}

/**
 * Adds p(y) e_j(y) to phi2 and p(y) (1 - e_j(y)) to psi2 for a pair of atoms over one chunk,
 * e_j(y) = exp(-u_j w(y)). Both chains square: e <- e^2, d <- d (2 - d).
 */
@inline
function phiPair(pa: f64, pb: f64, wa: f64, wb: f64, uPtr: usize, j0: i32, phi2: usize, psi2: usize): void {
  const uj = uPtr + (<usize>j0 << 3);
  const u0 = load<f64>(uj);
  const u1 = load<f64>(uj, 8);
  const u2 = load<f64>(uj, 16);
  const a0a = u0 * wa, a0b = u0 * wb, a1a = u1 * wa, a1b = u1 * wb, a2a = u2 * wa, a2b = u2 * wb;
  let e0 = f64x2(eOf(a0a), eOf(a0b));
  let e1 = f64x2(eOf(a1a), eOf(a1b));
  let e2 = f64x2(eOf(a2a), eOf(a2b));
  let d0 = f64x2(dOf(a0a), dOf(a0b));
  let d1 = f64x2(dOf(a1a), dOf(a1b));
  let d2 = f64x2(dOf(a2a), dOf(a2b));
  const vp = f64x2(pa, pb);
  const two = f64x2.splat(2);
  let a = phi2;
  let b = psi2;
  for (let t = 0; t < TRI; t++) {
    v128.store(a, f64x2.add(v128.load(a), f64x2.mul(vp, e0)));
    v128.store(a, f64x2.add(v128.load(a, 16), f64x2.mul(vp, e1)), 16);
    v128.store(a, f64x2.add(v128.load(a, 32), f64x2.mul(vp, e2)), 32);
    v128.store(b, f64x2.add(v128.load(b), f64x2.mul(vp, d0)));
    v128.store(b, f64x2.add(v128.load(b, 16), f64x2.mul(vp, d1)), 16);
    v128.store(b, f64x2.add(v128.load(b, 32), f64x2.mul(vp, d2)), 32);
    e0 = f64x2.mul(e0, e0);
    e1 = f64x2.mul(e1, e1);
    e2 = f64x2.mul(e2, e2);
    d0 = f64x2.mul(d0, f64x2.sub(two, d0));
    d1 = f64x2.mul(d1, f64x2.sub(two, d1));
    d2 = f64x2.mul(d2, f64x2.sub(two, d2));
    a += 48;
    b += 48;
  }
}

/** Returns (sum_j g_j exp(-u_j w_a), same for w_b) over chunks [c0, nChunks). */
@inline
function hPair(wa: f64, wb: f64, wmn: f64, uPtr: usize, gPtr: usize, c0: i32, nChunks: i32, start: f64): v128 {
  let acc = f64x2.splat(start);
  for (let c = c0; c < nChunks; c++) {
    const j0 = c * CH;
    const uj = uPtr + (<usize>j0 << 3);
    if (load<f64>(uj) * wmn > RIGHT) break;
    let e0 = expPair(load<f64>(uj), wa, wb);
    let e1 = expPair(load<f64>(uj, 8), wa, wb);
    let e2 = expPair(load<f64>(uj, 16), wa, wb);
    let g = gPtr + (<usize>j0 << 3);
    for (let t = 0; t < TRI; t++) {
      acc = f64x2.add(acc, f64x2.mul(f64x2.splat(load<f64>(g)), e0));
      acc = f64x2.add(acc, f64x2.mul(f64x2.splat(load<f64>(g, 8)), e1));
      acc = f64x2.add(acc, f64x2.mul(f64x2.splat(load<f64>(g, 16)), e2));
      e0 = f64x2.mul(e0, e0);
      e1 = f64x2.mul(e1, e1);
      e2 = f64x2.mul(e2, e2);
      g += 24;
    }
  }
  return acc;
}

/**
 * One exact finite-K step (docs/model.md, section 3); returns sum_x out[x] BEFORE renormalisation,
 * whose distance from 1 is the quadrature's mass defect. Groups with q_i = 0 are skipped;
 * lambda = 0 never reads pData. scratchPtr must hold finiteKScratchBytes(n, m) bytes.
 */
export function finiteKStep(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, m: i32,
  qPtr: usize, K: i32, lambda: f64, pDataPtr: usize, scratchPtr: usize,
): f64 {
  const base = (scratchPtr + 15) & ~(<usize>15);
  const uPtr = base + OFF_U;
  const gPtr = base + OFF_G;
  const prefix = base + OFF_PREFIX;
  const phi2 = base + OFF_PHI2;
  const psi2 = base + OFF_PSI2;
  const even = n & ~1;
  let total: f64 = 0;
  for (let x = 0; x < n; x++) {
    store<f64>(outPtr + (<usize>x << 3), 0);
    total += load<f64>(pPtr + (<usize>x << 3));
  }
  if (!(total > 0)) total = 1;
  const invTotal = 1 / total;

  for (let i = 0; i < m; i++) {
    const qi = load<f64>(qPtr + (<usize>i << 3));
    if (!(qi > 0)) continue;
    const row = wPtr + <usize>i * <usize>n * 8;
    if (K <= 1) {
      // H = 1: a single candidate is always kept.
      for (let x = 0; x < n; x++) {
        const o = outPtr + (<usize>x << 3);
        store<f64>(o, load<f64>(o) + qi);
      }
      continue;
    }

    // Weights on the support of p set the node range.
    let wMax: f64 = 0;
    let wMinPos = Infinity;
    for (let x = 0; x < n; x++) {
      if (load<f64>(pPtr + (<usize>x << 3)) > 0) {
        const w = load<f64>(row + (<usize>x << 3));
        if (w > wMax) wMax = w;
        if (w > 0 && w < wMinPos) wMinPos = w;
      }
    }
    if (!(wMax > 0)) continue;
    const u0 = LEFT / (<f64>K * wMax);
    store<f64>(uPtr, u0);
    store<f64>(uPtr, u0 * CBRT2, 8);
    store<f64>(uPtr, u0 * CBRT4, 16);
    const km1 = <f64>(K - 1);

    // Pass 1: phi_j chunk by chunk, then g_j and the stopping test.
    let nChunks = 0;
    store<f64>(prefix, 0);
    for (let c = 0; c < MAX_CHUNKS; c++) {
      const j0 = c * CH;
      for (let j = max(j0, 3); j < j0 + CH; j++) {
        store<f64>(uPtr + (<usize>j << 3), 2 * load<f64>(uPtr + (<usize>(j - 3) << 3)));
      }
      const uStart = load<f64>(uPtr + (<usize>j0 << 3));
      const uEnd = load<f64>(uPtr + (<usize>(j0 + CH - 1) << 3));
      if (!(uEnd < Infinity)) break;
      for (let k = 0; k < CH; k++) {
        v128.store(phi2 + (<usize>k << 4), f64x2.splat(0));
        v128.store(psi2 + (<usize>k << 4), f64x2.splat(0));
      }
      // Atoms left of their active range: e = 1 - u w to O((u w)^2) < 2^-112.
      let leftMass: f64 = 0;
      let leftW: f64 = 0;
      // Atoms right of it: e = 0, d = 1.
      let rightMass: f64 = 0;
      for (let x = 0; x < even; x += 2) {
        const o = <usize>x << 3;
        const pa = load<f64>(pPtr + o);
        const pb = load<f64>(pPtr + o, 8);
        if (pa == 0 && pb == 0) continue;
        const wa = load<f64>(row + o);
        const wb = load<f64>(row + o, 8);
        if (uEnd * max(wa, wb) < LEFT) {
          leftMass += pa + pb;
          leftW += pa * wa + pb * wb;
          continue;
        }
        if (uStart * min(wa, wb) > RIGHT) {
          rightMass += pa + pb;
          continue;
        }
        phiPair(pa, pb, wa, wb, uPtr, j0, phi2, psi2);
      }
      if (even < n) {
        const o = <usize>even << 3;
        const pa = load<f64>(pPtr + o);
        const wa = load<f64>(row + o);
        if (pa != 0) {
          if (uEnd * wa < LEFT) {
            leftMass += pa;
            leftW += pa * wa;
          } else if (uStart * wa > RIGHT) rightMass += pa;
          else phiPair(pa, 0, wa, wa, uPtr, j0, phi2, psi2);
        }
      }
      let gSum: f64 = 0;
      let phiLast: f64 = 0;
      for (let k = 0; k < CH; k++) {
        const j = j0 + k;
        const u = load<f64>(uPtr + (<usize>j << 3));
        const v = v128.load(psi2 + (<usize>k << 4));
        // psi / P = 1 - phi / P, accurate where phi is near P
        const psi = (f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1) + u * leftW + rightMass) * invTotal;
        let phi: f64;
        let pw: f64;
        if (psi <= 0.5) {
          phi = 1 - psi;
          pw = Math.exp(km1 * Math.log1p(-psi));
        } else {
          const e = v128.load(phi2 + (<usize>k << 4));
          phi = (f64x2.extract_lane(e, 0) + f64x2.extract_lane(e, 1) + leftMass) * invTotal;
          pw = Math.pow(phi, km1);
        }
        const g = H_STEP * u * pw;
        store<f64>(gPtr + (<usize>j << 3), g);
        gSum += g;
        phiLast = phi;
      }
      store<f64>(prefix + (<usize>(c + 1) << 3), load<f64>(prefix + (<usize>c << 3)) + gSum);
      nChunks = c + 1;
      if (Math.pow(phiLast, km1) * phiLast < TINY_MASS || uEnd * wMinPos > RIGHT) break;
    }

    // Pass 2: per pair of support atoms, q_i H_i(x) into out.
    const kq = <f64>K * qi * invTotal;
    for (let x = 0; x < even; x += 2) {
      const o = <usize>x << 3;
      const pa = load<f64>(pPtr + o);
      const pb = load<f64>(pPtr + o, 8);
      if (pa == 0 && pb == 0) continue;
      const wa = load<f64>(row + o);
      const wb = load<f64>(row + o, 8);
      const wmx = max(wa, wb);
      let c0 = 0;
      while (c0 < nChunks && load<f64>(uPtr + (<usize>(c0 * CH + CH - 1) << 3)) * wmx < LEFT) c0++;
      const acc = hPair(wa, wb, min(wa, wb), uPtr, gPtr, c0, nChunks, load<f64>(prefix + (<usize>c0 << 3)));
      const h = f64x2.mul(f64x2.mul(f64x2.splat(kq), f64x2(wa, wb)), acc);
      v128.store(outPtr + o, f64x2.add(v128.load(outPtr + o), h));
    }
    if (even < n) {
      const o = <usize>even << 3;
      const pa = load<f64>(pPtr + o);
      if (pa != 0) {
        const wa = load<f64>(row + o);
        let c0 = 0;
        while (c0 < nChunks && load<f64>(uPtr + (<usize>(c0 * CH + CH - 1) << 3)) * wa < LEFT) c0++;
        const acc = hPair(wa, wa, wa, uPtr, gPtr, c0, nChunks, load<f64>(prefix + (<usize>c0 << 3)));
        store<f64>(outPtr + o, load<f64>(outPtr + o) + kq * wa * f64x2.extract_lane(acc, 0));
      }
    }
  }

  // out = (1 - lambda) p sum_i q_i H_i [+ lambda pData]; the 1 / P is already in out.
  const keep = 1 - lambda;
  let s: f64 = 0;
  for (let x = 0; x < n; x++) {
    const o = <usize>x << 3;
    let v = keep * load<f64>(pPtr + o) * load<f64>(outPtr + o);
    if (lambda != 0) v += lambda * load<f64>(pDataPtr + o);
    store<f64>(outPtr + o, v);
    s += v;
  }
  return s;
}
