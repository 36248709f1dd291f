// The K = infinity curated update and the per-run weights (docs/model.md, sections 1 and 3).
// Arrays are f64, group-major: w[i * n + x]. Pointers are byte offsets the engine owns.
// Loops go two atoms per v128; rows of w start 8-aligned only (n may be odd), which Wasm's
// v128.load accepts (alignment is a hint).

import { ZB, ZB_SHIFT, zeroBlockCount, liveMixed, clearDead } from "./blocks";

// Atoms per block in the general-m step: 4096 atoms x (m rows + p + out) stay in L2 while
// the block's Z accumulations reread them, so memory is still streamed once.
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
 */
export function kinfStep(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32, m: i32,
  cPtr: usize, zNextPtr: usize, lambda: f64, pDataPtr: usize,
  flagsIn: usize, flagsOut: usize, dataFlags: usize,
): f64 {
  if (m == 1) return kinfStep1(pPtr, outPtr, wPtr, n, cPtr, zNextPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
  if (m == 2) return kinfStep2(pPtr, outPtr, wPtr, n, cPtr, zNextPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
  return kinfStepM(pPtr, outPtr, wPtr, n, m, cPtr, zNextPtr, lambda, pDataPtr, flagsIn, flagsOut, dataFlags);
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

// General m: per block of atoms, out first holds sum_i c'_i w_i (rows streamed two at a time),
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

/**
 * Two K = infinity generations in one memory pass (m = 2, lambda = 0, per-sample), for grids
 * large enough to be bound by memory traffic. With c_t = q / Z_t (cPtr) and d = q / Z_{t+1}
 * (dPtr), where the caller takes Z_{t+1,i} = sum_j c_j M_t[i][j] from the second moments
 * M_t[i][j] = sum_x p_t(x) w_i(x) w_j(x) of the pass that wrote p_t:
 *   out = p (c_0 w_0 + c_1 w_1) (d_0 w_0 + d_1 w_1) = p_{t+2},
 * and accumulates Z_{t+2} into zNextPtr[0..2) and M_{t+2} (M00, M01, M11) into mNextPtr[0..3).
 * Returns sum out. Zero-block flags as in kinfStep (0: dense).
 */
export function kinfStep2x2(
  pPtr: usize, outPtr: usize, wPtr: usize, n: i32,
  cPtr: usize, dPtr: usize, zNextPtr: usize, mNextPtr: usize,
  flagsIn: usize, flagsOut: usize,
): f64 {
  const vc0 = f64x2.splat(load<f64>(cPtr));
  const vc1 = f64x2.splat(load<f64>(cPtr, 8));
  const vd0 = f64x2.splat(load<f64>(dPtr));
  const vd1 = f64x2.splat(load<f64>(dPtr, 8));
  const w1Ptr = wPtr + (<usize>n << 3);
  let z0 = f64x2.splat(0);
  let z1 = f64x2.splat(0);
  let m00 = f64x2.splat(0);
  let m01 = f64x2.splat(0);
  let m11 = f64x2.splat(0);
  let s = f64x2.splat(0);
  const even = n & ~1;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    const x0 = b << ZB_SHIFT;
    if (flagsIn != 0 && load<u8>(flagsIn + <usize>b) == 0) {
      if (flagsOut != 0) clearDead(outPtr, flagsOut, b, x0, min(x0 + ZB, n));
      continue;
    }
    const x1 = min(x0 + ZB, even);
    let nz = f64x2.splat(0);
    for (let x = x0; x < x1; x += 2) {
      const o = <usize>x << 3;
      const w0 = v128.load(wPtr + o);
      const w1 = v128.load(w1Ptr + o);
      const g0 = f64x2.add(f64x2.mul(vc0, w0), f64x2.mul(vc1, w1));
      const g1 = f64x2.add(f64x2.mul(vd0, w0), f64x2.mul(vd1, w1));
      const out = f64x2.mul(f64x2.mul(v128.load(pPtr + o), g0), g1);
      v128.store(outPtr + o, out);
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
    if (flagsOut != 0) store<u8>(flagsOut + <usize>b, v128.any_true(nz) ? 1 : 0);
  }
  let zs0 = f64x2.extract_lane(z0, 0) + f64x2.extract_lane(z0, 1);
  let zs1 = f64x2.extract_lane(z1, 0) + f64x2.extract_lane(z1, 1);
  let ms00 = f64x2.extract_lane(m00, 0) + f64x2.extract_lane(m00, 1);
  let ms01 = f64x2.extract_lane(m01, 0) + f64x2.extract_lane(m01, 1);
  let ms11 = f64x2.extract_lane(m11, 0) + f64x2.extract_lane(m11, 1);
  let ss = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  if (even < n) {
    const o = <usize>even << 3;
    const w0 = load<f64>(wPtr + o);
    const w1 = load<f64>(w1Ptr + o);
    const out = load<f64>(pPtr + o) * (load<f64>(cPtr) * w0 + load<f64>(cPtr, 8) * w1) * (load<f64>(dPtr) * w0 + load<f64>(dPtr, 8) * w1);
    store<f64>(outPtr + o, out);
    flagTail(flagsOut, n, out);
    zs0 += out * w0;
    zs1 += out * w1;
    ms00 += out * w0 * w0;
    ms01 += out * w0 * w1;
    ms11 += out * w1 * w1;
    ss += out;
  }
  store<f64>(zNextPtr, zs0);
  store<f64>(zNextPtr, zs1, 8);
  store<f64>(mNextPtr, ms00);
  store<f64>(mNextPtr, ms01, 8);
  store<f64>(mNextPtr, ms11, 16);
  return ss;
}

/** M[i][j] = sum_x p(x) w_i(x) w_j(x) for m = 2 into mPtr as (M00, M01, M11) (the start of two-generation passes). */
export function secondMoments2(pPtr: usize, wPtr: usize, n: i32, flags: usize, mPtr: usize): void {
  const w1Ptr = wPtr + (<usize>n << 3);
  let m00: f64 = 0;
  let m01: f64 = 0;
  let m11: f64 = 0;
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    if (flags != 0 && load<u8>(flags + <usize>b) == 0) continue;
    const x1 = min((b + 1) << ZB_SHIFT, n);
    for (let x = b << ZB_SHIFT; x < x1; x++) {
      const o = <usize>x << 3;
      const a0 = load<f64>(pPtr + o) * load<f64>(wPtr + o);
      const w1 = load<f64>(w1Ptr + o);
      m00 += a0 * load<f64>(wPtr + o);
      m01 += a0 * w1;
      m11 += load<f64>(pPtr + o) * w1 * w1;
    }
  }
  store<f64>(mPtr, m00);
  store<f64>(mPtr, m01, 8);
  store<f64>(mPtr, m11, 16);
}
