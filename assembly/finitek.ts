// The exact finite-K curated update (docs/model.md, section 3):
//   out[x] = lambda pData[x] + (1 - lambda) p[x] sum_i q_i H_i(x; p),
//   H_i(x; p) = K w_i(x) integral_0^inf exp(-u w_i(x)) phi_i(u)^(K-1) du,
//   phi_i(u)  = sum_y p(y) exp(-u w_i(y)).
// Quadrature: the trapezoid rule in s = log u on nodes u_j = u_0 2^(j/3) (h = ln 2 / 3). The
// integrand is analytic in the strip |Im s| < pi/2, so the error is about exp(-pi^2 / h) ~ 3e-19.
// Then H_i(x) = K w(x) sum_j g_j exp(-u_j w(x)) with g_j = h u_j phi_j^(K-1).
//
// Each atom is "active" only on the nodes where DELTA <= u_j w(x) <= a right cut; every node
// costs O(1) per active atom and O(SERIES) for all the others:
// - Left of its range (u_j w < DELTA = 1/8) an atom enters phi (pass 1) and H (pass 2) through
//   the series exp(-a) = sum_{k <= SERIES} (-a)^k / k!, truncated at a^11 / 11! < 3e-18
//   relative: per node, moments T_k = sum p (u_j w)^k of the atoms still left of their range
//   (kept scaled by u_j, so nothing overflows; T_k(j) = 2^(-k/3) (T_k(j+1) + entering atoms)),
//   and in pass 2 prefix moments G_k = sum_{j' < j} g_j' (u_j' / u_j)^k.
// - On its range, u_{j+3} = 2 u_j exactly, so exp(-u_{j+3} w) = exp(-u_j w)^2: three exps per
//   atom, then squarings, restarted from an exp every CHAIN nodes of a chain (relative error
//   at most ~2^8 ulp). Atoms go two per v128 with a common range (the pair's union).
// - Right of it the term is dropped: in pass 1 beyond u w = RIGHT_PHI = 50 + 2 ln K (the dropped
//   mass changes every H by less than K (K - 1) e^-RIGHT_PHI <= e^-50), in pass 2 beyond
//   u w = RIGHT_H = 45 (a relative e^-44 of H: phi^(K-1) only decreases in u).
// - phi_j near 1 is where K - 1 powers amplify rounding: pass 1 also carries d = 1 - e
//   (d <- d (2 - d) along the squaring chain; the series gives 1 - e directly) and uses
//   psi_j = sum p d = P - phi_j there, so the relative error of phi^(K-1) stays ~ulp-sized
//   instead of K ulp. H is computed for p / P (P = sum p), so a p that sums to 1 + 1e-15 does
//   not show up as a K-fold mass defect.
// - The left end u_0 = LEFT / (K wMax) (wMax over the support of p) loses a relative 2^-56 of
//   every H(x) on the support (integral >= 1 / (K wMax) there); the node sequence stops after
//   the first node with phi_j^K < 2^-1000 (remaining mass) or u_j wMinPos > 708 (the same rule
//   as the twin, src/core/twins.ts).

import { ZB, ZB_SHIFT, zeroBlockCount, live, liveMixed, clearDead } from "./blocks";

const MAX_NODES: i32 = 4077;
const LEFT: f64 = 1.3877787807814457e-17; // 2^-56
const RIGHT: f64 = 708;
const RIGHT_H: f64 = 45;
const DELTA: f64 = 0.125;
const SERIES: i32 = 10; // moments k = 0..SERIES
const CHAIN: i32 = 9; // nodes per squaring chain: 1 exp + 8 squarings
const H_STEP: f64 = 0.23104906018664842; // ln(2) / 3
const CBRT2: f64 = 1.2599210498948732; // 2^(1/3)
const CBRT4: f64 = 1.5874010519681994; // 2^(2/3)
const TINY_MASS: f64 = 9.332636185032189e-302; // 2^-1000
// 1 / k! and 2^(-k/3) (= u_j / u_{j+1} to the k) for k = 0..SERIES, and the running moments T_k.
const FACT = memory.data<f64>([1, 1, 0.5, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800]);
const RATIO = memory.data<f64>([
  1, 0.7937005259840998, 0.6299605249474366, 0.5, 0.3968502629920499, 0.3149802624737183,
  0.25, 0.19842513149602495, 0.15749013123685915, 0.125, 0.09921256574801247,
]);
const TMOM = memory.data(8 * (SERIES + 1), 16);

// Scratch layout (byte offsets from the 16-aligned scratch base): u[MAX_NODES + 1],
// g[MAX_NODES + 1], phi2 and psi2 [MAX_NODES] as v128 (two lanes: the atoms of a pair),
// right[MAX_NODES + 1] (mass entering "right of range" at node j), mom[(SERIES + 1) x
// (MAX_NODES + 1)] (entering moments in pass 1, prefix moments G_k in pass 2), js[n] (i32:
// the first active node of each atom's pair).
const STRIDE: usize = <usize>(MAX_NODES + 1) << 3;
const OFF_U: usize = 0;
const OFF_G: usize = OFF_U + STRIDE;
const OFF_PHI2: usize = OFF_G + STRIDE;
const OFF_PSI2: usize = OFF_PHI2 + (<usize>MAX_NODES << 4);
const OFF_RIGHT: usize = OFF_PSI2 + (<usize>MAX_NODES << 4);
const OFF_MOM: usize = OFF_RIGHT + STRIDE;
const OFF_JS: usize = OFF_MOM + <usize>(SERIES + 1) * STRIDE;

/** Returns the scratch bytes finiteKStep needs: node arrays, moments and one i32 per atom. */
export function finiteKScratchBytes(n: i32, m: i32): usize {
  return OFF_JS + (<usize>n << 2) + 16;
}

const ED = memory.data(32, 16);

/** Stores (exp(-a), exp(-b)) and (1 - exp(-a), 1 - exp(-b)) at ED, one exp or expm1 each (d accurate for small a). */
@inline
function edPair(a: f64, b: f64): void {
  let ea: f64, da: f64, eb: f64, db: f64;
  if (a < 0.6931471805599453) {
    da = -Math.expm1(-a);
    ea = 1 - da;
  } else {
    ea = Math.exp(-a);
    da = 1 - ea;
  }
  if (b < 0.6931471805599453) {
    db = -Math.expm1(-b);
    eb = 1 - db;
  } else {
    eb = Math.exp(-b);
    db = 1 - eb;
  }
  v128.store(ED, f64x2(ea, eb));
  v128.store(ED, f64x2(da, db), 16);
}

/** Returns the first node j in [0, jAll] with u_j w >= DELTA (jAll when there is none). */
@inline
function firstActive(uPtr: usize, u0: f64, w: f64, jAll: i32): i32 {
  if (!(w > 0)) return jAll;
  // u_j = u0 2^(j/3): a guess from the log, then exact against the stored nodes.
  let j = <i32>Math.ceil(3 * Math.log2(DELTA / (u0 * w))) - 1;
  if (j < 0) j = 0;
  if (j > jAll) j = jAll;
  while (j < jAll && load<f64>(uPtr + (<usize>j << 3)) * w < DELTA) j++;
  while (j > 0 && load<f64>(uPtr + (<usize>(j - 1) << 3)) * w >= DELTA) j--;
  return j;
}

/**
 * One exact finite-K step (docs/model.md, section 3); returns sum_x out[x] BEFORE renormalisation,
 * whose distance from 1 is the quadrature's mass defect. Groups with q_i = 0 are skipped;
 * lambda = 0 never reads pData. scratchPtr must hold finiteKScratchBytes(n, m) bytes.
 * Zero blocks (blocks.ts) as in kinfStep: flags 0 runs dense, with the same bits.
 */
export function finiteKStep(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, m: i32,
  qPtr: usize, K: i32, lambda: f64, pDataPtr: usize, scratchPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  const base = (scratchPtr + 15) & ~(<usize>15);
  const uPtr = base + OFF_U;
  const gPtr = base + OFF_G;
  const phi2 = base + OFF_PHI2;
  const psi2 = base + OFF_PSI2;
  const rightPtr = base + OFF_RIGHT;
  const momPtr = base + OFF_MOM;
  const jsPtr = base + OFF_JS;
  const even = n & ~1;
  const mix = lambda != 0;
  const nb = zeroBlockCount(n);
  let total: f64 = 0;
  for (let b = 0; b < nb; b++) {
    if (!liveMixed(flagsIn, dataFlags, mix, b)) continue;
    const x0 = b << ZB_SHIFT;
    const x1 = min(x0 + ZB, n);
    memory.fill(outPtr + (<usize>x0 << 3), 0, <usize>(x1 - x0) << 3);
    if (!live(flagsIn, b)) continue;
    for (let x = x0; x < x1; x++) total += load<f64>(pPtr + (<usize>x << 3));
  }
  if (!(total > 0)) total = 1;
  const invTotal = 1 / total;

  const km1 = <f64>(K - 1);
  const rightPhi = min(RIGHT, 50 + 2 * Math.log(<f64>K));
  for (let i = 0; i < m; i++) {
    const qi = load<f64>(qPtr + (<usize>i << 3));
    if (!(qi > 0)) continue;
    const row = wPtr + <usize>i * <usize>n * 8;
    if (K <= 1) {
      // H = 1: a single candidate is always kept.
      for (let b = 0; b < nb; b++) {
        if (!live(flagsIn, b)) continue;
        const x1 = min((b + 1) << ZB_SHIFT, n);
        for (let x = b << ZB_SHIFT; x < x1; x++) {
          const o = outPtr + (<usize>x << 3);
          store<f64>(o, load<f64>(o) + qi);
        }
      }
      continue;
    }

    // Weights on the support of p set the node range.
    let wMax: f64 = 0;
    let wMinPos = Infinity;
    for (let b = 0; b < nb; b++) {
      if (!live(flagsIn, b)) continue;
      const x1 = min((b + 1) << ZB_SHIFT, n);
      for (let x = b << ZB_SHIFT; x < x1; x++) {
        if (load<f64>(pPtr + (<usize>x << 3)) > 0) {
          const w = load<f64>(row + (<usize>x << 3));
          if (w > wMax) wMax = w;
          if (w > 0 && w < wMinPos) wMinPos = w;
        }
      }
    }
    if (!(wMax > 0)) continue;
    const u0 = LEFT / (<f64>K * wMax);
    store<f64>(uPtr, u0);
    store<f64>(uPtr, u0 * CBRT2, 8);
    store<f64>(uPtr, u0 * CBRT4, 16);
    // Nodes up to the first with u_j wMinPos > RIGHT (every support atom underflowed), as the twin.
    let jAll = 0;
    for (let j = 0; j < MAX_NODES; j++) {
      if (j >= 3) store<f64>(uPtr + (<usize>j << 3), 2 * load<f64>(uPtr + (<usize>(j - 3) << 3)));
      const u = load<f64>(uPtr + (<usize>j << 3));
      if (!(u < Infinity)) break;
      jAll = j + 1;
      if (u * wMinPos > RIGHT) break;
    }
    memory.fill(phi2, 0, <usize>jAll << 4);
    memory.fill(psi2, 0, <usize>jAll << 4);
    memory.fill(rightPtr, 0, <usize>(jAll + 1) << 3);
    for (let k = 0; k <= SERIES; k++) memory.fill(momPtr + <usize>k * STRIDE, 0, <usize>(jAll + 1) << 3);

    // Pass 1: per pair of support atoms, the entering moments at the pair's first active node,
    // then p e and p (1 - e) along the pair's range into phi2 / psi2, then "right" mass.
    for (let x0 = 0; x0 < n; x0 += ZB) {
      if (!live(flagsIn, x0 >> ZB_SHIFT)) continue;
      const x1 = min(x0 + ZB, n);
      for (let x = x0; x < x1; x += 2) {
        const o = <usize>x << 3;
        const pa = load<f64>(pPtr + o);
        const pb = x + 1 < n ? load<f64>(pPtr + o, 8) : 0;
        if (pa == 0 && pb == 0) continue;
        // An atom without mass takes its partner's weight (it adds nothing, and its H is unused).
        let wa = load<f64>(row + o);
        let wb = x + 1 < n ? load<f64>(row + o, 8) : wa;
        if (pa == 0) wa = wb;
        if (pb == 0) wb = wa;
        // j0 >= 1: u_0 wMax = 2^-56 / K < DELTA.
        const j0 = min(firstActive(uPtr, u0, wa, jAll), firstActive(uPtr, u0, wb, jAll));
        store<i32>(jsPtr + (<usize>x << 2), j0);
        // The pair's moments p (u_{j0-1} w)^k, at j0 - 1 (the last node where it is left of its range).
        const uPrev = load<f64>(uPtr + (<usize>(j0 - 1) << 3));
        const va = uPrev * wa;
        const vb = uPrev * wb;
        let ta = pa;
        let tb = pb;
        for (let k = 0; k <= SERIES; k++) {
          const mp = momPtr + <usize>k * STRIDE + (<usize>(j0 - 1) << 3);
          store<f64>(mp, load<f64>(mp) + (ta + tb));
          ta *= va;
          tb *= vb;
        }
        if (j0 >= jAll) continue;
        const wmn = min(wa, wb);
        let j1 = j0;
        while (j1 < jAll && load<f64>(uPtr + (<usize>j1 << 3)) * wmn <= rightPhi) j1++;
        const vp = f64x2(pa, pb);
        const two = f64x2.splat(2);
        // Three chains (nodes j0 + 0, 1, 2 mod 3), each squared every third node and restarted
        // from an exp every CHAIN nodes (relative error at most ~2^(CHAIN - 1) ulp).
        for (let s = 0; s < 3; s++) {
          for (let j = j0 + s; j < j1; ) {
            const u = load<f64>(uPtr + (<usize>j << 3));
            edPair(u * wa, u * wb);
            let e = v128.load(ED);
            let d = v128.load(ED, 16);
            for (let t = 0; t < CHAIN && j < j1; t++, j += 3) {
              const pe = phi2 + (<usize>j << 4);
              const pd = psi2 + (<usize>j << 4);
              v128.store(pe, f64x2.add(v128.load(pe), f64x2.mul(vp, e)));
              v128.store(pd, f64x2.add(v128.load(pd), f64x2.mul(vp, d)));
              e = f64x2.mul(e, e);
              d = f64x2.mul(d, f64x2.sub(two, d));
            }
          }
        }
        const rp = rightPtr + (<usize>j1 << 3);
        store<f64>(rp, load<f64>(rp) + (pa + pb));
      }
    }

    // Per node, backwards: T_k(j) = 2^(-k/3) T_k(j + 1) + (moments of the pairs whose range
    // starts at j + 1) = sum p (u_j w)^k over the atoms left of their range at node j. phi and
    // psi go to lane 0 of phi2 / psi2; then, forwards, g_j and the stopping rule.
    memory.fill(TMOM, 0, 8 * (SERIES + 1));
    for (let j = jAll - 1; j >= 0; j--) {
      let phiL: f64 = 0;
      let psiL: f64 = 0;
      let sign: f64 = 1;
      for (let k = 0; k <= SERIES; k++) {
        const tp = TMOM + (<usize>k << 3);
        const t = load<f64>(tp) * load<f64>(RATIO + (<usize>k << 3)) + load<f64>(momPtr + <usize>k * STRIDE + (<usize>j << 3));
        store<f64>(tp, t);
        const term = sign * t * load<f64>(FACT + (<usize>k << 3));
        phiL += term;
        if (k > 0) psiL -= term;
        sign = -sign;
      }
      const e = v128.load(phi2 + (<usize>j << 4));
      const d = v128.load(psi2 + (<usize>j << 4));
      v128.store(phi2 + (<usize>j << 4), f64x2(f64x2.extract_lane(e, 0) + f64x2.extract_lane(e, 1) + phiL, 0));
      v128.store(psi2 + (<usize>j << 4), f64x2(f64x2.extract_lane(d, 0) + f64x2.extract_lane(d, 1) + psiL, 0));
    }
    let nodes = jAll;
    let rightMass: f64 = 0;
    for (let j = 0; j < jAll; j++) {
      rightMass += load<f64>(rightPtr + (<usize>j << 3));
      const u = load<f64>(uPtr + (<usize>j << 3));
      // psi / P = 1 - phi / P, accurate where phi is near P
      const psi = (load<f64>(psi2 + (<usize>j << 4)) + rightMass) * invTotal;
      let phi: f64;
      let pw: f64;
      if (psi <= 0.5) {
        phi = 1 - psi;
        pw = Math.exp(km1 * Math.log1p(-psi));
      } else {
        phi = load<f64>(phi2 + (<usize>j << 4)) * invTotal;
        pw = Math.pow(phi, km1);
      }
      store<f64>(gPtr + (<usize>j << 3), H_STEP * u * pw);
      if (Math.pow(phi, km1) * phi < TINY_MASS || u * wMinPos > RIGHT) {
        nodes = j + 1;
        break;
      }
    }

    // Prefix moments G_k(j) = sum_{j' < j} g_j' (u_j' / u_{j-1})^k, j = 1..nodes:
    // G_k(j + 1) = 2^(-k/3) G_k(j) + g_j.
    for (let k = 0; k <= SERIES; k++) {
      const gk = momPtr + <usize>k * STRIDE;
      const r = load<f64>(RATIO + (<usize>k << 3));
      let acc: f64 = 0;
      store<f64>(gk, 0);
      for (let j = 0; j < nodes; j++) {
        acc = acc * r + load<f64>(gPtr + (<usize>j << 3));
        store<f64>(gk + (<usize>(j + 1) << 3), acc);
      }
    }

    // Pass 2: per pair of support atoms, the series up to its first active node, then the
    // nodes of its range; q_i K w H-sum into out.
    const kq = <f64>K * qi * invTotal;
    for (let x0 = 0; x0 < n; x0 += ZB) {
      if (!live(flagsIn, x0 >> ZB_SHIFT)) continue;
      const x1 = min(x0 + ZB, n);
      for (let x = x0; x < x1; x += 2) {
        const o = <usize>x << 3;
        const pa = load<f64>(pPtr + o);
        const pb = x + 1 < n ? load<f64>(pPtr + o, 8) : 0;
        if (pa == 0 && pb == 0) continue;
        let wa = load<f64>(row + o);
        let wb = x + 1 < n ? load<f64>(row + o, 8) : wa;
        if (pa == 0) wa = wb;
        if (pb == 0) wb = wa;
        const j0 = min(load<i32>(jsPtr + (<usize>x << 2)), nodes);
        const uPrev = load<f64>(uPtr + (<usize>(j0 - 1) << 3));
        // Horner in -u_{j0-1} w over G_k(j0) / k!.
        const va = -uPrev * wa;
        const vb = -uPrev * wb;
        let sa: f64 = 0;
        let sb: f64 = 0;
        for (let k = SERIES; k >= 0; k--) {
          const c = load<f64>(momPtr + <usize>k * STRIDE + (<usize>j0 << 3)) * load<f64>(FACT + (<usize>k << 3));
          sa = sa * va + c;
          sb = sb * vb + c;
        }
        let acc = f64x2(sa, sb);
        const wmn = min(wa, wb);
        let j1 = j0;
        while (j1 < nodes && load<f64>(uPtr + (<usize>j1 << 3)) * wmn <= RIGHT_H) j1++;
        for (let s = 0; s < 3; s++) {
          for (let j = j0 + s; j < j1; ) {
            const u = load<f64>(uPtr + (<usize>j << 3));
            let e = f64x2(Math.exp(-(u * wa)), Math.exp(-(u * wb)));
            for (let t = 0; t < CHAIN && j < j1; t++, j += 3) {
              acc = f64x2.add(acc, f64x2.mul(f64x2.splat(load<f64>(gPtr + (<usize>j << 3))), e));
              e = f64x2.mul(e, e);
            }
          }
        }
        const h = f64x2.mul(f64x2.mul(f64x2.splat(kq), f64x2(wa, wb)), acc);
        if (x + 1 < n) v128.store(outPtr + o, f64x2.add(v128.load(outPtr + o), h));
        else store<f64>(outPtr + o, load<f64>(outPtr + o) + f64x2.extract_lane(h, 0));
      }
    }
  }

  // out = (1 - lambda) p sum_i q_i H_i [+ lambda pData]; the 1 / P is already in out.
  const keep = 1 - lambda;
  let s: f64 = 0;
  for (let b = 0; b < nb; b++) {
    const x0 = b << ZB_SHIFT;
    const x1 = min(x0 + ZB, n);
    if (!liveMixed(flagsIn, dataFlags, mix, b)) {
      if (flagsOut != 0) clearDead(outPtr, flagsOut, b, x0, x1);
      continue;
    }
    let any = false;
    for (let x = x0; x < x1; x++) {
      const o = <usize>x << 3;
      let v = keep * load<f64>(pPtr + o) * load<f64>(outPtr + o);
      if (mix) v += lambda * load<f64>(pDataPtr + o);
      store<f64>(outPtr + o, v);
      any = any || v != 0;
      s += v;
    }
    if (flagsOut != 0) store<u8>(flagsOut + <usize>b, any ? 1 : 0);
  }
  return s;
}
