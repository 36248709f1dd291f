// Zero blocks: once an atom's mass underflows to exactly 0 it stays 0 (p x g = 0) unless real
// data puts mass back, and on peaked landscapes most atoms far from the wells do within a few
// dozen generations. The kernels keep one flag byte per block of ZB atoms (1: the block may
// hold mass, 0: every atom of it is exactly +0) and skip dead blocks. Skipping is bit-identical
// to the dense loop: a dead atom would add +0 to every sum, and a block is ZB = 64 atoms (an
// even number), so every live atom keeps its SIMD lane and its place in each lane's order.
// A flags pointer of 0 means "no flags": the dense path, every block live.

export const ZB_SHIFT: i32 = 6;
export const ZB: i32 = 1 << ZB_SHIFT;

/** Returns the number of flag bytes for n atoms. */
export function zeroBlockCount(n: i32): i32 {
  return (n + ZB - 1) >> ZB_SHIFT;
}

/** flags[b] = 1 when some atom of block b has p != 0, else 0. */
export function markBlocks(pPtr: usize, n: i32, flagsPtr: usize): void {
  const nb = zeroBlockCount(n);
  for (let b = 0; b < nb; b++) {
    const x1 = min((b + 1) << ZB_SHIFT, n);
    let any = false;
    for (let x = b << ZB_SHIFT; x < x1; x++) {
      if (load<f64>(pPtr + (<usize>x << 3)) != 0) {
        any = true;
        break;
      }
    }
    store<u8>(flagsPtr + <usize>b, any ? 1 : 0);
  }
}

/** Returns the number of blocks flagged live (flags from markBlocks or a step kernel). */
export function liveBlocks(flagsPtr: usize, n: i32): i32 {
  const nb = zeroBlockCount(n);
  let c = 0;
  for (let b = 0; b < nb; b++) c += <i32>load<u8>(flagsPtr + <usize>b);
  return c;
}

/** True when block b may hold mass (always true without flags). */
@inline
export function live(flagsPtr: usize, b: i32): bool {
  return flagsPtr == 0 || load<u8>(flagsPtr + <usize>b) != 0;
}

/** True when block b may hold mass in p or in the real data mixed in (dataFlags 0: all live when mixing). */
@inline
export function liveMixed(flagsPtr: usize, dataFlagsPtr: usize, mix: bool, b: i32): bool {
  if (live(flagsPtr, b)) return true;
  return mix && (dataFlagsPtr == 0 || load<u8>(dataFlagsPtr + <usize>b) != 0);
}

/**
 * Makes a dead output block read as zeros: clears out[x0..x1) unless its flag already says the
 * buffer is all zero there (the buffer last held this block two generations ago).
 */
@inline
export function clearDead(outPtr: usize, outFlagsPtr: usize, b: i32, x0: i32, x1: i32): void {
  if (load<u8>(outFlagsPtr + <usize>b) == 0) return;
  memory.fill(outPtr + (<usize>x0 << 3), 0, <usize>(x1 - x0) << 3);
  store<u8>(outFlagsPtr + <usize>b, 0);
}
