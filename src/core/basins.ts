// Basins of the paper's two-basin analysis (docs/model.md, section 5): S_i = {x : r_i(x) >= max r_i - eps}
// and the outside O = X \ (S_1 u ... u S_m). Written for any m; the audit uses m = 2.

/** The masks of S_i (one Uint8Array per group, 1 = inside) and of the outside O. */
export function basinMasks(r: Float64Array, n: number, m: number, eps: number): { basins: Uint8Array[]; outside: Uint8Array } {
  const basins: Uint8Array[] = [];
  const outside = new Uint8Array(n).fill(1);
  for (let i = 0; i < m; i++) {
    const off = i * n;
    let max = -Infinity;
    for (let x = 0; x < n; x++) if (r[off + x] > max) max = r[off + x];
    const threshold = max - eps;
    const mask = new Uint8Array(n);
    for (let x = 0; x < n; x++) {
      if (r[off + x] >= threshold) {
        mask[x] = 1;
        outside[x] = 0;
      }
    }
    basins.push(mask);
  }
  return { basins, outside };
}

/** Contiguous runs [start, end] (inclusive) of set entries of a mask, at most `limit` of them. */
export function maskRanges(mask: Uint8Array, limit = 64): { ranges: [number, number][]; truncated: boolean } {
  const ranges: [number, number][] = [];
  let x = 0;
  const n = mask.length;
  while (x < n) {
    if (!mask[x]) { x++; continue; }
    const start = x;
    while (x < n && mask[x]) x++;
    if (ranges.length === limit) return { ranges, truncated: true };
    ranges.push([start, x - 1]);
  }
  return { ranges, truncated: false };
}
