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
// - Left of its range (u_j w < DELTA = 1/4) an atom enters phi (pass 1) and H (pass 2) through
//   the series exp(-a) = sum_{k <= SERIES} (-a)^k / k!, truncated at a^13 / 13! < 3e-18
//   relative (a < 1/4): per node, moments T_k = sum p (u_j w)^k of the atoms still left of their
//   range (kept scaled by u_j, so nothing overflows; T_k(j) = 2^(-k/3) (T_k(j+1) + entering
//   atoms)), and in pass 2 prefix moments G_k = sum_{j' < j} g_j' (u_j' / u_j)^k.
// - On its range (a fixed number of nodes, BAND_H or bandPhi, past its first one), u_{j+3} =
//   2 u_j exactly, so exp(-u_{j+3} w) = exp(-u_j w)^2: three chains per atom pair, squared along
//   (relative error at most ~2^8 ulp, at the far end of a range where the terms are smallest;
//   a pair whose ranges lie far apart restarts them from an exp every CHAIN nodes). Atoms go two
//   per v128; each lane counts only from its own first active node (the other lane is masked
//   until then), so the three chain starts of a pair have arguments in [0, 2 DELTA) and come
//   from one polynomial (startExp). They and the first active nodes depend on the weights and
//   u_0 only: the pair cache below keeps them across steps, for pass 1 and pass 2.
// - Right of it the term is dropped: in pass 1 beyond u w = RIGHT_PHI = 34.5 + 2 ln K (the
//   dropped mass changes every H by less than K (K - 1) e^-RIGHT_PHI <= e^-34.5 = 1e-15), in
//   pass 2 beyond u w = RIGHT_H = 35.5 (a relative e^-34.5 of H: phi^(K-1) only decreases in u).
// - phi_j near 1 is where K - 1 powers amplify rounding: the kernel uses psi_j = P - phi_j there,
//   from the series (psiL = sum of the k >= 1 terms) plus E_j - phiA_j, E_j the mass that has
//   entered its range by node j and phiA_j its active part of phi. Every active term has
//   e <= e^-DELTA, so E_j - phiA_j >= (1 - e^-1/4) E_j: the relative error of psi stays a few
//   ulp (times 4.5), and phi^(K-1) keeps an error near that relative error times (K - 1) psi,
//   small exactly where phi^(K-1) is not. H is computed for p / P (P = sum p), so a p that sums
//   to 1 + 1e-15 does not show up as a K-fold mass defect.
// - The left end u_0 = LEFT / (K wMax) (wMax over the support of p) loses a relative 2^-56 of
//   every H(x) on the support (integral >= 1 / (K wMax) there). Nodes below LEFT_NODES, left of
//   every atom's range, are not visited: there g_j = h u_j phi_j^(K-1) is a series in u_j to second
//   order (K u wMax < 2^-18, so the third order is < 2^-54 of it, and the whole part is < 2^-17
//   of H), summed into G_k in closed form (geometric series in 2^(-1/3), extended to u -> 0,
//   which adds back the 2^-56 left of u_0). The node sequence stops after
//   the first node with phi_j^K < 2^-1000 (remaining mass) or u_j wMinPos > 708 (the same rule
//   as the twin, src/core/twins.ts).
// Only deterministic arithmetic: IEEE f64 and f64x2 operations and the module's own NativeMath
// (no host Math), so a step has the same bits in every engine.

import { ZB, ZB_SHIFT, zeroBlockCount, live, liveMixed, clearDead } from "./blocks";

const MAX_NODES: i32 = 4077;
const LEFT: f64 = 1.3877787807814457e-17; // 2^-56
const RIGHT: f64 = 708;
const RIGHT_H: f64 = 35.5;
const RIGHT_PHI: f64 = 34.5; // plus 2 ln K
const DELTA: f64 = 0.25;
const BAND_H: i32 = 22; // nodes per range in pass 2: DELTA 2^(22/3) = 40.3 >= RIGHT_H
const SERIES: i32 = 12; // moments k = 0..SERIES
const MP: i32 = (SERIES + 2) >> 1; // moment pairs per node (k = 0..13, the last one zero-weighted)
const CHAIN: i32 = 9; // nodes per squaring chain: 1 exp + 8 squarings
// phi^(K-1) by repeated squaring up to this K - 1: at most 6 squarings and 6 products, a relative
// error below (K - 1 + 12) ulp (1.7e-14), far cheaper than exp and log1p per node.
const SMALL_POW: i32 = 64;
const H_STEP: f64 = 0.23104906018664842; // ln(2) / 3
const CBRT2: f64 = 1.2599210498948732; // 2^(1/3)
const CBRT4: f64 = 1.5874010519681994; // 2^(2/3)
const TINY_MASS: f64 = 9.332636185032189e-302; // 2^-1000
// Nodes j < LEFT_NODES have K u_j wMax < 2^-18 (u_j < u_0 2^38): there g_j is a short series in u_j.
const LEFT_NODES: i32 = 114;
// Grids of at most SMALL_N atoms take the table path (tableGroup): exp(-u_j w) and 1 - exp(-u_j w)
// of every atom at every node from LEFT_NODES on, kept per group while the weights and u_0 stand,
// when the nodes fit in TABLE_ROWS rows.
const SMALL_N: i32 = 32;
const TABLE_ROWS: i32 = 400; // a multiple of 16 (columnsTimesP)
const EXP_M14: f64 = 0.7788007830714049; // e^(-1/4)
// 1 / k! for k = 0..SERIES (and a zero pad), the same with the signs of psi's series
// 1 - exp(-a) = sum_{k >= 1} -(-a)^k / k!, and 2^(-k/3) (= u_j / u_{j+1}
// to the k; the last entry only scales the zero-weighted pad).
const FACT = memory.data<f64>([
  1, 1, 0.5, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
  1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 0,
], 16);
const SPSI = memory.data<f64>([
  0, 1, -0.5, 1.0 / 6, -1.0 / 24, 1.0 / 120, -1.0 / 720, 1.0 / 5040, -1.0 / 40320, 1.0 / 362880,
  -1.0 / 3628800, 1.0 / 39916800, -1.0 / 479001600, 0,
], 16);
// 1 / (1 - 2^(-m/3)) for m = 0..16 (m = 0 unused): sums of u_j^m over the nodes left of one.
const QINV = memory.data<f64>([
  0, 4.847322101863074, 2.7024143839193155, 2.0, 1.6579630871775028, 1.4598119517127546, 1.3333333333333333,
  1.2475441026068557, 1.1869297168804265, 1.1428571428571428, 1.1101398198681562, 1.0854758684915922,
  1.0666666666666667, 1.052195508009056, 1.0409862659084212, 1.032258064516129, 1.0254339841430087,
], 16);
const RATIO = memory.data<f64>([
  1, 0.7937005259840998, 0.6299605249474366, 0.5, 0.3968502629920499, 0.3149802624737183,
  0.25, 0.19842513149602495, 0.15749013123685915, 0.125, 0.09921256574801247,
  0.07874506561842957, 0.0625, 0.049606282874006244,
], 16);

// Scratch layout (byte offsets from the 16-aligned scratch base): u[MAX_NODES + 1],
// g[MAX_NODES + 1], phi2[MAX_NODES] as v128 (the active part of phi, two lanes; then g in both),
// enter[MAX_NODES + 1] (mass entering its range at node j), mom[(MAX_NODES + 1) x 2 MP] node by
// node (entering moments in pass 1, prefix moments G_k / k! in pass 2), then the pair cache:
// a header (magic, n, m, K), per group (u_0, the least positive weight, an epoch), a copy of
// the weights, and per group and pair a record of PAIR_BYTES: the two first active nodes (i32),
// the epoch it was computed in (i32) and the three chain starts (3 v128); then, for grids of at
// most SMALL_N atoms, one table per group (tableGroup).
//
// The pair cache: an atom's first active node and a pair's chain starts depend only on the
// weights and u_0, not on p, and u_0 = LEFT / (K wMax) changes only when the heaviest atom of
// the support dies. A record carries its group's epoch when it was computed for two atoms with
// mass (their own weights); the epoch moves on when u_0 or any weight of the group differs from
// the stored copy (compared bit for bit every step). A record is the same numbers the step
// would compute, so results do not depend on what the scratch held before: the same bits
// with a fresh scratch, a reused one, or weights changed in place.
const STRIDE: usize = <usize>(MAX_NODES + 1) << 3;
const OFF_U: usize = 0;
const OFF_G: usize = OFF_U + STRIDE;
const OFF_PHI2: usize = OFF_G + STRIDE;
const OFF_ENTER: usize = OFF_PHI2 + (<usize>MAX_NODES << 4);
const OFF_MOM: usize = OFF_ENTER + STRIDE;
const OFF_CACHE: usize = OFF_MOM + <usize>(MAX_NODES + 1) * <usize>(MP << 4);
const CACHE_MAGIC: u32 = 0x664b3031; // "fK01": the record layout below
const PAIR_BYTES: usize = 64;

/** Returns the scratch bytes finiteKStep needs: node arrays, moments and the pair cache (weights copy, one record per pair and group). */
export function finiteKScratchBytes(n: i32, m: i32): usize {
  const pairs = <usize>((n + 1) >> 1);
  return OFF_CACHE + 16 + 32 * <usize>m + 8 * <usize>n * <usize>m + PAIR_BYTES * pairs * <usize>m + tableBytes(n) * <usize>m + 16;
}

/**
 * Bytes of one group's table (tableGroup): a header, the nodes u_j from LEFT_NODES - 1 on
 * (TABLE_ROWS + 1 of them), then per atom exp(-u w) and 1 - exp(-u w) along TABLE_ROWS nodes.
 */
function tableBytes(n: i32): usize {
  return n <= SMALL_N ? 16 + 8 * <usize>(TABLE_ROWS + 1) + <usize>TABLE_ROWS * <usize>n * 16 : 0;
}

/**
 * exp(-a) in both lanes for a in [0, 1/2): e^(-1/4) times the Taylor polynomial of e^t, t = 1/4 - a
 * (degree 12, truncation < 3e-18), by Estrin's scheme (a short dependency chain; terms fall fast).
 */
@inline
function startExp(a: v128): v128 {
  const t = f64x2.sub(f64x2.splat(0.25), a);
  const t2 = f64x2.mul(t, t);
  const t4 = f64x2.mul(t2, t2);
  const t8 = f64x2.mul(t4, t4);
  const q0 = f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.splat(1), t));
  const q1 = f64x2.add(f64x2.splat(0.5), f64x2.mul(f64x2.splat(1.0 / 6), t));
  const q2 = f64x2.add(f64x2.splat(1.0 / 24), f64x2.mul(f64x2.splat(1.0 / 120), t));
  const q3 = f64x2.add(f64x2.splat(1.0 / 720), f64x2.mul(f64x2.splat(1.0 / 5040), t));
  const q4 = f64x2.add(f64x2.splat(1.0 / 40320), f64x2.mul(f64x2.splat(1.0 / 362880), t));
  const q5 = f64x2.add(f64x2.splat(1.0 / 3628800), f64x2.mul(f64x2.splat(1.0 / 39916800), t));
  const r0 = f64x2.add(q0, f64x2.mul(q1, t2));
  const r1 = f64x2.add(q2, f64x2.mul(q3, t2));
  const r2 = f64x2.add(q4, f64x2.mul(q5, t2));
  const s0 = f64x2.add(r0, f64x2.mul(r1, t4));
  const s1 = f64x2.add(r2, f64x2.mul(f64x2.splat(1.0 / 479001600), t4));
  return f64x2.mul(f64x2.add(s0, f64x2.mul(s1, t8)), f64x2.splat(EXP_M14));
}

/**
 * Returns the first node j in [jLo, jAll] with u_j w >= c (strict: > c), jAll when there is none.
 * u_j = u0 2^(j/3): a guess from the bits of u0 w / c (a linear log2), then exact against the stored nodes.
 */
@inline
function firstNode(uPtr: usize, u0: f64, w: f64, c: f64, invC: f64, jLo: i32, jAll: i32, strict: bool): i32 {
  if (!(w > 0)) return jAll;
  // log2 y in [e + f - 1, e + f - 1 + 0.087) for y = 2^e f, f in [1, 2): the guess is at most 2 below.
  const bits = reinterpret<u64>(u0 * w * invC);
  const e = <f64>(<i32>((bits >> 52) & 0x7ff) - 1023);
  const f = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  let j = <i32>Math.floor(-3 * (e + f - 0.913)) - 1;
  if (j < jLo) j = jLo;
  if (j > jAll) j = jAll;
  if (strict) {
    while (j < jAll && load<f64>(uPtr + (<usize>j << 3)) * w <= c) j++;
    while (j > jLo && load<f64>(uPtr + (<usize>(j - 1) << 3)) * w > c) j--;
  } else {
    while (j < jAll && load<f64>(uPtr + (<usize>j << 3)) * w < c) j++;
    while (j > jLo && load<f64>(uPtr + (<usize>(j - 1) << 3)) * w >= c) j--;
  }
  return j;
}

/** phi2[j + s] += v_s e_s for s = 0, 1, 2 (pe = &phi2[j]). */
@inline
function addTriple(pe: usize, v0: v128, v1: v128, v2: v128, e0: v128, e1: v128, e2: v128): void {
  v128.store(pe, f64x2.add(v128.load(pe), f64x2.mul(v0, e0)));
  v128.store(pe, f64x2.add(v128.load(pe, 16), f64x2.mul(v1, e1)), 16);
  v128.store(pe, f64x2.add(v128.load(pe, 32), f64x2.mul(v2, e2)), 32);
}

/** Adds p (1, v, v^2, ..., v^13) to the moment pairs at momRow. */
@inline
function addMoments(momRow: usize, p: f64, v: f64): void {
  let t = f64x2(p, p * v);
  const v2 = f64x2.splat(v * v);
  v128.store(momRow, f64x2.add(v128.load(momRow, 0), t), 0);
  t = f64x2.mul(t, v2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 16), t), 16);
  t = f64x2.mul(t, v2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 32), t), 32);
  t = f64x2.mul(t, v2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 48), t), 48);
  t = f64x2.mul(t, v2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 64), t), 64);
  t = f64x2.mul(t, v2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 80), t), 80);
  t = f64x2.mul(t, v2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 96), t), 96);
}

/** Adds pa (1, va, ..) + pb (1, vb, ..) to the moment pairs at momRow (two atoms entering at one node). */
@inline
function addMoments2(momRow: usize, pa: f64, va: f64, pb: f64, vb: f64): void {
  let ta = f64x2(pa, pa * va);
  let tb = f64x2(pb, pb * vb);
  const a2 = f64x2.splat(va * va);
  const b2 = f64x2.splat(vb * vb);
  v128.store(momRow, f64x2.add(v128.load(momRow, 0), f64x2.add(ta, tb)), 0);
  ta = f64x2.mul(ta, a2);
  tb = f64x2.mul(tb, b2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 16), f64x2.add(ta, tb)), 16);
  ta = f64x2.mul(ta, a2);
  tb = f64x2.mul(tb, b2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 32), f64x2.add(ta, tb)), 32);
  ta = f64x2.mul(ta, a2);
  tb = f64x2.mul(tb, b2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 48), f64x2.add(ta, tb)), 48);
  ta = f64x2.mul(ta, a2);
  tb = f64x2.mul(tb, b2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 64), f64x2.add(ta, tb)), 64);
  ta = f64x2.mul(ta, a2);
  tb = f64x2.mul(tb, b2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 80), f64x2.add(ta, tb)), 80);
  ta = f64x2.mul(ta, a2);
  tb = f64x2.mul(tb, b2);
  v128.store(momRow, f64x2.add(v128.load(momRow, 96), f64x2.add(ta, tb)), 96);
}

/** Returns sum_k C_k (-v)^k over the prefix moments C_k = G_k / k! at cRow (the left series of H). */
@inline
function leftSeries(cRow: usize, v: f64): f64 {
  let t = f64x2(1, -v);
  const v2 = f64x2.splat(v * v);
  let s = f64x2.mul(v128.load(cRow), t);
  t = f64x2.mul(t, v2);
  s = f64x2.add(s, f64x2.mul(v128.load(cRow, 16), t));
  t = f64x2.mul(t, v2);
  s = f64x2.add(s, f64x2.mul(v128.load(cRow, 32), t));
  t = f64x2.mul(t, v2);
  s = f64x2.add(s, f64x2.mul(v128.load(cRow, 48), t));
  t = f64x2.mul(t, v2);
  s = f64x2.add(s, f64x2.mul(v128.load(cRow, 64), t));
  t = f64x2.mul(t, v2);
  s = f64x2.add(s, f64x2.mul(v128.load(cRow, 80), t));
  t = f64x2.mul(t, v2);
  s = f64x2.add(s, f64x2.mul(v128.load(cRow, 96), t));
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** ipow in both lanes: the same multiplications, so the same bits as ipow lane by lane. */
@inline
function ipow2(x: v128, k: i32): v128 {
  let r = f64x2.splat(1);
  let b = x;
  while (true) {
    if (k & 1) r = f64x2.mul(r, b);
    k >>= 1;
    if (k == 0) break;
    b = f64x2.mul(b, b);
  }
  return r;
}

/** x^k for an integer k >= 1, by repeated squaring. */
@inline
function ipow(x: f64, k: i32): f64 {
  let r: f64 = 1;
  let b = x;
  while (true) {
    if (k & 1) r *= b;
    k >>= 1;
    if (k == 0) break;
    b *= b;
  }
  return r;
}

/**
 * G_k = sum_{j < jLeft} g_j (u_j / y)^k for k = 0..13 (7 pairs) into dst, y = u_{jLeft - 1}:
 * left of jLeft, K u_j wMax < 2^-18, so g_j = h u_j phi_j^(K-1) is h u_j (1 + a1 z_j + a2 z_j^2),
 * z = u / u_jLeft, from m1 = T_1 / P and m2 = T_2 / P at jLeft (third order < 2^-54), summed over
 * the nodes left of jLeft extended to u -> 0 (a geometric series in 2^(-1/3); the finite sum from
 * u_0 differs by a relative 2^-56 of this part): h y sum_n b_n / (1 - 2^(-(n + 1 + k)/3)).
 */
@inline
function leftSums(dst: usize, uPtr: usize, jLeft: i32, km1: f64, m1: f64, m2: f64): void {
  const a1 = -km1 * m1;
  const a2 = km1 * (0.5 * m2 + 0.5 * (km1 - 1) * m1 * m1);
  const y = load<f64>(uPtr + (<usize>(jLeft - 1) << 3));
  const rz = y / load<f64>(uPtr + (<usize>jLeft << 3));
  const hy = f64x2.splat(H_STEP * y);
  const b1 = f64x2.splat(a1 * rz);
  const b2 = f64x2.splat(a2 * rz * rz);
  for (let k = 0; k < 7; k++) {
    const o = <usize>k << 4;
    v128.store(dst + o, f64x2.mul(hy, f64x2.add(v128.load(QINV + o, 8), f64x2.add(f64x2.mul(b1, v128.load(QINV + o, 16)), f64x2.mul(b2, v128.load(QINV + o, 24))))));
  }
}

/**
 * dst[r] = sum_x p[x] col_x[r] for r < rows (a multiple of 16), col_x = cols + x * colBytes:
 * sixteen rows at a time in eight f64x2 accumulators, the atoms in order (atoms without mass
 * skipped). Each row is the same sum over the atoms in order however many rows go together: the
 * accumulators only give the processor independent chains of additions.
 */
function columnsTimesP(dst: usize, cols: usize, colBytes: usize, pPtr: usize, n: i32, rows: i32): void {
  for (let r = 0; r < rows; r += 16) {
    const o = <usize>r << 3;
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    let a2 = f64x2.splat(0);
    let a3 = f64x2.splat(0);
    let a4 = f64x2.splat(0);
    let a5 = f64x2.splat(0);
    let a6 = f64x2.splat(0);
    let a7 = f64x2.splat(0);
    for (let x = 0; x < n; x++) {
      const px = load<f64>(pPtr + (<usize>x << 3));
      if (px == 0) continue;
      const vp = f64x2.splat(px);
      const c = cols + <usize>x * colBytes + o;
      a0 = f64x2.add(a0, f64x2.mul(vp, v128.load(c)));
      a1 = f64x2.add(a1, f64x2.mul(vp, v128.load(c, 16)));
      a2 = f64x2.add(a2, f64x2.mul(vp, v128.load(c, 32)));
      a3 = f64x2.add(a3, f64x2.mul(vp, v128.load(c, 48)));
      a4 = f64x2.add(a4, f64x2.mul(vp, v128.load(c, 64)));
      a5 = f64x2.add(a5, f64x2.mul(vp, v128.load(c, 80)));
      a6 = f64x2.add(a6, f64x2.mul(vp, v128.load(c, 96)));
      a7 = f64x2.add(a7, f64x2.mul(vp, v128.load(c, 112)));
    }
    v128.store(dst + o, a0);
    v128.store(dst + o, a1, 16);
    v128.store(dst + o, a2, 32);
    v128.store(dst + o, a3, 48);
    v128.store(dst + o, a4, 64);
    v128.store(dst + o, a5, 80);
    v128.store(dst + o, a6, 96);
    v128.store(dst + o, a7, 112);
  }
}

/**
 * (sum_r g[r] colA[r], sum_r g[r] colB[r]) for r < rows (a multiple of 8) in the two lanes: each
 * column in eight interleaved partial sums, both columns in one loop (two independent chains of
 * additions); colB = colA gives one column's sum in both.
 */
function rowsDot2(g: usize, colA: usize, colB: usize, rows: i32): v128 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let b0 = f64x2.splat(0);
  let b1 = f64x2.splat(0);
  let b2 = f64x2.splat(0);
  let b3 = f64x2.splat(0);
  for (let r = 0; r < rows; r += 8) {
    const o = <usize>r << 3;
    const g0 = v128.load(g + o);
    const g1 = v128.load(g + o, 16);
    const g2 = v128.load(g + o, 32);
    const g3 = v128.load(g + o, 48);
    a0 = f64x2.add(a0, f64x2.mul(g0, v128.load(colA + o)));
    b0 = f64x2.add(b0, f64x2.mul(g0, v128.load(colB + o)));
    a1 = f64x2.add(a1, f64x2.mul(g1, v128.load(colA + o, 16)));
    b1 = f64x2.add(b1, f64x2.mul(g1, v128.load(colB + o, 16)));
    a2 = f64x2.add(a2, f64x2.mul(g2, v128.load(colA + o, 32)));
    b2 = f64x2.add(b2, f64x2.mul(g2, v128.load(colB + o, 32)));
    a3 = f64x2.add(a3, f64x2.mul(g3, v128.load(colA + o, 48)));
    b3 = f64x2.add(b3, f64x2.mul(g3, v128.load(colB + o, 48)));
  }
  const sa = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  const sb = f64x2.add(f64x2.add(b0, b1), f64x2.add(b2, b3));
  return f64x2(f64x2.extract_lane(sa, 0) + f64x2.extract_lane(sa, 1), f64x2.extract_lane(sb, 0) + f64x2.extract_lane(sb, 1));
}

/** out[x] += kq w_x (its left series at y w_x + dot), dot its sum along the nodes (tableGroup). */
@inline
function addH(outPtr: usize, row: usize, crow: usize, y: f64, kq: f64, x: i32, dot: f64): void {
  const o = <usize>x << 3;
  const w = load<f64>(row + o);
  const h = leftSeries(crow, y * w) + dot;
  store<f64>(outPtr + o, load<f64>(outPtr + o) + kq * w * h);
}

/**
 * One group of the step on a small grid (n <= SMALL_N): the same nodes, left closed form and
 * stopping rule as the band path below, but every node from LEFT_NODES on takes every atom
 * directly from a table of e = exp(-u_j w) and s = 1 - e (expm1, so psi = sum p s keeps its
 * relative accuracy where phi is near P), and nothing is cut on the right. The table is kept per
 * atom along the nodes (a column per atom), so phi at every node is a matrix-vector product over
 * eight nodes at a time, psi only over the nodes where phi is above 0.4 P (where psi can be at
 * most 0.5), and each atom's H one dot product along the nodes. It depends on the weights and
 * u_0 only: kept while the group's epoch stands, grown when the support reaches further right.
 * Adds q_i K w H (divided by P) into out.
 */
function tableGroup(
  pPtr: usize, outPtr: usize, row: usize, n: i32, K: i32, qi: f64, invTotal: f64,
  u0: f64, crow: usize, work: usize, tab: usize, epoch: i32, wMinPos: f64,
): bool {
  const colBytes = <usize>TABLE_ROWS << 3;
  const uCol = tab + 16;
  const eCols = uCol + 8 * <usize>(TABLE_ROWS + 1);
  const sCols = eCols + <usize>n * colBytes;
  // uPtr[j] = the node u_j for LEFT_NODES - 1 <= j < LEFT_NODES + TABLE_ROWS (uCol from j = LEFT_NODES - 1).
  const uPtr = uCol - (<usize>(LEFT_NODES - 1) << 3);
  let built = load<i32>(tab, 4);
  if (load<i32>(tab) != epoch) {
    // u_j = u_(j mod 3) 2^(j div 3): the bits of the step's node loop (u_{j+3} = 2 u_j, each doubling exact).
    const b0 = u0;
    const b1 = u0 * CBRT2;
    const b2 = u0 * CBRT4;
    for (let j = LEFT_NODES - 1; j < LEFT_NODES + TABLE_ROWS; j++) {
      const k = j / 3;
      const base = j % 3 == 0 ? b0 : j % 3 == 1 ? b1 : b2;
      store<f64>(uPtr + (<usize>j << 3), base * reinterpret<f64>(<u64>(1023 + k) << 52));
    }
    store<i32>(tab, epoch);
    store<i32>(tab, LEFT_NODES, 8);
    built = 0;
  }
  // jAll: one past the first node with u_j wMinPos > RIGHT (the step's rule), from the last one found.
  let j = load<i32>(tab, 8);
  const last = LEFT_NODES + TABLE_ROWS - 1;
  while (j > LEFT_NODES && load<f64>(uPtr + (<usize>(j - 1) << 3)) * wMinPos > RIGHT) j--;
  while (j <= last && !(load<f64>(uPtr + (<usize>j << 3)) * wMinPos > RIGHT)) j++;
  if (j > last || !(load<f64>(uPtr + (<usize>j << 3)) < Infinity)) return false; // beyond the table: the band path
  store<i32>(tab, j, 8);
  const jAll = j + 1;
  const rows = jAll - LEFT_NODES;
  // Whole blocks of sixteen rows (columnsTimesP); TABLE_ROWS is a multiple of 16.
  const rows16 = (rows + 15) & ~15;
  if (rows16 > TABLE_ROWS) return false;
  if (rows > built) {
    // Rows [built, rows16): the nodes up to jAll, zeros past them (filled in when the support
    // grows). What rows past `rows` hold never counts: phi there is past the stopping node, whose
    // g is 0, so the table is built only when the support's nodes reach past it.
    for (let r = built; r < rows16; r++) {
      const j = r + LEFT_NODES;
      const u = j < jAll ? load<f64>(uPtr + (<usize>j << 3)) : 0;
      for (let x = 0; x < n; x++) {
        const o = <usize>x * colBytes + (<usize>r << 3);
        const a = u * load<f64>(row + (<usize>x << 3));
        store<f64>(eCols + o, j < jAll ? Math.exp(-a) : 0);
        store<f64>(sCols + o, j < jAll ? -Math.expm1(-a) : 0);
      }
    }
    store<i32>(tab, rows, 4);
  }

  const phiA = work;
  const psiA = phiA + colBytes;
  const gA = psiA + colBytes;
  columnsTimesP(phiA, eCols, colBytes, pPtr, n, rows16);
  // phi only falls along the nodes: psi is needed up to the first node with phi <= 0.4 P,
  // found two nodes at a time while both are above, then one by one.
  const vInv = f64x2.splat(invTotal);
  let rPsi = 0;
  while (rPsi + 2 <= rows && i64x2.all_true(f64x2.gt(f64x2.mul(v128.load(phiA + (<usize>rPsi << 3)), vInv), f64x2.splat(0.4)))) rPsi += 2;
  while (rPsi < rows && load<f64>(phiA + (<usize>rPsi << 3)) * invTotal > 0.4) rPsi++;
  columnsTimesP(psiA, sCols, colBytes, pPtr, n, min(rows16, (rPsi + 16) & ~15));
  const km1i = K - 1;
  const km1 = <f64>km1i;
  let nodes = rows;
  if (km1i <= SMALL_POW) {
    // The same node loop in three passes, so that the powers run two nodes to a vector and four
    // vectors at a time: phi per node (over phiA), phi^(K-1) (over gA), then g and the stopping
    // rule. The same operations on every node, so the same bits as the loop below.
    // Psi serves up to the first node past rPsi or with psi > 0.5 (psi only grows with u).
    // The same test two nodes at a time while both pass, then one by one; the elementwise
    // operations below two nodes to a vector, which gives the same bits as one at a time.
    const psiEnd = min(rPsi + 1, rows);
    let rSwitch = 0;
    while (rSwitch + 2 <= psiEnd && i64x2.all_true(f64x2.le(f64x2.mul(v128.load(psiA + (<usize>rSwitch << 3)), vInv), f64x2.splat(0.5)))) rSwitch += 2;
    while (rSwitch < psiEnd && load<f64>(psiA + (<usize>rSwitch << 3)) * invTotal <= 0.5) rSwitch++;
    const one = f64x2.splat(1);
    let r = 0;
    for (; r + 2 <= rSwitch; r += 2) v128.store(phiA + (<usize>r << 3), f64x2.sub(one, f64x2.mul(v128.load(psiA + (<usize>r << 3)), vInv)));
    if (r < rSwitch) {
      store<f64>(phiA + (<usize>r << 3), 1 - load<f64>(psiA + (<usize>r << 3)) * invTotal);
      r++;
    }
    if (r & 1) {
      store<f64>(phiA + (<usize>r << 3), load<f64>(phiA + (<usize>r << 3)) * invTotal);
      r++;
    }
    for (; r < rows16; r += 2) v128.store(phiA + (<usize>r << 3), f64x2.mul(v128.load(phiA + (<usize>r << 3)), vInv));
    for (let r = 0; r < rows16; r += 8) {
      const o = <usize>r << 3;
      v128.store(gA + o, ipow2(v128.load(phiA + o), km1i));
      v128.store(gA + o, ipow2(v128.load(phiA + o, 16), km1i), 16);
      v128.store(gA + o, ipow2(v128.load(phiA + o, 32), km1i), 32);
      v128.store(gA + o, ipow2(v128.load(phiA + o, 48), km1i), 48);
    }
    // The stopping node, two at a time until a pair holds it, then g = h u phi^(K-1) up to it.
    // The table ends at the first node with u wMinPos > RIGHT (jAll above), so before the last
    // row only the mass rule can stop the loop: the pairs test that alone, and the node by node
    // test both, from the pair that holds a stop (or none: the last row is the stop).
    const uRows = uPtr + (<usize>LEFT_NODES << 3);
    const vTiny = f64x2.splat(TINY_MASS);
    let stop = 0;
    while (stop + 2 <= rows) {
      const o = <usize>stop << 3;
      if (v128.any_true(f64x2.lt(f64x2.mul(v128.load(gA + o), v128.load(phiA + o)), vTiny))) break;
      stop += 2;
    }
    while (stop < rows) {
      const o = <usize>stop << 3;
      if (load<f64>(gA + o) * load<f64>(phiA + o) < TINY_MASS || load<f64>(uRows + o) * wMinPos > RIGHT) {
        nodes = stop + 1;
        break;
      }
      stop++;
    }
    const vH = f64x2.splat(H_STEP);
    for (let r = 0; r < nodes; r += 2) {
      const o = <usize>r << 3;
      v128.store(gA + o, f64x2.mul(f64x2.mul(vH, v128.load(uRows + o)), v128.load(gA + o)));
    }
  } else {
    // Large K: the powers through exp and log, node by node.
    let psiSide = true;
    for (let r = 0; r < rows; r++) {
      const u = load<f64>(uPtr + (<usize>(r + LEFT_NODES) << 3));
      let phi: f64 = 0;
      let pw: f64 = 0;
      if (psiSide && r <= rPsi) {
        const psi = load<f64>(psiA + (<usize>r << 3)) * invTotal;
        if (psi <= 0.5) {
          phi = 1 - psi;
          pw = Math.exp(km1 * Math.log1p(-psi));
        } else {
          psiSide = false; // psi only grows with u
        }
      } else {
        psiSide = false;
      }
      if (!psiSide) {
        phi = load<f64>(phiA + (<usize>r << 3)) * invTotal;
        pw = Math.pow(phi, km1);
      }
      store<f64>(gA + (<usize>r << 3), H_STEP * u * pw);
      if (pw * phi < TINY_MASS || u * wMinPos > RIGHT) {
        nodes = r + 1;
        break;
      }
    }
  }
  const nodes8 = (nodes + 7) & ~7;
  for (let r = nodes; r < nodes8; r++) store<f64>(gA + (<usize>r << 3), 0);

  // The nodes left of LEFT_NODES in closed form (leftSums), from T_1, T_2 there; then C_k = G_k / k!.
  const ul = load<f64>(uPtr + (<usize>LEFT_NODES << 3));
  let t1: f64 = 0;
  let t2: f64 = 0;
  for (let x = 0; x < n; x++) {
    const o = <usize>x << 3;
    const v = ul * load<f64>(row + o);
    const pv1 = load<f64>(pPtr + o) * v;
    t1 += pv1;
    t2 += pv1 * v;
  }
  leftSums(crow, uPtr, LEFT_NODES, km1, t1 * invTotal, t2 * invTotal);
  for (let k = 0; k < 7; k++) {
    const o = <usize>k << 4;
    v128.store(crow + o, f64x2.mul(v128.load(crow + o), v128.load(FACT + o)));
  }
  const y = load<f64>(uPtr + (<usize>(LEFT_NODES - 1) << 3));
  const kq = <f64>K * qi * invTotal;
  // The atoms with mass two at a time, the last one alone.
  let held = -1;
  for (let x = 0; x < n; x++) {
    if (load<f64>(pPtr + (<usize>x << 3)) == 0) continue;
    if (held < 0) {
      held = x;
      continue;
    }
    const dots = rowsDot2(gA, eCols + <usize>held * colBytes, eCols + <usize>x * colBytes, nodes8);
    addH(outPtr, row, crow, y, kq, held, f64x2.extract_lane(dots, 0));
    addH(outPtr, row, crow, y, kq, x, f64x2.extract_lane(dots, 1));
    held = -1;
  }
  if (held >= 0) {
    const col = eCols + <usize>held * colBytes;
    addH(outPtr, row, crow, y, kq, held, f64x2.extract_lane(rowsDot2(gA, col, col, nodes8), 0));
  }
  return true;
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
  const enterPtr = base + OFF_ENTER;
  const momPtr = base + OFF_MOM;
  const cachePtr = base + OFF_CACHE;
  const groupHdr = cachePtr + 16;
  const wCopy = groupHdr + 32 * <usize>m;
  const pairs = <usize>((n + 1) >> 1);
  const records = wCopy + 8 * <usize>n * <usize>m;
  const tables = records + PAIR_BYTES * pairs * <usize>m;
  if (load<u32>(cachePtr) != CACHE_MAGIC || load<i32>(cachePtr, 4) != n || load<i32>(cachePtr, 8) != m || load<i32>(cachePtr, 12) != K) {
    // A scratch new to this layout: no record is valid, every group starts over.
    for (let i = 0; i < m; i++) {
      const gh = groupHdr + 32 * <usize>i;
      store<f64>(gh, NaN);
      store<i32>(gh, 1, 16);
    }
    for (let r: usize = 0; r < pairs * <usize>m; r++) store<i32>(records + r * PAIR_BYTES, 0, 8);
    for (let i = 0; i < m; i++) if (n <= SMALL_N) store<i32>(tables + <usize>i * tableBytes(n), 0);
    store<u32>(cachePtr, CACHE_MAGIC);
    store<i32>(cachePtr, n, 4);
    store<i32>(cachePtr, m, 8);
    store<i32>(cachePtr, K, 12);
  }
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

  const km1i = K - 1;
  const km1 = <f64>km1i;
  const rightPhi = min(RIGHT, RIGHT_PHI + 2 * Math.log(<f64>K));
  // Nodes per range in pass 1: DELTA 2^(bandPhi/3) >= rightPhi (22 for K = 4, 25 at K = 2^31).
  const bandPhi = <i32>Math.ceil(3 * Math.log2(rightPhi / DELTA));
  const momRowBytes = <usize>(MP << 4);
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
    let zeroW = false;
    for (let b = 0; b < nb; b++) {
      if (!live(flagsIn, b)) continue;
      const x1 = min((b + 1) << ZB_SHIFT, n);
      for (let x = b << ZB_SHIFT; x < x1; x++) {
        if (load<f64>(pPtr + (<usize>x << 3)) > 0) {
          const w = load<f64>(row + (<usize>x << 3));
          if (w > wMax) wMax = w;
          if (w > 0 && w < wMinPos) wMinPos = w;
          if (!(w > 0)) zeroW = true;
        }
      }
    }
    if (!(wMax > 0)) continue;
    const u0 = LEFT / (<f64>K * wMax);
    // The group's cache: a new epoch when u_0 or a weight changed (bit for bit).
    const gh = groupHdr + 32 * <usize>i;
    const wc = wCopy + <usize>i * <usize>n * 8;
    let same = load<f64>(gh) == u0;
    if (same) {
      for (let x = 0; x < n; x++) {
        if (load<u64>(row + (<usize>x << 3)) != load<u64>(wc + (<usize>x << 3))) {
          same = false;
          break;
        }
      }
    }
    if (!same) {
      memory.copy(wc, row, <usize>n << 3);
      let wMinAll = Infinity;
      for (let x = 0; x < n; x++) {
        const w = load<f64>(row + (<usize>x << 3));
        if (w > 0 && w < wMinAll) wMinAll = w;
      }
      store<f64>(gh, u0);
      store<f64>(gh, wMinAll, 8);
      store<i32>(gh, load<i32>(gh, 16) + 1, 16);
    }
    const epoch = load<i32>(gh, 16);
    const wMinAll = load<f64>(gh, 8);
    const recs = records + <usize>i * pairs * PAIR_BYTES;
    if (n <= SMALL_N && tableGroup(pPtr, outPtr, row, n, K, qi, invTotal, u0, momPtr, phi2, tables + <usize>i * tableBytes(n), epoch, wMinPos)) continue;
    store<f64>(uPtr, u0);
    store<f64>(uPtr, u0 * CBRT2, 8);
    store<f64>(uPtr, u0 * CBRT4, 16);
    // Nodes up to the first with u_j wMinPos > RIGHT (every support atom underflowed), as the twin:
    // jAll. The lattice goes on to jLat, where every atom's first active node and the two after
    // it are stored (u_j wMinAll >= 4 DELTA), so that a record does not depend on the support.
    let jAll = -1;
    let jLat = 0;
    for (let j = 0; j < MAX_NODES; j++) {
      if (j >= 3) store<f64>(uPtr + (<usize>j << 3), 2 * load<f64>(uPtr + (<usize>(j - 3) << 3)));
      const u = load<f64>(uPtr + (<usize>j << 3));
      if (!(u < Infinity)) break;
      jLat = j + 1;
      if (jAll < 0 && u * wMinPos > RIGHT) jAll = j + 1;
      if (jAll >= 0 && u * wMinAll >= 4 * DELTA) break;
    }
    if (jAll < 0) jAll = jLat;
    // The rows pass 1 can touch: a support atom's range starts between the first active nodes of
    // wMax and wMinPos (jFirst <= ja <= jLast; an atom of weight 0 has its moments at jAll - 1), so
    // its moments land in rows lo..hi. Rows above hi hold no moments (T_k = 0 there exactly: the
    // backward pass starts at hi and the forward pass reads no series above it); rows below lo
    // are left of every range and of jLeft, never read.
    const jFirst = firstNode(uPtr, u0, wMax, DELTA, 1 / DELTA, 1, jLat, false);
    const jLast = zeroW ? jAll : firstNode(uPtr, u0, wMinPos, DELTA, 1 / DELTA, 1, jLat, false);
    const lo = max(0, min(LEFT_NODES, min(jFirst, jAll) - 1));
    const hi = min(jLast, jAll) - 1;
    memory.fill(phi2 + (<usize>lo << 4), 0, <usize>(jAll - lo) << 4);
    memory.fill(enterPtr + (<usize>lo << 3), 0, <usize>(jAll + 1 - lo) << 3);
    if (hi >= lo) memory.fill(momPtr + <usize>lo * momRowBytes, 0, <usize>(hi + 1 - lo) * momRowBytes);

    let minRow = jAll - 1;
    // Pass 1: per pair of support atoms, each atom's first active node and its moments at the
    // node before; the three chain starts (kept for pass 2); p e along the pair's range into phi2,
    // a lane counting from its own first node.
    for (let x0 = 0; x0 < n; x0 += ZB) {
      if (!live(flagsIn, x0 >> ZB_SHIFT)) continue;
      const x1 = min(x0 + ZB, n);
      for (let x = x0; x < x1; x += 2) {
        const o = <usize>x << 3;
        const two = x + 1 < n;
        const pa = load<f64>(pPtr + o);
        const pb = two ? load<f64>(pPtr + o, 8) : 0;
        if (pa == 0 && pb == 0) continue;
        // An atom without mass takes its partner's weight (it adds nothing, and its H is unused).
        let wa = load<f64>(row + o);
        let wb = two ? load<f64>(row + o, 8) : wa;
        if (pa == 0) wa = wb;
        if (pb == 0) wb = wa;
        const sp = recs + <usize>(x >> 1) * PAIR_BYTES;
        const own = two && pa != 0 && pb != 0;
        if (!own || load<i32>(sp, 8) != epoch) {
          // ja, jb >= 1: u_0 wMax = 2^-56 / K < DELTA. Not limited to the support's nodes (jAll).
          const ra = firstNode(uPtr, u0, wa, DELTA, 1 / DELTA, 1, jLat, false);
          const rb = two ? firstNode(uPtr, u0, wb, DELTA, 1 / DELTA, 1, jLat, false) : ra;
          store<i32>(sp, ra);
          store<i32>(sp, rb, 4);
          // u_{j0 + s} w < 2 DELTA in both lanes (the earlier lane enters at j0, the other not yet).
          const r0 = min(ra, rb);
          if (r0 + 2 < jLat) {
            const up = uPtr + (<usize>r0 << 3);
            const vw = f64x2(wa, wb);
            v128.store(sp, startExp(f64x2.mul(f64x2.splat(load<f64>(up)), vw)), 16);
            v128.store(sp, startExp(f64x2.mul(f64x2.splat(load<f64>(up, 8)), vw)), 32);
            v128.store(sp, startExp(f64x2.mul(f64x2.splat(load<f64>(up, 16)), vw)), 48);
          }
          store<i32>(sp, own ? epoch : 0, 8);
        }
        const ja = load<i32>(sp);
        const jb = load<i32>(sp, 4);
        // Each atom's moments p (u_{j-1} w)^k at its last node left of its range (or of the support's nodes).
        const ma = min(ja, jAll) - 1;
        const mb = min(jb, jAll) - 1;
        minRow = min(minRow, min(ma, mb));
        const ua = load<f64>(uPtr + (<usize>ma << 3));
        if (ma == mb) {
          addMoments2(momPtr + <usize>ma * momRowBytes, pa, ua * wa, pb, ua * wb);
        } else {
          addMoments(momPtr + <usize>ma * momRowBytes, pa, ua * wa);
          addMoments(momPtr + <usize>mb * momRowBytes, pb, load<f64>(uPtr + (<usize>mb << 3)) * wb);
        }
        if (ja < jAll) store<f64>(enterPtr + (<usize>ja << 3), load<f64>(enterPtr + (<usize>ja << 3)) + pa);
        if (jb < jAll) store<f64>(enterPtr + (<usize>jb << 3), load<f64>(enterPtr + (<usize>jb << 3)) + pb);
        const j0 = min(ja, jb);
        if (j0 >= jAll) continue;
        const jB = max(ja, jb);
        // Each lane up to L_PHI nodes past its own first node (u w >= DELTA 2^(L_PHI/3) >= RIGHT_PHI after).
        const j1 = min(jB + bandPhi, jAll);
        const vp = f64x2(pa, pb);
        // Before jB only the lane whose range starts at j0 counts.
        const vlo = ja < jb ? f64x2(pa, 0) : ja > jb ? f64x2(0, pb) : vp;
        if (j1 - j0 <= 3 * CHAIN) {
          // The usual case: three chains side by side, no restart.
          let j = j0;
          let e0 = v128.load(sp, 16);
          let e1 = v128.load(sp, 32);
          let e2 = v128.load(sp, 48);
          for (; j + 3 <= j1; j += 3) {
            const pe = phi2 + (<usize>j << 4);
            if (j >= jB) addTriple(pe, vp, vp, vp, e0, e1, e2);
            else if (j + 3 <= jB) addTriple(pe, vlo, vlo, vlo, e0, e1, e2);
            else addTriple(pe, vlo, j + 1 < jB ? vlo : vp, vp, e0, e1, e2);
            e0 = f64x2.mul(e0, e0);
            e1 = f64x2.mul(e1, e1);
            e2 = f64x2.mul(e2, e2);
          }
          const pe = phi2 + (<usize>j << 4);
          if (j < j1) v128.store(pe, f64x2.add(v128.load(pe), f64x2.mul(j < jB ? vlo : vp, e0)));
          if (j + 1 < j1) v128.store(pe, f64x2.add(v128.load(pe, 16), f64x2.mul(j + 1 < jB ? vlo : vp, e1)), 16);
          continue;
        }
        // Ranges far apart (weights more than 2^(5/3) apart): chains restarted every CHAIN nodes.
        for (let s = 0; s < 3; s++) {
          let j = j0 + s;
          if (j >= j1) break;
          let e = v128.load(sp + (<usize>s << 4), 16);
          for (let t = 0; j < j1; t++, j += 3) {
            if (t == CHAIN) {
              const ur = load<f64>(uPtr + (<usize>j << 3));
              e = f64x2(Math.exp(-(ur * wa)), Math.exp(-(ur * wb)));
              t = 0;
            }
            const pe = phi2 + (<usize>j << 4);
            v128.store(pe, f64x2.add(v128.load(pe), f64x2.mul(j < jB ? vlo : vp, e)));
            e = f64x2.mul(e, e);
          }
        }
      }
    }

    // Per node, backwards: T_k(j) = 2^(-k/3) T_k(j + 1) + (moments of the atoms whose range
    // starts at j + 1) = sum p (u_j w)^k over the atoms left of their range at node j, written over
    // the entering moments (unrolled over the 7 moment pairs k = 2i, 2i + 1, kept in locals).
    const r0 = v128.load(RATIO, 0);
    const r1 = v128.load(RATIO, 16);
    const r2 = v128.load(RATIO, 32);
    const r3 = v128.load(RATIO, 48);
    const r4 = v128.load(RATIO, 64);
    const r5 = v128.load(RATIO, 80);
    const r6 = v128.load(RATIO, 96);
    let t0 = f64x2.splat(0);
    let t1 = f64x2.splat(0);
    let t2 = f64x2.splat(0);
    let t3 = f64x2.splat(0);
    let t4 = f64x2.splat(0);
    let t5 = f64x2.splat(0);
    let t6 = f64x2.splat(0);
    // Below jLeft no atom has entered its range and K u_j wMax < 2^-18: those nodes are summed
    // in closed form below, not visited.
    const jLeft = max(0, min(LEFT_NODES, minRow));
    for (let j = hi; j >= jLeft; j--) {
      const mrow = momPtr + <usize>j * momRowBytes;
      t0 = f64x2.add(f64x2.mul(t0, r0), v128.load(mrow, 0));
      v128.store(mrow, t0, 0);
      t1 = f64x2.add(f64x2.mul(t1, r1), v128.load(mrow, 16));
      v128.store(mrow, t1, 16);
      t2 = f64x2.add(f64x2.mul(t2, r2), v128.load(mrow, 32));
      v128.store(mrow, t2, 32);
      t3 = f64x2.add(f64x2.mul(t3, r3), v128.load(mrow, 48));
      v128.store(mrow, t3, 48);
      t4 = f64x2.add(f64x2.mul(t4, r4), v128.load(mrow, 64));
      v128.store(mrow, t4, 64);
      t5 = f64x2.add(f64x2.mul(t5, r5), v128.load(mrow, 80));
      v128.store(mrow, t5, 80);
      t6 = f64x2.add(f64x2.mul(t6, r6), v128.load(mrow, 96));
      v128.store(mrow, t6, 96);
    }
    // Then, forwards: the series psiL = sum_{k >= 1} -(-1)^k T_k / k! and phiL = T_0 - psiL
    // (>= e^-DELTA T_0: no cancellation), E_j, psi, phi, g_j and the stopping rule.
    const c0 = v128.load(SPSI, 0);
    const c1 = v128.load(SPSI, 16);
    const c2 = v128.load(SPSI, 32);
    const c3 = v128.load(SPSI, 48);
    const c4 = v128.load(SPSI, 64);
    const c5 = v128.load(SPSI, 80);
    const c6 = v128.load(SPSI, 96);
    let nodes = jAll;
    let entered: f64 = 0;
    for (let j = jLeft; j < jAll; j++) {
      // Above hi every T_k is 0: psiL = 0 and T_0 = 0 (the same bits as the series of zeros).
      let psiL: f64 = 0;
      let t0L: f64 = 0;
      if (j <= hi) {
        const mrow = momPtr + <usize>j * momRowBytes;
        const m0 = v128.load(mrow);
        const sPsi = f64x2.add(
          f64x2.add(f64x2.add(f64x2.mul(m0, c0), f64x2.mul(v128.load(mrow, 16), c1)), f64x2.add(f64x2.mul(v128.load(mrow, 32), c2), f64x2.mul(v128.load(mrow, 48), c3))),
          f64x2.add(f64x2.add(f64x2.mul(v128.load(mrow, 64), c4), f64x2.mul(v128.load(mrow, 80), c5)), f64x2.mul(v128.load(mrow, 96), c6)),
        );
        psiL = f64x2.extract_lane(sPsi, 0) + f64x2.extract_lane(sPsi, 1);
        t0L = f64x2.extract_lane(m0, 0);
      }
      entered += load<f64>(enterPtr + (<usize>j << 3));
      const u = load<f64>(uPtr + (<usize>j << 3));
      const ph = v128.load(phi2 + (<usize>j << 4));
      const phiA = f64x2.extract_lane(ph, 0) + f64x2.extract_lane(ph, 1);
      // psi / P = 1 - phi / P, accurate where phi is near P
      const psi = (psiL + (entered - phiA)) * invTotal;
      let phi: f64;
      let pw: f64;
      if (psi <= 0.5) {
        phi = 1 - psi;
        pw = km1i <= SMALL_POW ? ipow(phi, km1i) : Math.exp(km1 * Math.log1p(-psi));
      } else {
        phi = (phiA + (t0L - psiL)) * invTotal;
        pw = km1i <= SMALL_POW ? ipow(phi, km1i) : Math.pow(phi, km1);
      }
      const g = H_STEP * u * pw;
      store<f64>(gPtr + (<usize>j << 3), g);
      // phi2[j] is read: it now holds g_j in both lanes for pass 2.
      v128.store(phi2 + (<usize>j << 4), f64x2.splat(g));
      if (pw * phi < TINY_MASS || u * wMinPos > RIGHT) {
        nodes = j + 1;
        break;
      }
    }

    // Prefix moments, divided by k!: C_k(j) = G_k(j) / k!, G_k(j) = sum_{j' < j} g_j' (u_j' / u_{j-1})^k,
    // j = 1..nodes: G_k(j + 1) = 2^(-k/3) G_k(j) + g_j.
    const f0 = v128.load(FACT, 0);
    const f1 = v128.load(FACT, 16);
    const f2 = v128.load(FACT, 32);
    const f3 = v128.load(FACT, 48);
    const f4 = v128.load(FACT, 64);
    const f5 = v128.load(FACT, 80);
    const f6 = v128.load(FACT, 96);
    // G_k(jLeft), the nodes left of jLeft in closed form (leftSums).
    if (jLeft > 0) {
      // T_1, T_2 at jLeft, when every atom is left of its range.
      const m1 = load<f64>(momPtr + <usize>jLeft * momRowBytes, 8) * invTotal;
      const m2 = load<f64>(momPtr + <usize>jLeft * momRowBytes, 16) * invTotal;
      const crow = momPtr + <usize>jLeft * momRowBytes;
      leftSums(crow, uPtr, jLeft, km1, m1, m2);
      t0 = v128.load(crow, 0);
      t1 = v128.load(crow, 16);
      t2 = v128.load(crow, 32);
      t3 = v128.load(crow, 48);
      t4 = v128.load(crow, 64);
      t5 = v128.load(crow, 80);
      t6 = v128.load(crow, 96);
    } else {
      t0 = f64x2.splat(0);
      t1 = f64x2.splat(0);
      t2 = f64x2.splat(0);
      t3 = f64x2.splat(0);
      t4 = f64x2.splat(0);
      t5 = f64x2.splat(0);
      t6 = f64x2.splat(0);
    }
    {
      const crow = momPtr + <usize>jLeft * momRowBytes;
      v128.store(crow, f64x2.mul(t0, f0), 0);
      v128.store(crow, f64x2.mul(t1, f1), 16);
      v128.store(crow, f64x2.mul(t2, f2), 32);
      v128.store(crow, f64x2.mul(t3, f3), 48);
      v128.store(crow, f64x2.mul(t4, f4), 64);
      v128.store(crow, f64x2.mul(t5, f5), 80);
      v128.store(crow, f64x2.mul(t6, f6), 96);
    }
    for (let j = jLeft; j < nodes; j++) {
      const gj = f64x2.splat(load<f64>(gPtr + (<usize>j << 3)));
      const crow = momPtr + <usize>(j + 1) * momRowBytes;
      t0 = f64x2.add(f64x2.mul(t0, r0), gj);
      v128.store(crow, f64x2.mul(t0, f0), 0);
      t1 = f64x2.add(f64x2.mul(t1, r1), gj);
      v128.store(crow, f64x2.mul(t1, f1), 16);
      t2 = f64x2.add(f64x2.mul(t2, r2), gj);
      v128.store(crow, f64x2.mul(t2, f2), 32);
      t3 = f64x2.add(f64x2.mul(t3, r3), gj);
      v128.store(crow, f64x2.mul(t3, f3), 48);
      t4 = f64x2.add(f64x2.mul(t4, r4), gj);
      v128.store(crow, f64x2.mul(t4, f4), 64);
      t5 = f64x2.add(f64x2.mul(t5, r5), gj);
      v128.store(crow, f64x2.mul(t5, f5), 80);
      t6 = f64x2.add(f64x2.mul(t6, r6), gj);
      v128.store(crow, f64x2.mul(t6, f6), 96);
    }

    // Pass 2: per pair of support atoms, each atom's series up to its first active node, then
    // the nodes of the pair's range from the kept chain starts (a lane counting from its own
    // first node); q_i K w H-sum into out.
    const kq = <f64>K * qi * invTotal;
    const laneA = i64x2(-1, 0);
    const laneB = i64x2(0, -1);
    const allLanes = i64x2(-1, -1);
    for (let x0 = 0; x0 < n; x0 += ZB) {
      if (!live(flagsIn, x0 >> ZB_SHIFT)) continue;
      const x1 = min(x0 + ZB, n);
      for (let x = x0; x < x1; x += 2) {
        const o = <usize>x << 3;
        const two = x + 1 < n;
        const pa = load<f64>(pPtr + o);
        const pb = two ? load<f64>(pPtr + o, 8) : 0;
        if (pa == 0 && pb == 0) continue;
        let wa = load<f64>(row + o);
        let wb = two ? load<f64>(row + o, 8) : wa;
        if (pa == 0) wa = wb;
        if (pb == 0) wb = wa;
        const sp = recs + <usize>(x >> 1) * PAIR_BYTES;
        const ja = min(load<i32>(sp), nodes);
        const jb = min(load<i32>(sp, 4), nodes);
        const sa = leftSeries(momPtr + <usize>ja * momRowBytes, load<f64>(uPtr + (<usize>(ja - 1) << 3)) * wa);
        const sb = leftSeries(momPtr + <usize>jb * momRowBytes, load<f64>(uPtr + (<usize>(jb - 1) << 3)) * wb);
        let acc = f64x2(sa, sb);
        const j0 = min(ja, jb);
        if (j0 < nodes) {
          const jB = max(ja, jb);
          // Each lane up to L_H nodes past its own first node (u w >= DELTA 2^(L_H/3) >= RIGHT_H after).
          const j1 = min(jB + BAND_H, nodes);
          if (j1 - j0 <= 3 * CHAIN) {
            const mlo = ja < jb ? laneA : ja > jb ? laneB : allLanes;
            let e0 = v128.load(sp, 16);
            let e1 = v128.load(sp, 32);
            let e2 = v128.load(sp, 48);
            let acc1 = f64x2.splat(0);
            let acc2 = f64x2.splat(0);
            let j = j0;
            for (; j + 3 <= j1; j += 3) {
              const gp = phi2 + (<usize>j << 4);
              let t0 = f64x2.mul(v128.load(gp), e0);
              let t1 = f64x2.mul(v128.load(gp, 16), e1);
              let t2 = f64x2.mul(v128.load(gp, 32), e2);
              if (j < jB) {
                t0 = v128.and(t0, mlo);
                if (j + 1 < jB) t1 = v128.and(t1, mlo);
                if (j + 2 < jB) t2 = v128.and(t2, mlo);
              }
              acc = f64x2.add(acc, t0);
              acc1 = f64x2.add(acc1, t1);
              acc2 = f64x2.add(acc2, t2);
              e0 = f64x2.mul(e0, e0);
              e1 = f64x2.mul(e1, e1);
              e2 = f64x2.mul(e2, e2);
            }
            const gp = phi2 + (<usize>j << 4);
            if (j < j1) acc = f64x2.add(acc, v128.and(f64x2.mul(v128.load(gp), e0), j < jB ? mlo : allLanes));
            if (j + 1 < j1) acc1 = f64x2.add(acc1, v128.and(f64x2.mul(v128.load(gp, 16), e1), j + 1 < jB ? mlo : allLanes));
            acc = f64x2.add(acc, f64x2.add(acc1, acc2));
          } else {
            const mlo = ja < jb ? laneA : laneB;
            for (let s = 0; s < 3; s++) {
              let j = j0 + s;
              if (j >= j1) break;
              let e = v128.load(sp + (<usize>s << 4), 16);
              for (let t = 0; j < j1; t++, j += 3) {
                if (t == CHAIN) {
                  const ur = load<f64>(uPtr + (<usize>j << 3));
                  e = f64x2(Math.exp(-(ur * wa)), Math.exp(-(ur * wb)));
                  t = 0;
                }
                const ge = f64x2.mul(f64x2.splat(load<f64>(gPtr + (<usize>j << 3))), e);
                acc = f64x2.add(acc, v128.and(ge, j < jB ? mlo : allLanes));
                e = f64x2.mul(e, e);
              }
            }
          }
        }
        const h = f64x2.mul(f64x2.mul(f64x2.splat(kq), f64x2(wa, wb)), acc);
        if (two) v128.store(outPtr + o, f64x2.add(v128.load(outPtr + o), h));
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
