// The basin masks the engine lays out in Wasm memory (assembly/reduce.ts markBasin) are the
// masks of src/core/basins.ts, atom for atom, ties at the threshold included; and a run's basin
// masses and the Nash solution's agree with them.
import { beforeAll, describe, expect, it } from "vitest";
import { basinMasks } from "../src/core/basins.js";
import type { Kernels } from "../src/core/kernels.js";
import { twoWells } from "../src/core/presets.js";
import { createEngine } from "../src/node/index.js";
import { loadKernels, rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

function wasmMasks(r: Float64Array, n: number, m: number, eps: number): { basins: Uint8Array[]; outside: Uint8Array } {
  const mark = k.mark();
  const rPtr = k.allocF64(n * m);
  k.write(rPtr, r);
  const outside = k.allocU8(n);
  k.u8(outside, n).fill(1);
  const basins = Array.from({ length: m }, () => k.allocU8(n));
  for (let i = 0; i < m; i++) {
    let max = -Infinity;
    for (let x = 0; x < n; x++) max = Math.max(max, r[i * n + x]);
    k.raw.markBasin(rPtr + 8 * i * n, n, max - eps, basins[i], outside);
  }
  const out = { basins: basins.map((p) => k.u8(p, n).slice()), outside: k.u8(outside, n).slice() };
  k.release(mark);
  return out;
}

describe("basin masks in Wasm memory", () => {
  it("equal basins.ts on random landscapes, with ties exactly at max - eps", () => {
    const rand = rng(3);
    for (const [n, m] of [[1, 1], [7, 2], [301, 3], [4096, 2]]) {
      const r = new Float64Array(n * m).map(() => Math.round(rand() * 40) / 8 - 5); // many equal values
      for (const eps of [0, 0.125, 0.5, 3]) {
        const a = wasmMasks(r, n, m, eps);
        const b = basinMasks(r, n, m, eps);
        expect(a.outside).toEqual(b.outside);
        a.basins.forEach((mask, i) => expect(mask).toEqual(b.basins[i]));
        // Not vacuous: some atom is in a basin and (unless eps covers all) some is outside.
        expect(a.basins[0].some((v) => v === 1)).toBe(true);
      }
    }
  });

  it("a run's basin masses and the Nash solution's use them", async () => {
    const engine = await createEngine();
    const s = twoWells([-1, 1.5], 0.4, { generations: 30, basinEpsilon: 0.3 });
    const run = engine.run(s, { nash: true, final: true });
    const problem = engine.compile(engine.run(s).scenario!);
    const masks = basinMasks(problem.r, problem.n, problem.m, 0.3);
    const p = run.final.p!;
    masks.basins.forEach((mask, i) => {
      let mass = 0;
      for (let x = 0; x < p.length; x++) if (mask[x]) mass += p[x];
      expect(run.final.basinMass[i]).toBeCloseTo(mass, 14);
    });
    let nashOut = 0;
    for (let x = 0; x < p.length; x++) if (masks.outside[x]) nashOut += run.nash!.p[x];
    expect(run.nash!.outsideMass).toBe(nashOut);
  });
});
