// Kernels of the flow retraining model (docs/flow.md): a small MLP vector
// field v_theta(x, t) trained by conditional flow matching, its Adam optimiser, the ODE sampler
// and the minibatch optimal-transport coupling.
//
// The network works in f32, laid out for SIMD over the batch: every activation is stored
// feature-major (row f holds feature f of the Bs columns, Bs = B rounded up to 8), so a layer
// is a sum of (scalar weight) x (row of 4 columns) products with no horizontal step. Wasm f32
// arithmetic is IEEE (no fused multiply-add in plain SIMD) and every loop runs in a fixed
// order, so the bits depend only on the inputs: the same in any thread and engine. Padding
// columns hold zero inputs and get zero loss gradient, so they never touch the weights.
//
// Network descriptor (i32 at desc): [dim, act, L, w_0, ..., w_L]; w_0 = dim + TIME_FEATURES,
// w_L = dim, act 0 = SiLU, 1 = tanh. Parameters (f32): layer l's W_l (w_{l+1} x w_l,
// row-major) then b_l (w_{l+1}), layer after layer. Gradients and Adam moments share that
// layout. Only this file knows the work layout: the engine asks flowWorkBytes for its size.
//
// Random draws (Philox, ./prng) with key (seed, stream):
//   initialisation      block (j >> 2, 0, TAG_INIT, 0), word j & 3, parameter j
//   training example j  (step, j, TAG_FLOW_BATCH, 0): index (r0, r1), t (r2, r3);
//                       (step, j, TAG_FLOW_BATCH, 1): source noise by Box-Muller
//   sampled point       (c0, c1, tag, attempt) with (c0, c1) chosen by the caller per point

import { philox, r0, r1, r2, r3, toUnit53, INV_2_32, TAG_INIT, TAG_GROUP } from "./prng";

/** Sinusoidal features of t: sin and cos of pi 2^k t for k < 4. */
const TIME_FEATURES: i32 = 8;
const TAG_FLOW_BATCH: u32 = 0x464c0001;
const TAG_FLOW_CANDIDATE: u32 = 0x464c0002;
const TAG_FLOW_FRESH: u32 = 0x464c0003;
const TAG_FLOW_POOL: u32 = 0x464c0004;
const PI: f64 = 3.141592653589793;

/** Tag of candidate points (curation), fresh points (metrics) or pool points (K = infinity): which = 0, 1, 2. */
export function flowTag(which: i32): u32 {
  return which == 0 ? TAG_FLOW_CANDIDATE : which == 1 ? TAG_FLOW_FRESH : TAG_FLOW_POOL;
}

/** Number of sinusoidal time features the network reads besides x. */
export function flowTimeFeatures(): i32 {
  return TIME_FEATURES;
}

// @ts-ignore: decorator
@inline
function dimOf(desc: usize): i32 {
  return load<i32>(desc);
}
// @ts-ignore: decorator
@inline
function actOf(desc: usize): i32 {
  return load<i32>(desc, 4);
}
// @ts-ignore: decorator
@inline
function layersOf(desc: usize): i32 {
  return load<i32>(desc, 8);
}
// @ts-ignore: decorator
@inline
function widthOf(desc: usize, l: i32): i32 {
  return load<i32>(desc + (<usize>(3 + l) << 2));
}

// @ts-ignore: decorator
@inline
function padCols(B: i32): i32 {
  return (B + 7) & ~7;
}

// @ts-ignore: decorator
@inline
function align16(bytes: usize): usize {
  return (bytes + 15) & ~(<usize>15);
}

/** Number of f32 parameters of the network. */
export function flowParamCount(desc: usize): i32 {
  let P = 0;
  for (let l = 0; l < layersOf(desc); l++) P += widthOf(desc, l + 1) * (widthOf(desc, l) + 1);
  return P;
}

function maxWidth(desc: usize): i32 {
  let w = 0;
  for (let l = 0; l <= layersOf(desc); l++) w = max(w, widthOf(desc, l));
  return w;
}

// Work regions, in order, rows of padCols(B) f32: X0 (w_0 rows), per hidden layer Z, S, A (w_l
// rows each), V (dim), gradients G0 and G1 (max width each), t (1 row), target U, data X1, noise
// XN, Heun's K1, the sampler's points XS (dim rows each); the first layer's bias
// with the time features folded in (w_1 + 8 f32); then, when ot, the assignment scratch.
let offHidden: usize = 0;
let offV: usize = 0;
let offG0: usize = 0;
let offG1: usize = 0;
let offT: usize = 0;
let offU: usize = 0;
let offX1: usize = 0;
let offXN: usize = 0;
let offK1: usize = 0;
let offXS: usize = 0;
let offBias: usize = 0;
let offOt: usize = 0;
let offEnd: usize = 0;

function layout(desc: usize, B: i32): void {
  const dim = dimOf(desc);
  const row = <usize>padCols(B) << 2;
  let o: usize = align16(<usize>widthOf(desc, 0) * row);
  offHidden = o;
  for (let l = 1; l < layersOf(desc); l++) o += 3 * align16(<usize>widthOf(desc, l) * row);
  offV = o;
  o += align16(<usize>dim * row);
  const g = align16(<usize>maxWidth(desc) * row);
  offG0 = o;
  offG1 = o + g;
  o += 2 * g;
  offT = o;
  o += align16(row);
  offU = o;
  o += align16(<usize>dim * row);
  offX1 = o;
  o += align16(<usize>dim * row);
  offXN = o;
  o += align16(<usize>dim * row);
  offK1 = o;
  o += align16(<usize>dim * row);
  offXS = o;
  o += align16(<usize>dim * row);
  offBias = o;
  o += align16(<usize>(widthOf(desc, 1) + TIME_FEATURES) << 2);
  offOt = o;
  offEnd = o;
}

/** Bytes of assignment scratch for a batch of B: cost matrix, potentials, matching. */
function otBytes(B: i32): usize {
  const n = <usize>B + 1;
  return align16(<usize>B * <usize>B * 8) + 3 * align16(n * 8) + 3 * align16(n * 4) + 2 * align16(<usize>padCols(B) << 2);
}

/** Bytes of work memory for batches of up to B columns (ot != 0 adds the coupling scratch). */
export function flowWorkBytes(desc: usize, B: i32, ot: i32): usize {
  layout(desc, B);
  return offEnd + (ot != 0 ? otBytes(B) : 0);
}

/** Pointer (from work) of hidden layer l's region r (0 = Z, 1 = S, 2 = A), rows of Bs columns. */
function hidden(desc: usize, work: usize, B: i32, l: i32, r: i32): usize {
  const row = <usize>padCols(B) << 2;
  let o = offHidden;
  for (let k = 1; k < l; k++) o += 3 * align16(<usize>widthOf(desc, k) * row);
  return work + o + <usize>r * align16(<usize>widthOf(desc, l) * row);
}

/** Offset (f32 index) of layer l's weights in the parameters; its biases follow. */
function paramOffset(desc: usize, l: i32): i32 {
  let P = 0;
  for (let k = 0; k < l; k++) P += widthOf(desc, k + 1) * (widthOf(desc, k) + 1);
  return P;
}

/**
 * Initialises the parameters like PyTorch's nn.Linear: W and b of layer l uniform on
 * (-1/sqrt(w_l), 1/sqrt(w_l)), from the Philox block of each parameter index.
 */
export function flowInit(desc: usize, params: usize, seed: u32, stream: u32): void {
  let j = 0;
  for (let l = 0; l < layersOf(desc); l++) {
    const bound = <f32>(1.0 / Math.sqrt(<f64>widthOf(desc, l)));
    const count = widthOf(desc, l + 1) * (widthOf(desc, l) + 1);
    for (let k = 0; k < count; k++, j++) {
      philox(<u32>j >> 2, 0, TAG_INIT, 0, seed, stream);
      const lane = j & 3;
      const w = lane == 0 ? r0 : lane == 1 ? r1 : lane == 2 ? r2 : r3;
      const u = <f32>(<f64>w * INV_2_32);
      store<f32>(params + (<usize>j << 2), bound * (2 * u - 1));
    }
  }
}

/** Zeroes count f32 at ptr. */
export function flowZero(ptr: usize, count: i32): void {
  memory.fill(ptr, 0, <usize>count << 2);
}

// exp on four f32 lanes: Cody-Waite reduction by ln 2 and the Cephes expf polynomial
// (relative error about 2e-7 on the clamped range [-87, 88]); pure arithmetic, so the same
// bits in every engine. The clamp uses pmin/pmax (one instruction each; Wasm's min/max order
// NaN and -0 and take several), and n = round(x log2 e) comes from adding 1.5 x 2^23, whose
// low mantissa bits are then n itself: no round or float-to-int conversion instruction.
// @ts-ignore: decorator
@inline
function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const magic = f32x4.splat(12582912.0);
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(shifted, magic);
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // bits(shifted) = 0x4b400000 + n, so 2^n has bits (bits(shifted) - 0x4b400000 + 127) << 23.
  const scale = i32x4.shl(i32x4.sub(shifted, i32x4.splat(0x4b3fff81)), 23);
  return f32x4.mul(p, scale);
}

/** exp of four lanes (exported for the kernel tests). */
export function flowExp4(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

// Y = W X + b over Bs columns: blocks of 8 columns (outer, so the panel of X they read stays
// in the L1 cache) x 4 outputs (8 accumulators). W's rows are wstride floats apart.
function linearForward(W: usize, wstride: i32, bias: usize, X: usize, Y: usize, nin: i32, nout: i32, Bs: i32): void {
  const row = <usize>Bs << 2;
  const wrow = <usize>wstride << 2;
  for (let c = 0; c < Bs; c += 8) {
    const xc = X + (<usize>c << 2);
    const yc = Y + (<usize>c << 2);
    let o = 0;
    for (; o + 4 <= nout; o += 4) {
      const w0 = W + <usize>o * wrow, w1 = w0 + wrow, w2 = w1 + wrow, w3 = w2 + wrow;
      const b0 = f32x4.splat(load<f32>(bias + (<usize>o << 2)));
      const b1 = f32x4.splat(load<f32>(bias + (<usize>o << 2), 4));
      const b2 = f32x4.splat(load<f32>(bias + (<usize>o << 2), 8));
      const b3 = f32x4.splat(load<f32>(bias + (<usize>o << 2), 12));
      let a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2, a30 = b3, a31 = b3;
      let xp = xc;
      for (let i = 0; i < nin; i++, xp += row) {
        const x0 = v128.load(xp), x1 = v128.load(xp, 16);
        const iw = <usize>i << 2;
        let s = f32x4.splat(load<f32>(w0 + iw));
        a00 = f32x4.add(a00, f32x4.mul(s, x0));
        a01 = f32x4.add(a01, f32x4.mul(s, x1));
        s = f32x4.splat(load<f32>(w1 + iw));
        a10 = f32x4.add(a10, f32x4.mul(s, x0));
        a11 = f32x4.add(a11, f32x4.mul(s, x1));
        s = f32x4.splat(load<f32>(w2 + iw));
        a20 = f32x4.add(a20, f32x4.mul(s, x0));
        a21 = f32x4.add(a21, f32x4.mul(s, x1));
        s = f32x4.splat(load<f32>(w3 + iw));
        a30 = f32x4.add(a30, f32x4.mul(s, x0));
        a31 = f32x4.add(a31, f32x4.mul(s, x1));
      }
      const yp = yc + <usize>o * row;
      v128.store(yp, a00);
      v128.store(yp, a01, 16);
      v128.store(yp + row, a10);
      v128.store(yp + row, a11, 16);
      v128.store(yp + 2 * row, a20);
      v128.store(yp + 2 * row, a21, 16);
      v128.store(yp + 3 * row, a30);
      v128.store(yp + 3 * row, a31, 16);
    }
    for (; o < nout; o++) {
      const w0 = W + <usize>o * wrow;
      const b0 = f32x4.splat(load<f32>(bias + (<usize>o << 2)));
      let a0 = b0, a1 = b0;
      let xp = xc;
      for (let i = 0; i < nin; i++, xp += row) {
        const s = f32x4.splat(load<f32>(w0 + (<usize>i << 2)));
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(xp)));
        a1 = f32x4.add(a1, f32x4.mul(s, v128.load(xp, 16)));
      }
      const yp = yc + <usize>o * row;
      v128.store(yp, a0);
      v128.store(yp, a1, 16);
    }
  }
}

// dX = W^T dY over Bs columns: blocks of 8 columns (outer) x 4 inputs.
function linearBackInput(W: usize, dY: usize, dX: usize, nin: i32, nout: i32, Bs: i32): void {
  const row = <usize>Bs << 2;
  const wrow = <usize>nin << 2;
  for (let c = 0; c < Bs; c += 8) {
    const yc = dY + (<usize>c << 2);
    const xc = dX + (<usize>c << 2);
    let i = 0;
    for (; i + 4 <= nin; i += 4) {
      let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      let yp = yc;
      let wp = W + (<usize>i << 2);
      for (let o = 0; o < nout; o++, yp += row, wp += wrow) {
        const y0 = v128.load(yp), y1 = v128.load(yp, 16);
        let s = f32x4.splat(load<f32>(wp));
        a00 = f32x4.add(a00, f32x4.mul(s, y0));
        a01 = f32x4.add(a01, f32x4.mul(s, y1));
        s = f32x4.splat(load<f32>(wp, 4));
        a10 = f32x4.add(a10, f32x4.mul(s, y0));
        a11 = f32x4.add(a11, f32x4.mul(s, y1));
        s = f32x4.splat(load<f32>(wp, 8));
        a20 = f32x4.add(a20, f32x4.mul(s, y0));
        a21 = f32x4.add(a21, f32x4.mul(s, y1));
        s = f32x4.splat(load<f32>(wp, 12));
        a30 = f32x4.add(a30, f32x4.mul(s, y0));
        a31 = f32x4.add(a31, f32x4.mul(s, y1));
      }
      const xp = xc + <usize>i * row;
      v128.store(xp, a00);
      v128.store(xp, a01, 16);
      v128.store(xp + row, a10);
      v128.store(xp + row, a11, 16);
      v128.store(xp + 2 * row, a20);
      v128.store(xp + 2 * row, a21, 16);
      v128.store(xp + 3 * row, a30);
      v128.store(xp + 3 * row, a31, 16);
    }
    for (; i < nin; i++) {
      let a0 = f32x4.splat(0), a1 = a0;
      let yp = yc;
      let wp = W + (<usize>i << 2);
      for (let o = 0; o < nout; o++, yp += row, wp += wrow) {
        const s = f32x4.splat(load<f32>(wp));
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(yp)));
        a1 = f32x4.add(a1, f32x4.mul(s, v128.load(yp, 16)));
      }
      const xp = xc + <usize>i * row;
      v128.store(xp, a0);
      v128.store(xp, a1, 16);
    }
  }
}

// @ts-ignore: decorator
@inline
function hsum(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
}

// dW = dY X^T and db = dY 1 over Bs columns: blocks of 2 outputs x 2 inputs, each a dot
// product over the columns in four lanes, summed across lanes in a fixed order at the end.
function linearBackWeights(X: usize, dY: usize, dW: usize, db: usize, nin: i32, nout: i32, Bs: i32): void {
  const row = <usize>Bs << 2;
  const wrow = <usize>nin << 2;
  for (let o = 0; o < nout; o++) {
    const yp = dY + <usize>o * row;
    let s = f32x4.splat(0);
    for (let c = 0; c < Bs; c += 4) s = f32x4.add(s, v128.load(yp + (<usize>c << 2)));
    store<f32>(db + (<usize>o << 2), hsum(s));
  }
  let o = 0;
  for (; o + 2 <= nout; o += 2) {
    const y0 = dY + <usize>o * row, y1 = y0 + row;
    let i = 0;
    for (; i + 2 <= nin; i += 2) {
      const x0 = X + <usize>i * row, x1 = x0 + row;
      let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00;
      for (let c: usize = 0; c < (<usize>Bs << 2); c += 16) {
        const u0 = v128.load(y0 + c), u1 = v128.load(y1 + c);
        const v0 = v128.load(x0 + c), v1 = v128.load(x1 + c);
        a00 = f32x4.add(a00, f32x4.mul(u0, v0));
        a01 = f32x4.add(a01, f32x4.mul(u0, v1));
        a10 = f32x4.add(a10, f32x4.mul(u1, v0));
        a11 = f32x4.add(a11, f32x4.mul(u1, v1));
      }
      const wp = dW + <usize>o * wrow + (<usize>i << 2);
      store<f32>(wp, hsum(a00));
      store<f32>(wp, hsum(a01), 4);
      store<f32>(wp + wrow, hsum(a10));
      store<f32>(wp + wrow, hsum(a11), 4);
    }
    for (; i < nin; i++) {
      const x0 = X + <usize>i * row;
      let a0 = f32x4.splat(0), a1 = a0;
      for (let c: usize = 0; c < (<usize>Bs << 2); c += 16) {
        const v0 = v128.load(x0 + c);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(y0 + c), v0));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(y1 + c), v0));
      }
      const wp = dW + <usize>o * wrow + (<usize>i << 2);
      store<f32>(wp, hsum(a0));
      store<f32>(wp + wrow, hsum(a1));
    }
  }
  for (; o < nout; o++) {
    const y0 = dY + <usize>o * row;
    for (let i = 0; i < nin; i++) {
      const x0 = X + <usize>i * row;
      let a0 = f32x4.splat(0);
      for (let c: usize = 0; c < (<usize>Bs << 2); c += 16) a0 = f32x4.add(a0, f32x4.mul(v128.load(y0 + c), v128.load(x0 + c)));
      store<f32>(dW + <usize>o * wrow + (<usize>i << 2), hsum(a0));
    }
  }
}

// Hidden activation of count f32: SiLU keeps the sigmoid S for the backward pass, tanh needs A only.
function activate(Z: usize, S: usize, A: usize, count: i32, act: i32): void {
  const one = f32x4.splat(1.0);
  const two = f32x4.splat(2.0);
  for (let k: usize = 0; k < (<usize>count << 2); k += 16) {
    const z = v128.load(Z + k);
    if (act == 0) {
      const s = f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(z))));
      v128.store(S + k, s);
      v128.store(A + k, f32x4.mul(z, s));
    } else {
      // tanh z = 1 - 2 / (e^{2z} + 1): exact limits +-1, absolute error about 1e-7.
      v128.store(A + k, f32x4.sub(one, f32x4.div(two, f32x4.add(exp4(f32x4.mul(two, z)), one))));
    }
  }
}

// dZ = dA * act'(Z) in place over count f32: SiLU' = S (1 + Z (1 - S)), tanh' = 1 - A^2.
function activateBack(G: usize, Z: usize, S: usize, A: usize, count: i32, act: i32): void {
  const one = f32x4.splat(1.0);
  for (let k: usize = 0; k < (<usize>count << 2); k += 16) {
    let d: v128;
    if (act == 0) {
      const s = v128.load(S + k);
      d = f32x4.mul(s, f32x4.add(one, f32x4.mul(v128.load(Z + k), f32x4.sub(one, s))));
    } else {
      const a = v128.load(A + k);
      d = f32x4.sub(one, f32x4.mul(a, a));
    }
    v128.store(G + k, f32x4.mul(v128.load(G + k), d));
  }
}

/**
 * The network's output V (work region) for the inputs in X0 (work start), Bs columns. When
 * foldBias != 0 every column shares one t: X0 holds only the dim rows of x, and foldBias points
 * to the first layer's bias with the time features' contribution already added.
 */
function forward(desc: usize, params: usize, work: usize, B: i32, foldBias: usize = 0): void {
  const L = layersOf(desc);
  const Bs = padCols(B);
  let X = work;
  for (let l = 0; l < L; l++) {
    const nin = widthOf(desc, l), nout = widthOf(desc, l + 1);
    const W = params + (<usize>paramOffset(desc, l) << 2);
    const fold = l == 0 && foldBias != 0;
    const b = fold ? foldBias : W + (<usize>(nin * nout) << 2);
    const cols = fold ? dimOf(desc) : nin;
    if (l == L - 1) {
      linearForward(W, nin, b, X, work + offV, cols, nout, Bs);
    } else {
      const Z = hidden(desc, work, B, l + 1, 0);
      const S = hidden(desc, work, B, l + 1, 1);
      const A = hidden(desc, work, B, l + 1, 2);
      linearForward(W, nin, b, X, Z, cols, nout, Bs);
      activate(Z, S, A, nout * Bs, actOf(desc));
      X = A;
    }
  }
}

/**
 * Loss (1/B) sum_b |V_b - U_b|^2 of the batch in X0 and U, with its gradient in grads (the
 * columns past B are padding and contribute nothing). Runs the forward pass.
 */
function lossGrad(desc: usize, params: usize, grads: usize, work: usize, B: i32): f64 {
  const dim = dimOf(desc);
  const L = layersOf(desc);
  const Bs = padCols(B);
  const row = <usize>Bs << 2;
  forward(desc, params, work, B);
  let G = work + offG0;
  let Gn = work + offG1;
  memory.fill(G, 0, <usize>dim * row);
  let loss: f64 = 0;
  const scale = <f32>(2.0 / <f64>B);
  for (let d = 0; d < dim; d++) {
    for (let b = 0; b < B; b++) {
      const o = <usize>d * row + (<usize>b << 2);
      const diff = load<f32>(work + offV + o) - load<f32>(work + offU + o);
      loss += <f64>diff * <f64>diff;
      store<f32>(G + o, diff * scale);
    }
  }
  for (let l = L - 1; l >= 0; l--) {
    const nin = widthOf(desc, l), nout = widthOf(desc, l + 1);
    const off = <usize>paramOffset(desc, l) << 2;
    const W = params + off;
    const X = l == 0 ? work : hidden(desc, work, B, l, 2);
    linearBackWeights(X, G, grads + off, grads + off + (<usize>(nin * nout) << 2), nin, nout, Bs);
    if (l > 0) {
      linearBackInput(W, G, Gn, nin, nout, Bs);
      activateBack(Gn, hidden(desc, work, B, l, 0), hidden(desc, work, B, l, 1), hidden(desc, work, B, l, 2), nin * Bs, actOf(desc));
      const t = G;
      G = Gn;
      Gn = t;
    }
  }
  return loss / <f64>B;
}

// Sinusoidal features of t in rows dim .. dim + 7 of X0, column c: sin and cos of pi 2^k t,
// doubled by the double-angle formulas from one sin and cos.
// @ts-ignore: decorator
@inline
function timeFeatures(X0: usize, row: usize, dim: i32, c: i32, t: f64): void {
  let s = Math.sin(PI * t);
  let co = Math.cos(PI * t);
  const base = X0 + <usize>dim * row + (<usize>c << 2);
  for (let k = 0; k < 4; k++) {
    store<f32>(base + <usize>(2 * k) * row, <f32>s);
    store<f32>(base + <usize>(2 * k + 1) * row, <f32>co);
    const s2 = 2 * s * co;
    co = (co - s) * (co + s);
    s = s2;
  }
}

/**
 * Writes a batch of B examples (x_t and t from f64 arrays, point-major x_t) into the inputs
 * and target (f64 point-major, B x dim) into U; padding columns are zero. For the kernel tests.
 */
export function flowSetBatch(desc: usize, work: usize, B: i32, xt: usize, t: usize, target: usize): void {
  const dim = dimOf(desc);
  const Bs = padCols(B);
  const row = <usize>Bs << 2;
  layout(desc, B);
  memory.fill(work, 0, <usize>widthOf(desc, 0) * row);
  memory.fill(work + offU, 0, <usize>dim * row);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < dim; d++) {
      const o = <usize>d * row + (<usize>b << 2);
      store<f32>(work + o, <f32>load<f64>(xt + (<usize>(b * dim + d) << 3)));
      store<f32>(work + offU + o, <f32>load<f64>(target + (<usize>(b * dim + d) << 3)));
    }
    timeFeatures(work, row, dim, b, load<f64>(t + (<usize>b << 3)));
  }
}

/** Loss of the batch set by flowSetBatch, its gradient written to grads (f32, parameter layout). */
export function flowLossGrad(desc: usize, params: usize, grads: usize, work: usize, B: i32): f64 {
  layout(desc, B);
  return lossGrad(desc, params, grads, work, B);
}

/** The network's velocity at the batch set by flowSetBatch, copied to out (f64 point-major, B x dim). */
export function flowVelocityOf(desc: usize, params: usize, work: usize, B: i32, out: usize): void {
  layout(desc, B);
  forward(desc, params, work, B);
  const dim = dimOf(desc);
  const row = <usize>padCols(B) << 2;
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < dim; d++) store<f64>(out + (<usize>(b * dim + d) << 3), <f64>load<f32>(work + offV + <usize>d * row + (<usize>b << 2)));
  }
}

/**
 * One Adam step over P parameters (Kingma and Ba, as PyTorch writes it): m and v are the
 * moment estimates, bc1 = 1 - beta1^t and bc2 = 1 - beta2^t the bias corrections.
 */
export function flowAdam(params: usize, grads: usize, m: usize, v: usize, P: i32, lr: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64): void {
  const step = <f32>(lr / bc1);
  const invSqrtBc2 = <f32>(1.0 / Math.sqrt(bc2));
  const b1 = <f32>beta1, b2 = <f32>beta2, e = <f32>eps;
  const c1 = <f32>(1.0 - beta1), c2 = <f32>(1.0 - beta2);
  const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2);
  const ve = f32x4.splat(e), vs = f32x4.splat(step), vi = f32x4.splat(invSqrtBc2);
  const P4 = P & ~3;
  for (let k: usize = 0; k < (<usize>P4 << 2); k += 16) {
    const g = v128.load(grads + k);
    const mk = f32x4.add(f32x4.mul(vb1, v128.load(m + k)), f32x4.mul(vc1, g));
    const vk = f32x4.add(f32x4.mul(vb2, v128.load(v + k)), f32x4.mul(vc2, f32x4.mul(g, g)));
    v128.store(m + k, mk);
    v128.store(v + k, vk);
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vk), vi), ve);
    v128.store(params + k, f32x4.sub(v128.load(params + k), f32x4.div(f32x4.mul(vs, mk), denom)));
  }
  for (let j = P4; j < P; j++) {
    const k = <usize>j << 2;
    const g = load<f32>(grads + k);
    const mk = b1 * load<f32>(m + k) + c1 * g;
    const vk = b2 * load<f32>(v + k) + c2 * (g * g);
    store<f32>(m + k, mk);
    store<f32>(v + k, vk);
    store<f32>(params + k, load<f32>(params + k) - (step * mk) / (Mathf.sqrt(vk) * invSqrtBc2 + e));
  }
}

let gauss1: f64 = 0;
let gauss2: f64 = 0;

// Two standard normals from the last Philox block (Box-Muller on (0, 1]: 1 - u never reaches 0).
// @ts-ignore: decorator
@inline
function gaussPair(): void {
  const rad = Math.sqrt(-2.0 * Math.log(1.0 - toUnit53(r0, r1)));
  const th = toUnit53(r2, r3) * 6.283185307179586;
  gauss1 = rad * Math.cos(th);
  gauss2 = rad * Math.sin(th);
}

/**
 * Sorts the indices 0 .. B-1 by the values at vals (f32 row) into idx (i32), insertion sort
 * with ties kept in index order.
 */
function sortIndices(vals: usize, B: i32, idx: usize): void {
  for (let j = 0; j < B; j++) {
    const v = load<f32>(vals + (<usize>j << 2));
    let k = j;
    while (k > 0 && load<f32>(vals + (<usize>load<i32>(idx + (<usize>(k - 1) << 2)) << 2)) > v) {
      store<i32>(idx + (<usize>k << 2), load<i32>(idx + (<usize>(k - 1) << 2)));
      k--;
    }
    store<i32>(idx + (<usize>k << 2), j);
  }
}

/**
 * Exact assignment (Hungarian algorithm with potentials, O(B^3)) minimising sum_j cost[row(j)][j]
 * for the B x B f64 cost matrix at cost (row-major): writes row(j) to rowOf (i32). scratch:
 * otBytes(B) minus the cost matrix. Ties are broken by the lowest index, so the result is a
 * function of the costs alone.
 */
function assign(cost: usize, B: i32, scratch: usize, rowOf: usize): void {
  const n = B;
  const n1 = <usize>n + 1;
  const u = scratch;
  const v = u + align16(n1 * 8);
  const minv = v + align16(n1 * 8);
  const p = minv + align16(n1 * 8);
  const way = p + align16(n1 * 4);
  const used = way + align16(n1 * 4);
  memory.fill(u, 0, n1 * 8);
  memory.fill(v, 0, n1 * 8);
  memory.fill(p, 0, n1 * 4);
  memory.fill(way, 0, n1 * 4);
  for (let i = 1; i <= n; i++) {
    store<i32>(p, i);
    let j0 = 0;
    for (let j = 0; j <= n; j++) {
      store<f64>(minv + (<usize>j << 3), Infinity);
      store<i32>(used + (<usize>j << 2), 0);
    }
    do {
      store<i32>(used + (<usize>j0 << 2), 1);
      const i0 = load<i32>(p + (<usize>j0 << 2));
      let delta = Infinity;
      let j1 = 0;
      const crow = cost + (<usize>(i0 - 1) * <usize>n << 3);
      const ui0 = load<f64>(u + (<usize>i0 << 3));
      for (let j = 1; j <= n; j++) {
        if (load<i32>(used + (<usize>j << 2)) != 0) continue;
        const cur = load<f64>(crow + (<usize>(j - 1) << 3)) - ui0 - load<f64>(v + (<usize>j << 3));
        if (cur < load<f64>(minv + (<usize>j << 3))) {
          store<f64>(minv + (<usize>j << 3), cur);
          store<i32>(way + (<usize>j << 2), j0);
        }
        if (load<f64>(minv + (<usize>j << 3)) < delta) {
          delta = load<f64>(minv + (<usize>j << 3));
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (load<i32>(used + (<usize>j << 2)) != 0) {
          const pj = load<i32>(p + (<usize>j << 2));
          store<f64>(u + (<usize>pj << 3), load<f64>(u + (<usize>pj << 3)) + delta);
          store<f64>(v + (<usize>j << 3), load<f64>(v + (<usize>j << 3)) - delta);
        } else {
          store<f64>(minv + (<usize>j << 3), load<f64>(minv + (<usize>j << 3)) - delta);
        }
      }
      j0 = j1;
    } while (load<i32>(p + (<usize>j0 << 2)) != 0);
    do {
      const j1 = load<i32>(way + (<usize>j0 << 2));
      store<i32>(p + (<usize>j0 << 2), load<i32>(p + (<usize>j1 << 2)));
      j0 = j1;
    } while (j0 != 0);
  }
  for (let j = 1; j <= n; j++) store<i32>(rowOf + (<usize>(j - 1) << 2), load<i32>(p + (<usize>j << 2)) - 1);
}

/**
 * Minibatch optimal-transport coupling: permutes the source columns XN so that column j is
 * paired with data column j at least total squared distance (1-D: both sorted; 2-D: assign).
 */
function couple(desc: usize, work: usize, B: i32): void {
  const dim = dimOf(desc);
  const row = <usize>padCols(B) << 2;
  const XN = work + offXN;
  const tmp = work + offK1;
  const sc = work + offOt;
  const ia = sc + align16(<usize>B * <usize>B * 8) + 3 * align16((<usize>B + 1) * 8) + 3 * align16((<usize>B + 1) * 4);
  const ib = ia + align16(<usize>padCols(B) << 2);
  if (dim == 1) {
    sortIndices(XN, B, ia);
    sortIndices(work + offX1, B, ib);
    for (let k = 0; k < B; k++) {
      const src = load<i32>(ia + (<usize>k << 2));
      const dst = load<i32>(ib + (<usize>k << 2));
      store<f32>(tmp + (<usize>dst << 2), load<f32>(XN + (<usize>src << 2)));
    }
    memory.copy(XN, tmp, <usize>B << 2);
    return;
  }
  const X1 = work + offX1;
  for (let i = 0; i < B; i++) {
    const ax = <f64>load<f32>(XN + (<usize>i << 2)), ay = <f64>load<f32>(XN + row + (<usize>i << 2));
    for (let j = 0; j < B; j++) {
      const dx = ax - <f64>load<f32>(X1 + (<usize>j << 2));
      const dy = ay - <f64>load<f32>(X1 + row + (<usize>j << 2));
      store<f64>(sc + ((<usize>i * <usize>B + <usize>j) << 3), dx * dx + dy * dy);
    }
  }
  assign(sc, B, sc + align16(<usize>B * <usize>B * 8), ia);
  for (let d = 0; d < dim; d++) {
    for (let j = 0; j < B; j++) {
      store<f32>(tmp + (<usize>j << 2), load<f32>(XN + <usize>d * row + (<usize>load<i32>(ia + (<usize>j << 2)) << 2)));
    }
    memory.copy(XN + <usize>d * row, tmp, <usize>B << 2);
  }
}

/** The assignment of a B x B cost matrix (f64, row-major) into rowOf (i32): for the kernel tests. */
export function flowAssign(cost: usize, B: i32, scratch: usize, rowOf: usize): void {
  assign(cost, B, scratch, rowOf);
}

/**
 * Runs `steps` conditional flow-matching steps (numbers step0 .. step0 + steps - 1) with Adam
 * on the N training points at data (f64 point-major, in the box): each step draws B examples
 * (index, t ~ U[0, 1), x_0 ~ N(0, I)), optionally couples x_0 to x_1 by minibatch OT, and
 * fits v(x_t, t) to x_1 - x_0 with x_t = (1 - t) x_0 + t x_1. Coordinates enter the network
 * as (x_d - frame[2d]) / frame[2d + 1]. Writes each step's loss to losses (f64) and returns
 * the number of steps done: fewer when a loss is not finite (that loss is the last written).
 */
export function flowTrainSteps(
  desc: usize, params: usize, grads: usize, m: usize, v: usize, P: i32, work: usize, B: i32,
  data: usize, N: i32, frame: usize, seed: u32, stream: u32, step0: i32, steps: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, ot: i32, losses: usize,
): i32 {
  const dim = dimOf(desc);
  const Bs = padCols(B);
  const row = <usize>Bs << 2;
  layout(desc, B);
  const X0 = work;
  const U = work + offU, X1 = work + offX1, XN = work + offXN, T = work + offT;
  const c0 = load<f64>(frame), s0 = load<f64>(frame, 8);
  const c1 = dim == 2 ? load<f64>(frame, 16) : 0.0, s1 = dim == 2 ? load<f64>(frame, 24) : 1.0;
  memory.fill(X0, 0, <usize>widthOf(desc, 0) * row);
  memory.fill(U, 0, <usize>dim * row);
  for (let k = 0; k < steps; k++) {
    const step = step0 + k;
    for (let j = 0; j < B; j++) {
      philox(<u32>step, <u32>j, TAG_FLOW_BATCH, 0, seed, stream);
      const idx = min(<i32>(toUnit53(r0, r1) * <f64>N), N - 1);
      store<f32>(T + (<usize>j << 2), <f32>toUnit53(r2, r3));
      philox(<u32>step, <u32>j, TAG_FLOW_BATCH, 1, seed, stream);
      gaussPair();
      const p = data + (<usize>(idx * dim) << 3);
      store<f32>(X1 + (<usize>j << 2), <f32>((load<f64>(p) - c0) / s0));
      store<f32>(XN + (<usize>j << 2), <f32>gauss1);
      if (dim == 2) {
        store<f32>(X1 + row + (<usize>j << 2), <f32>((load<f64>(p, 8) - c1) / s1));
        store<f32>(XN + row + (<usize>j << 2), <f32>gauss2);
      }
    }
    if (ot != 0) couple(desc, work, B);
    for (let j = 0; j < B; j++) {
      const t = load<f32>(T + (<usize>j << 2));
      for (let d = 0; d < dim; d++) {
        const o = <usize>d * row + (<usize>j << 2);
        const a = load<f32>(XN + o), b = load<f32>(X1 + o);
        store<f32>(X0 + o, (1 - t) * a + t * b);
        store<f32>(U + o, b - a);
      }
      timeFeatures(X0, row, dim, j, <f64>t);
    }
    const loss = lossGrad(desc, params, grads, work, B);
    store<f64>(losses + (<usize>k << 3), loss);
    if (!isFinite(loss)) return k;
    const t1 = <f64>(step + 1);
    flowAdam(params, grads, m, v, P, lr, beta1, beta2, eps, 1.0 - Math.pow(beta1, t1), 1.0 - Math.pow(beta2, t1));
  }
  return steps;
}

/**
 * The first layer's bias plus its time features' contribution at t, b_o + sum_j W[o][dim + j]
 * phi_j(t), into the work region's bias slot; returns its pointer.
 */
function foldTime(desc: usize, params: usize, work: usize, t: f64): usize {
  const dim = dimOf(desc);
  const nin = widthOf(desc, 0), nout = widthOf(desc, 1);
  const out = work + offBias;
  const phi = out + (<usize>nout << 2);
  timeFeatures(phi - (<usize>dim << 2), 4, dim, 0, t);
  for (let o = 0; o < nout; o++) {
    const w = params + (<usize>(o * nin + dim) << 2);
    let acc = load<f32>(params + (<usize>(nin * nout + o) << 2));
    for (let j = 0; j < TIME_FEATURES; j++) acc += load<f32>(w + (<usize>j << 2)) * load<f32>(phi + (<usize>j << 2));
    store<f32>(out + (<usize>o << 2), acc);
  }
  return out;
}

/** Integrates dx/dt = v(x, t) from 0 to 1 for the Bs columns of XS (normalised coordinates). */
function integrate(desc: usize, params: usize, work: usize, B: i32, odeSteps: i32, heun: i32): void {
  const dim = dimOf(desc);
  const Bs = padCols(B);
  const row = <usize>Bs << 2;
  const XS = work + offXS, K1 = work + offK1, V = work + offV;
  const bytes = <usize>dim * row;
  const h = 1.0 / <f64>odeSteps;
  const hv = f32x4.splat(<f32>h);
  const half = f32x4.splat(<f32>(0.5 * h));
  for (let s = 0; s < odeSteps; s++) {
    const t = <f64>s * h;
    memory.copy(work, XS, bytes);
    forward(desc, params, work, B, foldTime(desc, params, work, t));
    if (heun == 0) {
      for (let k: usize = 0; k < bytes; k += 16) v128.store(XS + k, f32x4.add(v128.load(XS + k), f32x4.mul(hv, v128.load(V + k))));
      continue;
    }
    memory.copy(K1, V, bytes);
    for (let k: usize = 0; k < bytes; k += 16) v128.store(work + k, f32x4.add(v128.load(XS + k), f32x4.mul(hv, v128.load(V + k))));
    forward(desc, params, work, B, foldTime(desc, params, work, <f64>(s + 1) * h));
    for (let k: usize = 0; k < bytes; k += 16) {
      v128.store(XS + k, f32x4.add(v128.load(XS + k), f32x4.mul(half, f32x4.add(v128.load(K1 + k), v128.load(V + k)))));
    }
  }
}

/**
 * Draws count points from the network: point q starts from N(0, I) noise of block
 * (ids[2q], ids[2q + 1], tag, attempt) and is integrated over odeSteps Euler (heun = 0) or Heun
 * steps, in chunks of up to B columns; x_d = frame[2d] + frame[2d + 1] z_d. A point outside
 * the box (lo0, hi0, lo1, hi1) is drawn again with the next attempt; after maxAttempts it is
 * clamped into the box. pend: count i32 scratch. Writes out (f64 point-major) and returns the
 * number of clamped points, or -1 when a point is not finite.
 */
export function flowSamplePoints(
  desc: usize, params: usize, work: usize, B: i32, frame: usize, seed: u32, stream: u32, tag: u32,
  ids: usize, count: i32, odeSteps: i32, heun: i32, box: usize, maxAttempts: i32, pend: usize, out: usize,
): i32 {
  const dim = dimOf(desc);
  layout(desc, B);
  const XS = work + offXS;
  const lo0 = load<f64>(box), hi0 = load<f64>(box, 8);
  const lo1 = dim == 2 ? load<f64>(box, 16) : 0.0, hi1 = dim == 2 ? load<f64>(box, 24) : 0.0;
  const c0 = load<f64>(frame), s0 = load<f64>(frame, 8);
  const c1 = dim == 2 ? load<f64>(frame, 16) : 0.0, s1 = dim == 2 ? load<f64>(frame, 24) : 1.0;
  for (let q = 0; q < count; q++) store<i32>(pend + (<usize>q << 2), q);
  let nPend = count;
  let clamped = 0;
  for (let a = 0; a < maxAttempts && nPend > 0; a++) {
    let nNext = 0;
    for (let start = 0; start < nPend; start += B) {
      const cnt = min(B, nPend - start);
      // A short last chunk runs with fewer padded columns: rows of padCols(cnt).
      const row = <usize>padCols(cnt) << 2;
      memory.fill(XS, 0, <usize>dim * row);
      for (let j = 0; j < cnt; j++) {
        const q = load<i32>(pend + (<usize>(start + j) << 2));
        philox(load<u32>(ids + (<usize>q << 3)), load<u32>(ids + (<usize>q << 3), 4), tag, <u32>a, seed, stream);
        gaussPair();
        store<f32>(XS + (<usize>j << 2), <f32>gauss1);
        if (dim == 2) store<f32>(XS + row + (<usize>j << 2), <f32>gauss2);
      }
      integrate(desc, params, work, cnt, odeSteps, heun);
      for (let j = 0; j < cnt; j++) {
        const q = load<i32>(pend + (<usize>(start + j) << 2));
        let x = c0 + s0 * <f64>load<f32>(XS + (<usize>j << 2));
        let y = dim == 2 ? c1 + s1 * <f64>load<f32>(XS + row + (<usize>j << 2)) : 0.0;
        if (!isFinite(x) || !isFinite(y)) return -1;
        if (!(x >= lo0 && x <= hi0 && (dim == 1 || (y >= lo1 && y <= hi1)))) {
          if (a < maxAttempts - 1) {
            store<i32>(pend + (<usize>nNext << 2), q);
            nNext++;
            continue;
          }
          x = min(max(x, lo0), hi0);
          if (dim == 2) y = min(max(y, lo1), hi1);
          clamped++;
        }
        const o = out + (<usize>(q * dim) << 3);
        store<f64>(o, x);
        if (dim == 2) store<f64>(o, y, 8);
      }
    }
    nPend = nNext;
  }
  return clamped;
}

/**
 * Counts count points (f64 point-major, inside the box lo0, hi0, lo1, hi1) into grid cells:
 * nx cells along x (times ny along y in 2-D, atom ix ny + iy), adding 1 to counts (f64).
 */
export function flowBin(points: usize, count: i32, dim: i32, box: usize, nx: i32, ny: i32, counts: usize): void {
  const lo0 = load<f64>(box), hi0 = load<f64>(box, 8);
  const sx = <f64>nx / (hi0 - lo0);
  const lo1 = dim == 2 ? load<f64>(box, 16) : 0.0, hi1 = dim == 2 ? load<f64>(box, 24) : 1.0;
  const sy = <f64>ny / (hi1 - lo1);
  for (let q = 0; q < count; q++) {
    const p = points + (<usize>(q * dim) << 3);
    const ix = min(max(<i32>Math.floor((load<f64>(p) - lo0) * sx), 0), nx - 1);
    let cell = ix;
    if (dim == 2) cell = ix * ny + min(max(<i32>Math.floor((load<f64>(p, 8) - lo1) * sy), 0), ny - 1);
    const c = counts + (<usize>cell << 3);
    store<f64>(c, load<f64>(c) + 1);
  }
}

/**
 * Cumulative curation weights over a pool of P points: cum[k] = sum_{j <= k} exp((r_j - max r) / tau).
 */
export function flowCumWeights(rewards: usize, P: i32, tau: f64, cum: usize): void {
  let hi = -Infinity;
  for (let k = 0; k < P; k++) hi = max(hi, load<f64>(rewards + (<usize>k << 3)));
  const inv = 1.0 / tau;
  let W: f64 = 0;
  for (let k = 0; k < P; k++) {
    W += Math.exp((load<f64>(rewards + (<usize>k << 3)) - hi) * inv);
    store<f64>(cum + (<usize>k << 3), W);
  }
}

/**
 * K = infinity curation by sampling-importance-resampling: curated sample order[rank] (rank in
 * [rankStart, rankStart + rankCount)) keeps pool point k with probability w_k / sum_j w_j,
 * from the cumulative weights cum (P f64) and the selection uniform of block (0, s, TAG_GROUP,
 * 0) words (r2, r3), as selectPoints does; copies it to kept[rank dim + d].
 */
export function flowResample(
  seed: u32, stream: u32, order: usize, rankStart: i32, rankCount: i32,
  cum: usize, P: i32, pool: usize, dim: i32, kept: usize,
): void {
  const W = load<f64>(cum + (<usize>(P - 1) << 3));
  for (let rank = rankStart; rank < rankStart + rankCount; rank++) {
    const s = load<i32>(order + (<usize>rank << 2));
    philox(0, s, TAG_GROUP, 0, seed, stream);
    const u = toUnit53(r2, r3);
    let k: i32;
    if (!(W > 0)) k = min(<i32>(u * <f64>P), P - 1);
    else {
      const t = u * W;
      let lo = 0, hi = P - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (load<f64>(cum + (<usize>mid << 3)) > t) hi = mid;
        else lo = mid + 1;
      }
      k = lo;
    }
    const src = pool + (<usize>(k * dim) << 3);
    const dst = kept + (<usize>(rank * dim) << 3);
    store<f64>(dst, load<f64>(src));
    if (dim == 2) store<f64>(dst, load<f64>(src, 8), 8);
  }
}
