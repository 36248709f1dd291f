// The general-m K = infinity step (m >= 3: assembly/update.ts fusedStep for m <= 8, kinfStepM
// above) against a TypeScript model of its exact operation order, bit for bit: out, zNext and the
// returned sum, dense and with zero blocks skipped (p and p_data with dead 64-atom blocks, a
// whole dead 4096-atom BLOCK), lambda = 0 and > 0, even and odd n. m = 9 and 10 take kinfStepM,
// so the fused and the multi-pass kernels are held to the same arithmetic. The fused step also
// sums per 65,536-atom chunk and adds the chunks in order (grids of several chunks below), and
// kinfStepRange runs it on a run of whole chunks of a larger grid, as a pass-split thread does:
// its per-chunk sums are the model's.
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/core/kernels.js";
import { loadKernels, rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

const BLOCK = 4096; // assembly/update.ts
const CHUNK = 1 << 16; // assembly/update.ts PASS_CHUNK
const STEP_PARTS = 9; // assembly/update.ts
const ZB = 64; // assembly/blocks.ts

/**
 * The general step's arithmetic: g(x) = ((c'_0 w_0 + c'_1 w_1) + c'_2 w_2) ..., out = p g
 * (+ lambda pData); the total mass in two lanes (even and odd atoms) over every BLOCK, plus the
 * odd tail atom; each group's Z in two lanes per BLOCK, summed lane 0 + lane 1 (+ the tail atom).
 * The fused step (m <= 8) adds the BLOCKs' Z and the lanes' mass per chunk of CHUNK atoms and
 * the chunks into zNext and the sum in order (parts: the chunks' sums, STEP_PARTS each);
 * kinfStepM (m > 8) adds every BLOCK straight into zNext and the mass over the whole grid.
 * Dead atoms add +0, so this dense model stands for the skipping path too.
 */
function exactStep(p: Float64Array, w: Float64Array, n: number, m: number, c: Float64Array, lambda: number, pData: Float64Array) {
  const cc = Array.from(c, (ci) => (1 - lambda) * ci);
  const out = new Float64Array(n);
  const zNext = new Float64Array(m);
  const chunk = m <= 8 ? CHUNK : Infinity;
  const parts = new Float64Array(Math.ceil(n / CHUNK) * STEP_PARTS);
  let total = 0;
  for (let k0 = 0; k0 < n; k0 += chunk) {
    const k1 = Math.min(k0 + chunk, n);
    const y = new Float64Array(m);
    const s = [0, 0];
    let sTail = 0;
    for (let b0 = k0; b0 < k1; b0 += BLOCK) {
      const b1 = Math.min(b0 + BLOCK, k1);
      const even = b0 + ((b1 - b0) & ~1);
      const z = Array.from({ length: m }, () => [0, 0]);
      for (let x = b0; x < b1; x++) {
        let g = cc[0] * w[x] + cc[1] * w[n + x];
        for (let i = 2; i < m; i++) g += cc[i] * w[i * n + x];
        let v = p[x] * g;
        if (lambda !== 0) v += lambda * pData[x];
        out[x] = v;
        if (x >= even) {
          sTail += v;
          continue;
        }
        s[x & 1] += v;
        for (let i = 0; i < m; i++) z[i][x & 1] += v * w[i * n + x];
      }
      for (let i = 0; i < m; i++) {
        let a = z[i][0] + z[i][1];
        if (even < b1) a += out[even] * w[i * n + even];
        y[i] += a;
      }
    }
    const mass = s[0] + s[1] + sTail;
    for (let i = 0; i < m; i++) zNext[i] += y[i];
    total += mass;
    if (chunk === CHUNK) {
      parts.set(y, (k0 / CHUNK) * STEP_PARTS);
      parts[(k0 / CHUNK) * STEP_PARTS + 8] = mass;
    }
  }
  return { out, zNext, sum: total, parts };
}

/** The first index where a and b differ in bits (Object.is), or -1. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** A simplex with every dead block (by index) exactly 0, and positive, varied mass elsewhere. */
function withDeadBlocks(n: number, rand: () => number, dead: (b: number) => boolean): Float64Array {
  const v = new Float64Array(n);
  let s = 0;
  for (let x = 0; x < n; x++) {
    v[x] = dead(Math.floor(x / ZB)) ? 0 : rand() + 1e-3;
    s += v[x];
  }
  for (let x = 0; x < n; x++) v[x] /= s;
  return v;
}

/** Copies an array into the module's arena (inside a mark the caller releases); returns its pointer. */
function put(a: Float64Array): number {
  const ptr = k.allocF64(a.length);
  k.write(ptr, a);
  return ptr;
}

/** Runs kinfStep through raw pointers; `flags` marks p's and pData's blocks and reads out's. */
function kernelStep(p: Float64Array, w: Float64Array, n: number, m: number, c: Float64Array, lambda: number, pData: Float64Array, flags: boolean) {
  const mark = k.mark();
  try {
    const raw = k.raw;
    const nb = raw.zeroBlockCount(n);
    const [pp, wp, cp, dp, op] = [p, w, c, pData, new Float64Array(n)].map(put);
    const zp = k.allocF64(m);
    const fIn = k.allocU8(nb);
    const fOut = k.allocU8(nb);
    const fData = k.allocU8(nb);
    k.writeU8(fOut, new Uint8Array(nb));
    if (flags) {
      raw.markBlocks(pp, n, fIn);
      raw.markBlocks(dp, n, fData);
    }
    const sum = flags
      ? raw.kinfStep(pp, op, wp, n, m, cp, zp, lambda, dp, fIn, fOut, fData)
      : raw.kinfStep(pp, op, wp, n, m, cp, zp, lambda, dp, 0, 0, 0);
    const live = new Uint8Array(k.raw.memory.buffer, fIn, nb).slice();
    const liveOut = new Uint8Array(k.raw.memory.buffer, fOut, nb).slice();
    return { out: k.read(op, n), zNext: k.read(zp, m), sum, live, liveOut };
  } finally {
    k.release(mark);
  }
}

describe("general-m K = infinity step: the exact operation order, bit for bit", () => {
  const rand = rng(7);
  for (const m of [3, 5, 8, 9]) {
    for (const n of [130, 1001, 8192, 8193, 9000, 9001]) {
      it(`m=${m}, n=${n}`, () => {
        // Weights in (0, 1] with some very small ones, like exp((r - max r) / tau).
        const w = new Float64Array(n * m).map(() => Math.exp(-30 * rand() ** 2));
        const c = new Float64Array(m).map(() => 0.1 + 3 * rand());
        // p: every third block dead, and for n >= 8192 the whole second BLOCK; pData dead on
        // every fourth block, so with lambda > 0 some blocks are live through pData only.
        const p = withDeadBlocks(n, rand, (b) => b % 3 === 1 || (n >= 2 * BLOCK && b >= BLOCK / ZB && b < (2 * BLOCK) / ZB));
        const pData = withDeadBlocks(n, rand, (b) => b % 4 === 2);
        for (const lambda of [0, 0.3]) {
          const want = exactStep(p, w, n, m, c, lambda, pData);
          for (const flags of [false, true]) {
            const got = kernelStep(p, w, n, m, c, lambda, pData, flags);
            const tag = `lambda=${lambda}, ${flags ? "zero blocks skipped" : "dense"}`;
            expect(firstDiff(got.out, want.out), `out, ${tag}`).toBe(-1);
            expect(firstDiff(got.zNext, want.zNext), `zNext, ${tag}`).toBe(-1);
            expect(Object.is(got.sum, want.sum), `sum ${got.sum} vs ${want.sum}, ${tag}`).toBe(true);
            if (flags) {
              // out's flags: set exactly on the blocks holding mass (the buffer started zero).
              const expected = Array.from(got.liveOut, (_, b) => (want.out.subarray(b * ZB, (b + 1) * ZB).some((v) => v !== 0) ? 1 : 0));
              expect(Array.from(got.liveOut), tag).toEqual(expected);
              expect(got.live.includes(0), "p has dead blocks").toBe(true);
            }
          }
        }
      });
    }
  }
});

describe("fused step on grids of several chunks, and on runs of whole chunks (kinfStepRange)", () => {
  const rand = rng(11);
  const n = 2 * CHUNK + 4097; // three chunks, the last short and odd
  for (const [m, lambda] of [[3, 0], [8, 0], [5, 0.2]]) {
    it(`m=${m}, lambda=${lambda}, n=${n}: the whole grid, then its first chunk and its last two as separate runs`, () => {
      const w = new Float64Array(n * m).map(() => Math.exp(-30 * rand() ** 2));
      const c = new Float64Array(m).map(() => 0.1 + 3 * rand());
      const p = withDeadBlocks(n, rand, (b) => b % 5 === 3);
      // With real data: blocks dead in p but live in p_data, and blocks dead in both.
      const pData = lambda > 0 ? withDeadBlocks(n, rand, (b) => b % 10 === 3) : new Float64Array(n);
      const want = exactStep(p, w, n, m, c, lambda, pData);
      const whole = kernelStep(p, w, n, m, c, lambda, pData, true);
      expect(firstDiff(whole.out, want.out)).toBe(-1);
      expect(firstDiff(whole.zNext, want.zNext)).toBe(-1);
      expect(Object.is(whole.sum, want.sum)).toBe(true);
      // Not vacuous: three chunks whose sums differ, so the order of adding them is exercised.
      expect(new Set([0, 1, 2].map((ch) => want.parts[ch * STEP_PARTS + 8])).size).toBe(3);

      const mark = k.mark();
      try {
        const raw = k.raw;
        const nb = raw.zeroBlockCount(n);
        const [pp, wp, cp, op, dp] = [p, w, c, new Float64Array(n), pData].map(put);
        const zp = k.allocF64(m);
        const partp = k.allocF64(3 * STEP_PARTS);
        const fIn = k.allocU8(nb);
        const fOut = k.allocU8(nb);
        const fData = k.allocU8(nb);
        raw.markBlocks(pp, n, fIn);
        raw.markBlocks(dp, n, fData);
        const dFlags = lambda > 0 ? fData : 0;
        // The engine's thread: chunk 0 of the grid's rows (stride n).
        const s0 = raw.kinfStepRange(pp, op, wp, CHUNK, n, m, cp, zp, partp, lambda, dp, fIn, fOut, dFlags);
        // Another thread: chunks 1 and 2, with its own copy of their rows (stride n - CHUNK).
        const rest = n - CHUNK;
        const wr = put(new Float64Array(rest * m).map((_, j) => w[Math.floor(j / rest) * n + CHUNK + (j % rest)]));
        const at = CHUNK / ZB;
        const s1 = raw.kinfStepRange(pp + 8 * CHUNK, op + 8 * CHUNK, wr, rest, rest, m, cp, zp, partp + 8 * STEP_PARTS, lambda, dp + 8 * CHUNK, fIn + at, fOut + at, dFlags ? dFlags + at : 0);
        expect(firstDiff(k.read(op, n), want.out)).toBe(-1);
        const parts = k.read(partp, 3 * STEP_PARTS);
        expect(firstDiff(parts, want.parts)).toBe(-1);
        // The chunks' sums added in order are the whole step's.
        for (let i = 0; i < m; i++) expect(Object.is(parts[i] + parts[STEP_PARTS + i] + parts[2 * STEP_PARTS + i], want.zNext[i])).toBe(true);
        expect(Object.is(s0 + parts[STEP_PARTS + 8] + parts[2 * STEP_PARTS + 8], want.sum)).toBe(true);
        expect(Object.is(s1, parts[STEP_PARTS + 8] + parts[2 * STEP_PARTS + 8])).toBe(true);
        expect(Array.from(new Uint8Array(raw.memory.buffer, fOut, nb))).toEqual(Array.from(whole.liveOut));
        expect(Number.isNaN(raw.kinfStepRange(pp, op, wp, CHUNK, n, 2, cp, zp, partp, 0, 0, 0, 0, 0))).toBe(true);
      } finally {
        k.release(mark);
      }
    });
  }
});
