// The K = infinity curated update and the per-run weights (docs/model.md, sections 1 and 3).
// Arrays are f64, group-major: w[i * n + x]. Pointers are byte offsets the engine owns.
// Loops go two atoms per v128; rows of w start 8-aligned only (n may be odd), which Wasm's
// v128.load accepts (alignment is a hint).

import { ZB, ZB_SHIFT, zeroBlockCount, liveMixed, clearDead } from "./blocks";

// Atoms per block in the general-m (m >= 3) steps. Each group's Z is summed per BLOCK in two
// lanes and then folded into zNext, so BLOCK is part of the arithmetic (a new value changes
// bits). In kinfStepM (m > 8) the block's m rows + p + out, 4096 atoms of each, stay in L2
// while its passes reread them, so memory is still streamed once.
const BLOCK: i32 = 4096;

/** Fills w_i(x) = exp((r_i(x) - max r_i) / tau) and maxPtr[i] = max_x r_i(x) (docs/model.md, section 1). */
export function computeWeights(rPtr: usize, wPtr: usize, n: i32, m: i32, tau: f64, maxPtr: usize): void {
  for (let i = 0; i < m; i++) {
    const row = <usize>i * <usize>n * 8;
    let mx = -Infinity;
    for (let x = 0; x < n; x++) {
      const v = load<f64>(rPtr + row + (<usize>x << 3));
      if (v > mx) mx = v;
    }
    store<f64>(maxPtr + (<usize>i << 3), mx);
    for (let x = 0; x < n; x++) {
      const v = load<f64>(rPtr + row + (<usize>x << 3));
      store<f64>(wPtr + row + (<usize>x << 3), Math.exp((v - mx) / tau));
    }
  }
}

/** Z_i = sum_x p(x) w_i(x) into zPtr[i]. */
export function zValues(pPtr: usize, wPtr: usize, n: i32, m: i32, zPtr: usize): void {
  const even = n & ~1;
  for (let i = 0; i < m; i++) {
    const row = wPtr + <usize>i * <usize>n * 8;
    let acc = f64x2.splat(0);
    for (let x = 0; x < even; x += 2) {
      const o = <usize>x << 3;
      acc = f64x2.add(acc, f64x2.mul(v128.load(pPtr + o), v128.load(row + o)));
    }
    let z = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    if (even < n) z += load<f64>(pPtr + (<usize>even << 3)) * load<f64>(row + (<usize>even << 3));
    store<f64>(zPtr + (<usize>i << 3), z);
  }
}

/** Multiplies ptr[0..n) by factor in place. */
export function scale(ptr: usize, n: i32, factor: f64): void {
  const f = f64x2.splat(factor);
  const even = n & ~1;
  for (let x = 0; x < even; x += 2) {
    const a = ptr + (<usize>x << 3);
    v128.store(a, f64x2.mul(v128.load(a), f));
  }
  if (even < n) {
    const a = ptr + (<usize>even << 3);
    store<f64>(a, load<f64>(a) * factor);
  }
}

/** Returns sum ptr[0..n) (two interleaved lanes). */
export function sum(ptr: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  const even = n & ~1;
  for (let x = 0; x < even; x += 2) acc = f64x2.add(acc, v128.load(ptr + (<usize>x << 3)));
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (even < n) s += load<f64>(ptr + (<usize>even << 3));
  return s;
}

/**
 * One fused K = infinity step (docs/model.md, section 3); returns sum_x out[x].
 * out[x] = lambda pData[x] + (1 - lambda) p[x] sum_i c[i] w_i(x), and zNext[i] = sum_x out[x] w_i(x).
 * The caller passes c[i] = q_i / Z_i (per-sample) or a one-hot c (per-generation). The factor
 * (1 - lambda) is folded into c first: out = p * (sum_i c'_i w_i) [+ lambda pData].
 * Zero blocks (blocks.ts): flagsIn are p's flags, flagsOut out's (updated here), dataFlags
 * pData's; pass 0 for all three to run dense. Either way the result has the same bits.
 * For m <= 8 out may be p (and flagsOut flagsIn): each atom and flag is read before it is
 * written. Not for m > 8: kinfStepM builds the multiplier in out before it reads p.
 */
export function kinfStep(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, m: i32,
  cPtr: usize, zNextPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  if (m == 1) return kinfStep1(pPtr, outPtr, wPtr, n, cPtr, zNextPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
  if (m == 2) return kinfStep2(pPtr, outPtr, wPtr, n, cPtr, zNextPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
  if (m <= FUSED_MAX_M) return kinfStepFused(pPtr, outPtr, wPtr, n, n, m, cPtr, zNextPtr, 0, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
  return kinfStepM(pPtr, outPtr, wPtr, n, m, cPtr, zNextPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

/**
 * One K = infinity generation (3 <= m <= 8: the fused step's arithmetic, real data mixed in with
 * weight lambda from pData and its flags dataFlags) on `count` atoms of a grid whose weight rows
 * are `stride` atoms long: the whole grid, or a run of whole chunks of it (pointers to its first
 * atom; count odd only where it ends the grid), as the engine's thread or a pass-split thread
 * runs it. Writes per chunk of PASS_CHUNK atoms (partPtr, STEP_PARTS f64 each) Z_0 .. Z_{m-1} of
 * out (unused slots 0) and its mass; zNext and the result are those sums added in chunk order.
 * NaN for an m the fused step does not take. out may be p (and flagsOut flagsIn): each atom and
 * flag is read before it is written.
 */
export function kinfStepRange(
  pPtr: usize, outPtr: usize, wPtr: usize, count: i32, stride: i32, m: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  if (m < 3 || m > FUSED_MAX_M) return NaN;
  return kinfStepFused(pPtr, outPtr, wPtr, count, stride, m, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

/** Flags the block of a computed tail atom (n odd) live when it holds mass. */
@inline
function flagTail(flagsOut: usize, n: i32, out: f64): void {
  if (flagsOut != 0 && out != 0) store<u8>(flagsOut + <usize>((n - 1) >> ZB_SHIFT), 1);
}

function kinfStep1(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32,
  cPtr: usize, zNextPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  const keep = 1 - lambda;
  const c0 = keep * load<f64>(cPtr);
  const vc0 = f64x2.splat(c0);
  const vl = f64x2.splat(lambda);
  const mix = lambda != 0;
  let z0 = f64x2.splat(0);
  let s = f64x2.splat(0);
  const even = n & ~1;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    const x0 = b << ZB_SHIFT;
    if (!liveMixed(flagsIn, dataFlags, mix, b)) {
      if (flagsOut != 0) clearDead(outPtr, flagsOut, b, x0, min(x0 + ZB, n));
      continue;
    }
    const x1 = min(x0 + ZB, even);
    let nz = f64x2.splat(0);
    for (let x = x0; x < x1; x += 2) {
      const o = <usize>x << 3;
      const w0 = v128.load(wPtr + o);
      let out = f64x2.mul(v128.load(pPtr + o), f64x2.mul(vc0, w0));
      if (mix) out = f64x2.add(out, f64x2.mul(vl, v128.load(pDataPtr + o)));
      v128.store(outPtr + o, out);
      nz = v128.or(nz, out);
      z0 = f64x2.add(z0, f64x2.mul(out, w0));
      s = f64x2.add(s, out);
    }
    if (flagsOut != 0) store<u8>(flagsOut + <usize>b, v128.any_true(nz) ? 1 : 0);
  }
  let zs = f64x2.extract_lane(z0, 0) + f64x2.extract_lane(z0, 1);
  let ss = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (even < n) {
    const o = <usize>even << 3;
    const w0 = load<f64>(wPtr + o);
    let out = load<f64>(pPtr + o) * (c0 * w0);
    if (mix) out += lambda * load<f64>(pDataPtr + o);
    store<f64>(outPtr + o, out);
    flagTail(flagsOut, n, out);
    zs += out * w0;
    ss += out;
  }
  store<f64>(zNextPtr, zs);
  return ss;
}

function kinfStep2(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32,
  cPtr: usize, zNextPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  const keep = 1 - lambda;
  const c0 = keep * load<f64>(cPtr);
  const c1 = keep * load<f64>(cPtr, 8);
  const vc0 = f64x2.splat(c0);
  const vc1 = f64x2.splat(c1);
  const vl = f64x2.splat(lambda);
  const mix = lambda != 0;
  const w1Ptr = wPtr + (<usize>n << 3);
  let z0 = f64x2.splat(0);
  let z1 = f64x2.splat(0);
  let s = f64x2.splat(0);
  const even = n & ~1;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    const x0 = b << ZB_SHIFT;
    if (!liveMixed(flagsIn, dataFlags, mix, b)) {
      if (flagsOut != 0) clearDead(outPtr, flagsOut, b, x0, min(x0 + ZB, n));
      continue;
    }
    const x1 = min(x0 + ZB, even);
    let nz = f64x2.splat(0);
    for (let x = x0; x < x1; x += 2) {
      const o = <usize>x << 3;
      const w0 = v128.load(wPtr + o);
      const w1 = v128.load(w1Ptr + o);
      const mult = f64x2.add(f64x2.mul(vc0, w0), f64x2.mul(vc1, w1));
      let out = f64x2.mul(v128.load(pPtr + o), mult);
      if (mix) out = f64x2.add(out, f64x2.mul(vl, v128.load(pDataPtr + o)));
      v128.store(outPtr + o, out);
      nz = v128.or(nz, out);
      z0 = f64x2.add(z0, f64x2.mul(out, w0));
      z1 = f64x2.add(z1, f64x2.mul(out, w1));
      s = f64x2.add(s, out);
    }
    if (flagsOut != 0) store<u8>(flagsOut + <usize>b, v128.any_true(nz) ? 1 : 0);
  }
  let zs0 = f64x2.extract_lane(z0, 0) + f64x2.extract_lane(z0, 1);
  let zs1 = f64x2.extract_lane(z1, 0) + f64x2.extract_lane(z1, 1);
  let ss = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (even < n) {
    const o = <usize>even << 3;
    const w0 = load<f64>(wPtr + o);
    const w1 = load<f64>(w1Ptr + o);
    let out = load<f64>(pPtr + o) * (c0 * w0 + c1 * w1);
    if (mix) out += lambda * load<f64>(pDataPtr + o);
    store<f64>(outPtr + o, out);
    flagTail(flagsOut, n, out);
    zs0 += out * w0;
    zs1 += out * w1;
    ss += out;
  }
  store<f64>(zNextPtr, zs0);
  store<f64>(zNextPtr, zs1, 8);
  return ss;
}

// General m (m > FUSED_MAX_M; fusedStep below does 3 <= m <= 8 in one sweep, with the same
// arithmetic): per block of atoms, out first holds sum_i c'_i w_i (rows streamed two at a time),
// then the mixed mass, then the block's rows are reread (from cache) two at a time for the Z
// accumulations (two independent chains). zNext doubles as the accumulator array. Each pass
// walks the BLOCK's live zero blocks only (BLOCK is a multiple of ZB).
function kinfStepM(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, m: i32,
  cPtr: usize, zNextPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  const keep = 1 - lambda;
  const vl = f64x2.splat(lambda);
  const mix = lambda != 0;
  const rowBytes = <usize>n << 3;
  for (let i = 0; i < m; i++) store<f64>(zNextPtr + (<usize>i << 3), 0);
  let s = f64x2.splat(0);
  let sTail: f64 = 0;
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const b1 = min(b0 + BLOCK, n);
    const even = b0 + ((b1 - b0) & ~1);
    // Dead zero blocks of this BLOCK read as zeros in out; the passes below skip them.
    let anyLive = false;
    for (let x0 = b0; x0 < b1; x0 += ZB) {
      const zb = x0 >> ZB_SHIFT;
      if (liveMixed(flagsIn, dataFlags, mix, zb)) anyLive = true;
      else if (flagsOut != 0) clearDead(outPtr, flagsOut, zb, x0, min(x0 + ZB, n));
    }
    if (!anyLive) continue;
    // out = c'_0 w_0 + c'_1 w_1 (m >= 3 here)
    {
      const c0 = keep * load<f64>(cPtr);
      const c1 = keep * load<f64>(cPtr, 8);
      const vc0 = f64x2.splat(c0);
      const vc1 = f64x2.splat(c1);
      const row1 = wPtr + rowBytes;
      for (let x0 = b0; x0 < even; x0 += ZB) {
        if (!liveMixed(flagsIn, dataFlags, mix, x0 >> ZB_SHIFT)) continue;
        const x1 = min(x0 + ZB, even);
        for (let x = x0; x < x1; x += 2) {
          const o = <usize>x << 3;
          v128.store(outPtr + o, f64x2.add(f64x2.mul(vc0, v128.load(wPtr + o)), f64x2.mul(vc1, v128.load(row1 + o))));
        }
      }
      if (even < b1) {
        const o = <usize>even << 3;
        store<f64>(outPtr + o, c0 * load<f64>(wPtr + o) + c1 * load<f64>(row1 + o));
      }
    }
    // out += c'_i w_i (+ c'_{i+1} w_{i+1}), in the order of the twin: ((out + a) + b)
    let i = 2;
    for (; i + 1 < m; i += 2) {
      const ca = keep * load<f64>(cPtr + (<usize>i << 3));
      const cb = keep * load<f64>(cPtr + (<usize>(i + 1) << 3));
      const vca = f64x2.splat(ca);
      const vcb = f64x2.splat(cb);
      const ra = wPtr + <usize>i * rowBytes;
      const rb = ra + rowBytes;
      for (let x0 = b0; x0 < even; x0 += ZB) {
        if (!liveMixed(flagsIn, dataFlags, mix, x0 >> ZB_SHIFT)) continue;
        const x1 = min(x0 + ZB, even);
        for (let x = x0; x < x1; x += 2) {
          const o = <usize>x << 3;
          const t = f64x2.add(v128.load(outPtr + o), f64x2.mul(vca, v128.load(ra + o)));
          v128.store(outPtr + o, f64x2.add(t, f64x2.mul(vcb, v128.load(rb + o))));
        }
      }
      if (even < b1) {
        const o = <usize>even << 3;
        store<f64>(outPtr + o, load<f64>(outPtr + o) + ca * load<f64>(ra + o) + cb * load<f64>(rb + o));
      }
    }
    if (i < m) {
      const c = keep * load<f64>(cPtr + (<usize>i << 3));
      const vc = f64x2.splat(c);
      const row = wPtr + <usize>i * rowBytes;
      for (let x0 = b0; x0 < even; x0 += ZB) {
        if (!liveMixed(flagsIn, dataFlags, mix, x0 >> ZB_SHIFT)) continue;
        const x1 = min(x0 + ZB, even);
        for (let x = x0; x < x1; x += 2) {
          const o = <usize>x << 3;
          v128.store(outPtr + o, f64x2.add(v128.load(outPtr + o), f64x2.mul(vc, v128.load(row + o))));
        }
      }
      if (even < b1) {
        const o = <usize>even << 3;
        store<f64>(outPtr + o, load<f64>(outPtr + o) + c * load<f64>(row + o));
      }
    }
    // out = p * out [+ lambda pData]
    for (let x0 = b0; x0 < even; x0 += ZB) {
      const zb = x0 >> ZB_SHIFT;
      if (!liveMixed(flagsIn, dataFlags, mix, zb)) continue;
      const x1 = min(x0 + ZB, even);
      let nz = f64x2.splat(0);
      for (let x = x0; x < x1; x += 2) {
        const o = <usize>x << 3;
        let out = f64x2.mul(v128.load(pPtr + o), v128.load(outPtr + o));
        if (mix) out = f64x2.add(out, f64x2.mul(vl, v128.load(pDataPtr + o)));
        v128.store(outPtr + o, out);
        nz = v128.or(nz, out);
        s = f64x2.add(s, out);
      }
      if (flagsOut != 0) store<u8>(flagsOut + <usize>zb, v128.any_true(nz) ? 1 : 0);
    }
    if (even < b1) {
      const o = <usize>even << 3;
      let out = load<f64>(pPtr + o) * load<f64>(outPtr + o);
      if (mix) out += lambda * load<f64>(pDataPtr + o);
      store<f64>(outPtr + o, out);
      flagTail(flagsOut, n, out);
      sTail += out;
    }
    // zNext_i += sum_{x in block} out[x] w_i(x), two rows per pass
    for (let g = 0; g < m; g += 2) {
      const two = g + 1 < m;
      const ra = wPtr + <usize>g * rowBytes;
      const rb = two ? ra + rowBytes : ra;
      let za = f64x2.splat(0);
      let zb = f64x2.splat(0);
      for (let x0 = b0; x0 < even; x0 += ZB) {
        if (!liveMixed(flagsIn, dataFlags, mix, x0 >> ZB_SHIFT)) continue;
        const x1 = min(x0 + ZB, even);
        for (let x = x0; x < x1; x += 2) {
          const o = <usize>x << 3;
          const out = v128.load(outPtr + o);
          za = f64x2.add(za, f64x2.mul(out, v128.load(ra + o)));
          zb = f64x2.add(zb, f64x2.mul(out, v128.load(rb + o)));
        }
      }
      let sa = f64x2.extract_lane(za, 0) + f64x2.extract_lane(za, 1);
      let sb = f64x2.extract_lane(zb, 0) + f64x2.extract_lane(zb, 1);
      if (even < b1) {
        const o = <usize>even << 3;
        sa += load<f64>(outPtr + o) * load<f64>(ra + o);
        sb += load<f64>(outPtr + o) * load<f64>(rb + o);
      }
      const za0 = zNextPtr + (<usize>g << 3);
      store<f64>(za0, load<f64>(za0) + sa);
      if (two) store<f64>(za0, load<f64>(za0, 8) + sb, 8);
    }
  }
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1) + sTail;
}

// Two-generation passes sum per chunk of PASS_CHUNK atoms and the engine adds the chunks' sums
// in chunk order: the same bits whether one thread runs every chunk or several threads run
// contiguous runs of chunks (src/node/pass-split.ts). PASS_CHUNK is part of the arithmetic.
const PASS_CHUNK_SHIFT: i32 = 16;
const PASS_CHUNK: i32 = 1 << PASS_CHUNK_SHIFT;
/** Partial sums per chunk of a two-generation pass: Z_0, Z_1, M00, M01, M11, the mass. */
const PASS_PARTS: i32 = 6;
/** Partial sums per chunk of a one-generation step (fusedStep, m <= 8): Z_0 .. Z_7, the mass. */
const STEP_PARTS: i32 = 9;

/** Returns the number of chunks of n atoms (partial sums kinfStep2x2 and secondMoments2 write). */
export function passChunks(n: i32): i32 {
  return (n + PASS_CHUNK - 1) >> PASS_CHUNK_SHIFT;
}

/**
 * Two K = infinity generations in one memory pass, in place (m = 2, lambda = 0, per-sample), for
 * grids large enough to be bound by memory traffic. With c_t = q / Z_t (cPtr) and d = q / Z_{t+1}
 * (dPtr), where the caller takes Z_{t+1,i} = sum_j c_j M_t[i][j] from the second moments
 * M_t[i][j] = sum_x p_t(x) w_i(x) w_j(x) of the pass that wrote p_t:
 *   p <- p (c_0 w_0 + c_1 w_1) (d_0 w_0 + d_1 w_1) = p_{t+2},
 * and writes per chunk of PASS_CHUNK atoms (partPtr, PASS_PARTS f64 each) its sums Z_{t+2,0},
 * Z_{t+2,1}, M00, M01, M11 of p_{t+2} and its mass. The atoms may be a run of whole chunks of a
 * larger grid (pointers to its first atom; an odd n only when it ends the grid). Zero-block
 * flags (blocks.ts) are read and rewritten in place (0: dense).
 */
export function kinfStep2x2(
  pPtr: usize, w0Ptr: usize, w1Ptr: usize, n: i32,
  cPtr: usize, dPtr: usize, partPtr: usize, flags: usize,
): void {
  const vc0 = f64x2.splat(load<f64>(cPtr));
  const vc1 = f64x2.splat(load<f64>(cPtr, 8));
  const vd0 = f64x2.splat(load<f64>(dPtr));
  const vd1 = f64x2.splat(load<f64>(dPtr, 8));
  const even = n & ~1;
  const chunks = passChunks(n);
  for (let k = 0; k < chunks; k++) {
    const xs = k << PASS_CHUNK_SHIFT;
    const xe = min(xs + PASS_CHUNK, n);
    let z0 = f64x2.splat(0);
    let z1 = f64x2.splat(0);
    let m00 = f64x2.splat(0);
    let m01 = f64x2.splat(0);
    let m11 = f64x2.splat(0);
    let s = f64x2.splat(0);
    const b1 = (xe + ZB - 1) >> ZB_SHIFT;
    for (let b = xs >> ZB_SHIFT; b < b1; b++) {
      if (flags != 0 && load<u8>(flags + <usize>b) == 0) continue;
      const x0 = b << ZB_SHIFT;
      const x1 = min(x0 + ZB, even);
      let nz = f64x2.splat(0);
      for (let x = x0; x < x1; x += 2) {
        const o = <usize>x << 3;
        const w0 = v128.load(w0Ptr + o);
        const w1 = v128.load(w1Ptr + o);
        const g0 = f64x2.add(f64x2.mul(vc0, w0), f64x2.mul(vc1, w1));
        const g1 = f64x2.add(f64x2.mul(vd0, w0), f64x2.mul(vd1, w1));
        const out = f64x2.mul(f64x2.mul(v128.load(pPtr + o), g0), g1);
        v128.store(pPtr + o, out);
        nz = v128.or(nz, out);
        const a0 = f64x2.mul(out, w0);
        const a1 = f64x2.mul(out, w1);
        z0 = f64x2.add(z0, a0);
        z1 = f64x2.add(z1, a1);
        m00 = f64x2.add(m00, f64x2.mul(a0, w0));
        m01 = f64x2.add(m01, f64x2.mul(a0, w1));
        m11 = f64x2.add(m11, f64x2.mul(a1, w1));
        s = f64x2.add(s, out);
      }
      if (flags != 0) store<u8>(flags + <usize>b, v128.any_true(nz) ? 1 : 0);
    }
    let zs0 = f64x2.extract_lane(z0, 0) + f64x2.extract_lane(z0, 1);
    let zs1 = f64x2.extract_lane(z1, 0) + f64x2.extract_lane(z1, 1);
    let ms00 = f64x2.extract_lane(m00, 0) + f64x2.extract_lane(m00, 1);
    let ms01 = f64x2.extract_lane(m01, 0) + f64x2.extract_lane(m01, 1);
    let ms11 = f64x2.extract_lane(m11, 0) + f64x2.extract_lane(m11, 1);
    let ss = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    if (xe == n && even < n) {
      const o = <usize>even << 3;
      const w0 = load<f64>(w0Ptr + o);
      const w1 = load<f64>(w1Ptr + o);
      const out = load<f64>(pPtr + o) * (load<f64>(cPtr) * w0 + load<f64>(cPtr, 8) * w1) * (load<f64>(dPtr) * w0 + load<f64>(dPtr, 8) * w1);
      store<f64>(pPtr + o, out);
      flagTail(flags, n, out);
      zs0 += out * w0;
      zs1 += out * w1;
      ms00 += out * w0 * w0;
      ms01 += out * w0 * w1;
      ms11 += out * w1 * w1;
      ss += out;
    }
    const part = partPtr + <usize>k * <usize>(PASS_PARTS << 3);
    store<f64>(part, zs0);
    store<f64>(part, zs1, 8);
    store<f64>(part, ms00, 16);
    store<f64>(part, ms01, 24);
    store<f64>(part, ms11, 32);
    store<f64>(part, ss, 40);
  }
}

/**
 * M[i][j] = sum_x p(x) w_i(x) w_j(x) for m = 2 (the start of two-generation passes): per chunk of
 * PASS_CHUNK atoms, (M00, M01, M11) at PASS_PARTS f64 apart from partPtr (the layout of kinfStep2x2).
 */
export function secondMoments2(pPtr: usize, w0Ptr: usize, w1Ptr: usize, n: i32, flags: usize, partPtr: usize): void {
  const chunks = passChunks(n);
  for (let k = 0; k < chunks; k++) {
    const xe = min((k + 1) << PASS_CHUNK_SHIFT, n);
    let m00: f64 = 0;
    let m01: f64 = 0;
    let m11: f64 = 0;
    const b1 = (xe + ZB - 1) >> ZB_SHIFT;
    for (let b = (k << PASS_CHUNK_SHIFT) >> ZB_SHIFT; b < b1; b++) {
      if (flags != 0 && load<u8>(flags + <usize>b) == 0) continue;
      const x1 = min((b + 1) << ZB_SHIFT, xe);
      for (let x = b << ZB_SHIFT; x < x1; x++) {
        const o = <usize>x << 3;
        const a0 = load<f64>(pPtr + o) * load<f64>(w0Ptr + o);
        const w1 = load<f64>(w1Ptr + o);
        m00 += a0 * load<f64>(w0Ptr + o);
        m01 += a0 * w1;
        m11 += load<f64>(pPtr + o) * w1 * w1;
      }
    }
    const part = partPtr + <usize>k * <usize>(PASS_PARTS << 3);
    store<f64>(part, m00, 16);
    store<f64>(part, m01, 24);
    store<f64>(part, m11, 32);
  }
}

/** The largest m of the fused general step (its per-group accumulators are registers); kinfStepM takes larger m. */
const FUSED_MAX_M: i32 = 8;

// The fused general step, one function per m (and per lambda = 0 or not), each compiled with its
// constants: binaryen would otherwise fold the copies back into one body with runtime tests.
function kinfStepFused(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32, m: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  if (lambda != 0) {
    switch (m) {
      case 3: return fused3Mix(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
      case 4: return fused4Mix(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
      case 5: return fused5Mix(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
      case 6: return fused6Mix(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
      case 7: return fused7Mix(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
      default: return fused8Mix(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
    }
  }
  switch (m) {
    case 3: return fused3(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
    case 4: return fused4(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
    case 5: return fused5(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
    case 6: return fused6(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
    case 7: return fused7(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
    default: return fused8(pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
  }
}

function fused3(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(3, false, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused3Mix(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(3, true, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused4(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(4, false, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused4Mix(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(4, true, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused5(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(5, false, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused5Mix(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(5, true, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused6(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(6, false, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused6Mix(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(6, true, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused7(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(7, false, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused7Mix(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(7, true, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused8(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(8, false, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

function fused8Mix(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  return fusedStep(8, true, pPtr, outPtr, wPtr, n, stride, cPtr, zNextPtr, partPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
}

// The general step for a constant M (3..8) in one sweep over the atoms, per zero block of a
// BLOCK: first g = ((c'_0 w_0 + c'_1 w_1) + c'_2 w_2) ... and out = p g [+ lambda pData] (and
// the total mass), then the block's Z accumulations, rereading out and the rows from L1 cache:
// one loop for m <= 7, two loops of four groups for m = 8 (groups [0, H) and [H, M)), since with
// eight accumulators and eight loaded rows in one loop V8 spills an accumulator to the stack
// (measured in cache: m = 8 1.2x slower in one loop, m = 5 to 7 slightly faster in one). Each
// group's accumulator still runs over the BLOCK's live atoms in order and is folded per BLOCK
// into its chunk's sum (PASS_CHUNK atoms; the mass's two lanes run over the chunk), and the
// chunks' sums into zNext and the result in chunk order, kept per chunk at partPtr when it is
// not 0, so threads can each run a run of whole chunks (kinfStepRange). On a grid of one chunk
// this is the arithmetic, so every bit, of kinfStepM, which folds every BLOCK into zNext.
@inline
function fusedStep(
  M: i32, MIX: bool,
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, stride: i32,
  cPtr: usize, zNextPtr: usize, partPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  const keep = 1 - lambda;
  const c0 = keep * load<f64>(cPtr);
  const c1 = keep * load<f64>(cPtr, 8);
  const c2 = keep * load<f64>(cPtr, 16);
  const c3 = M > 3 ? keep * load<f64>(cPtr, 24) : 0;
  const c4 = M > 4 ? keep * load<f64>(cPtr, 32) : 0;
  const c5 = M > 5 ? keep * load<f64>(cPtr, 40) : 0;
  const c6 = M > 6 ? keep * load<f64>(cPtr, 48) : 0;
  const c7 = M > 7 ? keep * load<f64>(cPtr, 56) : 0;
  const vc0 = f64x2.splat(c0);
  const vc1 = f64x2.splat(c1);
  const vc2 = f64x2.splat(c2);
  const vc3 = f64x2.splat(c3);
  const vc4 = f64x2.splat(c4);
  const vc5 = f64x2.splat(c5);
  const vc6 = f64x2.splat(c6);
  const vc7 = f64x2.splat(c7);
  const vl = f64x2.splat(lambda);
  // Groups [0, H) in the first Z loop, [H, M) in the second.
  const H: i32 = M < 8 ? M : 4;
  const rowBytes = <usize>stride << 3;
  const r0 = wPtr;
  const r1 = r0 + rowBytes;
  const r2 = r1 + rowBytes;
  const r3 = r2 + rowBytes;
  const r4 = r3 + rowBytes;
  const r5 = r4 + rowBytes;
  const r6 = r5 + rowBytes;
  const r7 = r6 + rowBytes;
  for (let i = 0; i < M; i++) store<f64>(zNextPtr + (<usize>i << 3), 0);
  let total: f64 = 0;
  for (let k0 = 0; k0 < n; k0 += PASS_CHUNK) {
    const k1 = min(k0 + PASS_CHUNK, n);
    let s = f64x2.splat(0);
    let sTail: f64 = 0;
    let y0: f64 = 0;
    let y1: f64 = 0;
    let y2: f64 = 0;
    let y3: f64 = 0;
    let y4: f64 = 0;
    let y5: f64 = 0;
    let y6: f64 = 0;
    let y7: f64 = 0;
    for (let b0 = k0; b0 < k1; b0 += BLOCK) {
      const b1 = min(b0 + BLOCK, k1);
      const even = b0 + ((b1 - b0) & ~1);
      let z0 = f64x2.splat(0);
      let z1 = f64x2.splat(0);
      let z2 = f64x2.splat(0);
      let z3 = f64x2.splat(0);
      let z4 = f64x2.splat(0);
      let z5 = f64x2.splat(0);
      let z6 = f64x2.splat(0);
      let z7 = f64x2.splat(0);
      let anyLive = false;
      for (let x0 = b0; x0 < b1; x0 += ZB) {
        const zb = x0 >> ZB_SHIFT;
        if (!liveMixed(flagsIn, dataFlags, MIX, zb)) {
          if (flagsOut != 0) clearDead(outPtr, flagsOut, zb, x0, min(x0 + ZB, n));
          continue;
        }
        anyLive = true;
        if (x0 >= even) continue; // only the odd tail atom, done below
        const x1 = min(x0 + ZB, even);
        let nz = f64x2.splat(0);
        for (let x = x0; x < x1; x += 2) {
          const o = <usize>x << 3;
          let g = f64x2.add(f64x2.mul(vc0, v128.load(r0 + o)), f64x2.mul(vc1, v128.load(r1 + o)));
          g = f64x2.add(g, f64x2.mul(vc2, v128.load(r2 + o)));
          if (M > 3) g = f64x2.add(g, f64x2.mul(vc3, v128.load(r3 + o)));
          if (M > 4) g = f64x2.add(g, f64x2.mul(vc4, v128.load(r4 + o)));
          if (M > 5) g = f64x2.add(g, f64x2.mul(vc5, v128.load(r5 + o)));
          if (M > 6) g = f64x2.add(g, f64x2.mul(vc6, v128.load(r6 + o)));
          if (M > 7) g = f64x2.add(g, f64x2.mul(vc7, v128.load(r7 + o)));
          let out = f64x2.mul(v128.load(pPtr + o), g);
          if (MIX) out = f64x2.add(out, f64x2.mul(vl, v128.load(pDataPtr + o)));
          v128.store(outPtr + o, out);
          nz = v128.or(nz, out);
          s = f64x2.add(s, out);
        }
        if (flagsOut != 0) store<u8>(flagsOut + <usize>zb, v128.any_true(nz) ? 1 : 0);
        {
          for (let x = x0; x < x1; x += 2) {
            const o = <usize>x << 3;
            const out = v128.load(outPtr + o);
            if (H > 0 && M > 0) z0 = f64x2.add(z0, f64x2.mul(out, v128.load(r0 + o)));
            if (H > 1 && M > 1) z1 = f64x2.add(z1, f64x2.mul(out, v128.load(r1 + o)));
            if (H > 2 && M > 2) z2 = f64x2.add(z2, f64x2.mul(out, v128.load(r2 + o)));
            if (H > 3 && M > 3) z3 = f64x2.add(z3, f64x2.mul(out, v128.load(r3 + o)));
            if (H > 4 && M > 4) z4 = f64x2.add(z4, f64x2.mul(out, v128.load(r4 + o)));
            if (H > 5 && M > 5) z5 = f64x2.add(z5, f64x2.mul(out, v128.load(r5 + o)));
            if (H > 6 && M > 6) z6 = f64x2.add(z6, f64x2.mul(out, v128.load(r6 + o)));
            if (H > 7 && M > 7) z7 = f64x2.add(z7, f64x2.mul(out, v128.load(r7 + o)));
          }
        }
        if (M > H) {
          for (let x = x0; x < x1; x += 2) {
            const o = <usize>x << 3;
            const out = v128.load(outPtr + o);
            if (0 >= H && M > 0) z0 = f64x2.add(z0, f64x2.mul(out, v128.load(r0 + o)));
            if (1 >= H && M > 1) z1 = f64x2.add(z1, f64x2.mul(out, v128.load(r1 + o)));
            if (2 >= H && M > 2) z2 = f64x2.add(z2, f64x2.mul(out, v128.load(r2 + o)));
            if (3 >= H && M > 3) z3 = f64x2.add(z3, f64x2.mul(out, v128.load(r3 + o)));
            if (4 >= H && M > 4) z4 = f64x2.add(z4, f64x2.mul(out, v128.load(r4 + o)));
            if (5 >= H && M > 5) z5 = f64x2.add(z5, f64x2.mul(out, v128.load(r5 + o)));
            if (6 >= H && M > 6) z6 = f64x2.add(z6, f64x2.mul(out, v128.load(r6 + o)));
            if (7 >= H && M > 7) z7 = f64x2.add(z7, f64x2.mul(out, v128.load(r7 + o)));
          }
        }
      }
      if (!anyLive) continue;
      let a0 = laneSum(z0);
      let a1 = laneSum(z1);
      let a2 = laneSum(z2);
      let a3 = laneSum(z3);
      let a4 = laneSum(z4);
      let a5 = laneSum(z5);
      let a6 = laneSum(z6);
      let a7 = laneSum(z7);
      if (even < b1) {
        // The odd tail atom (the last BLOCK of an odd n), in the same order.
        const o = <usize>even << 3;
        let g = c0 * load<f64>(r0 + o) + c1 * load<f64>(r1 + o);
        g += c2 * load<f64>(r2 + o);
        if (M > 3) g += c3 * load<f64>(r3 + o);
        if (M > 4) g += c4 * load<f64>(r4 + o);
        if (M > 5) g += c5 * load<f64>(r5 + o);
        if (M > 6) g += c6 * load<f64>(r6 + o);
        if (M > 7) g += c7 * load<f64>(r7 + o);
        let out = load<f64>(pPtr + o) * g;
        if (MIX) out += lambda * load<f64>(pDataPtr + o);
        store<f64>(outPtr + o, out);
        flagTail(flagsOut, n, out);
        sTail += out;
        a0 += out * load<f64>(r0 + o);
        a1 += out * load<f64>(r1 + o);
        a2 += out * load<f64>(r2 + o);
        if (M > 3) a3 += out * load<f64>(r3 + o);
        if (M > 4) a4 += out * load<f64>(r4 + o);
        if (M > 5) a5 += out * load<f64>(r5 + o);
        if (M > 6) a6 += out * load<f64>(r6 + o);
        if (M > 7) a7 += out * load<f64>(r7 + o);
      }
      y0 += a0;
      y1 += a1;
      y2 += a2;
      if (M > 3) y3 += a3;
      if (M > 4) y4 += a4;
      if (M > 5) y5 += a5;
      if (M > 6) y6 += a6;
      if (M > 7) y7 += a7;
    }
    // The chunk's sums, folded in chunk order (and kept per chunk for a split run).
    const mass = laneSum(s) + sTail;
    store<f64>(zNextPtr, load<f64>(zNextPtr) + y0);
    store<f64>(zNextPtr, load<f64>(zNextPtr, 8) + y1, 8);
    store<f64>(zNextPtr, load<f64>(zNextPtr, 16) + y2, 16);
    if (M > 3) store<f64>(zNextPtr, load<f64>(zNextPtr, 24) + y3, 24);
    if (M > 4) store<f64>(zNextPtr, load<f64>(zNextPtr, 32) + y4, 32);
    if (M > 5) store<f64>(zNextPtr, load<f64>(zNextPtr, 40) + y5, 40);
    if (M > 6) store<f64>(zNextPtr, load<f64>(zNextPtr, 48) + y6, 48);
    if (M > 7) store<f64>(zNextPtr, load<f64>(zNextPtr, 56) + y7, 56);
    total += mass;
    if (partPtr != 0) {
      const at = partPtr + ((<usize>(k0 >> PASS_CHUNK_SHIFT) * <usize>STEP_PARTS) << 3);
      store<f64>(at, y0);
      store<f64>(at, y1, 8);
      store<f64>(at, y2, 16);
      store<f64>(at, y3, 24);
      store<f64>(at, y4, 32);
      store<f64>(at, y5, 40);
      store<f64>(at, y6, 48);
      store<f64>(at, y7, 56);
      store<f64>(at, mass, 64);
    }
  }
  return total;
}

/** Lane 0 + lane 1 of an f64x2. */
@inline
function laneSum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}
