import { it } from "vitest";
import { solveNash } from "../src/core/nash.js";
it("probe", () => {
  for (const [n, m] of [[3001, 2], [100000, 8], [100000, 64]]) {
    const r = new Float64Array(m * n);
    for (let i = 0; i < m; i++) { const centre = -8 + (16 * i) / Math.max(1, m - 1);
      for (let x = 0; x < n; x++) { const c = -12 + (24 * (x + 0.5)) / n; r[i * n + x] = -((c - centre) ** 2) * (0.5 + (i % 3) * 0.25); } }
    const q = new Float64Array(m).fill(1 / m); q[0] += 0.5 / m; q[m - 1] -= 0.5 / m;
    const w = r.map(Math.exp); const p0 = new Float64Array(n).fill(1 / n);
    const ts: number[] = []; let sol;
    for (let k = 0; k < 5; k++) { const t0 = performance.now(); sol = solveNash(w, n, m, q, p0); ts.push(performance.now() - t0); }
    console.log(`n=${n} m=${m} ms=${ts.map((t) => t.toFixed(1)).join(",")} rounds=${sol!.iterations} gap=${sol!.gap.toExponential(2)}`);
  }
});
