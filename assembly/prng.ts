// Counter-based PRNG: Philox-4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers:
// as easy as 1, 2, 3", SC 2011; the Random123 reference). A draw is a pure function of a
// 64-bit key and a 128-bit counter, so it depends only on (seed, stream, counter): the same
// bits in any order, on any thread, in Node or a browser. Nothing here keeps state between
// calls except the four output words of the last block (r0..r3), read right after `philox`.
//
// Counter convention of plurisim: key = (seed, stream), counter = (c0, c1, c2, c3) where
// c2 is a purpose tag (TAG_* below) so that different uses never share a block.

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** 2^-53: turns a 53-bit integer into a double in [0, 1). */
export const INV_2_53: f64 = 1.1102230246251565e-16;
/** 2^-32: turns a 32-bit integer into a double in [0, 1). */
export const INV_2_32: f64 = 2.3283064365386963e-10;

/** Purpose tags (counter word c2). */
export const TAG_PLAIN: u32 = 0;
export const TAG_GROUP: u32 = 1;
export const TAG_CANDIDATE: u32 = 2;
export const TAG_REAL: u32 = 3;
export const TAG_POINT: u32 = 4;
export const TAG_INIT: u32 = 5;

// Output words of the last `philox` call.
export let r0: u32 = 0;
export let r1: u32 = 0;
export let r2: u32 = 0;
export let r3: u32 = 0;

/** One Philox-4x32-10 block; the four output words land in r0..r3. */
// @ts-ignore: decorator
@inline
export function philox(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  // Ten rounds written out rather than looped: the rolled loop ran curation at 10.9 M candidate
  // draws/s, the written-out one at about 38 M/s (K = 4, bench/sampling.ts). The key bump after
  // the last round is unused.
  let p0: u64, p1: u64;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  k0 += W0;
  k1 += W1;
  p0 = M0 * <u64>c0;
  p1 = M1 * <u64>c2;
  c0 = (<u32>(p1 >> 32)) ^ c1 ^ k0;
  c2 = (<u32>(p0 >> 32)) ^ c3 ^ k1;
  c1 = <u32>p1;
  c3 = <u32>p0;
  r0 = c0;
  r1 = c1;
  r2 = c2;
  r3 = c3;
}

/** A double in [0, 1) with 53 random bits from two 32-bit words (hi supplies the top 32). */
// @ts-ignore: decorator
@inline
export function toUnit53(hi: u32, lo: u32): f64 {
  return <f64>(((<u64>hi << 32) | <u64>lo) >> 11) * INV_2_53;
}

/**
 * The index-th uniform of (seed, stream), in [0, 1) with 53 random bits. Two uniforms come
 * from one block: counter (index >> 1, 0, TAG_PLAIN, 0), words (r0, r1) or (r2, r3).
 */
export function uniformAt(seed: u32, stream: u32, index: u32): f64 {
  philox(index >> 1, 0, TAG_PLAIN, 0, seed, stream);
  return (index & 1) == 0 ? toUnit53(r0, r1) : toUnit53(r2, r3);
}

/** Writes uniformAt(seed, stream, start + j) for j < count to out (f64), block by block. */
export function fillUniforms(seed: u32, stream: u32, start: u32, count: i32, out: usize): void {
  let j = 0;
  let index = start;
  if ((index & 1) == 1 && count > 0) {
    store<f64>(out, uniformAt(seed, stream, index));
    j = 1;
    index++;
  }
  for (; j + 1 < count; j += 2, index += 2) {
    philox(index >> 1, 0, TAG_PLAIN, 0, seed, stream);
    store<f64>(out + (<usize>j << 3), toUnit53(r0, r1));
    store<f64>(out + (<usize>(j + 1) << 3), toUnit53(r2, r3));
  }
  if (j < count) store<f64>(out + (<usize>j << 3), uniformAt(seed, stream, index));
}

/** Writes the raw Philox-4x32-10 block for counter (c0..c3) and key (k0, k1) to out (4 u32). */
export function philoxBlock(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, out: usize): void {
  philox(c0, c1, c2, c3, k0, k1);
  store<u32>(out, r0);
  store<u32>(out, r1, 4);
  store<u32>(out, r2, 8);
  store<u32>(out, r3, 12);
}
