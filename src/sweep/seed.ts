// Per-cell seeds (runs anywhere).

const MASK64 = (1n << 64n) - 1n;

/**
 * The seed of cell `cell` of a sweep with seed `seed`: splitmix64 (Steele, Lea, Flood 2014;
 * the finaliser of java.util.SplittableRandom) applied to the 64-bit word seed * 2^32 + cell,
 * keeping the upper 32 bits because scenario seeds are u32. It depends on nothing but
 * (seed, cell), so a cell gets the same seed whatever the worker count, batch, shard or order.
 * Valid for seed and cell in [0, 2^32).
 */
export function cellSeed(seed: number, cell: number): number {
  let z = ((BigInt(seed >>> 0) << 32n) + BigInt(cell)) & MASK64;
  z = (z + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  z ^= z >> 31n;
  return Number(z >> 32n);
}
