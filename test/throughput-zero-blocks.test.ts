// Skipping blocks of atoms whose mass is exactly 0 changes no bit of any result: every landscape
// runs once with zero blocks skipped and once dense, and every number of the two results (the
// trajectory of metrics, final p, snapshots, the Nash distances) must be the same f64.
import { beforeAll, describe, expect, it } from "vitest";
import { createEngine, type Engine } from "../src/node/index.js";
import { twoWells } from "../src/core/presets.js";
import type { RunResult } from "../src/core/types.js";
import { loadKernels } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

/** Every number of a result (elapsedMs and the echoed scenario left out), with its path. */
function numbers(v: unknown, path = "", out: [string, number][] = []): [string, number][] {
  if (typeof v === "number") out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => numbers(x, `${path}[${i}]`, out));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) if (k !== "elapsedMs" && k !== "scenario" && k !== "engine") numbers(x, `${path}.${k}`, out);
  }
  return out;
}

function expectSameBits(a: RunResult, b: RunResult): void {
  const na = numbers(a);
  const nb = numbers(b);
  expect(na.length).toBe(nb.length);
  const diff = na.findIndex(([path, x], i) => path !== nb[i][0] || !Object.is(x, nb[i][1]));
  expect(diff === -1 ? "identical" : `${na[diff][0]}: ${na[diff][1]} vs ${nb[diff][1]}`).toBe("identical");
}

/** Aligned 64-atom blocks of p that are all exactly 0 (what the skipping path skips). */
function zeroBlocks(p: number[]): number {
  let dead = 0;
  for (let b = 0; b < Math.floor(p.length / 64); b++) if (p.slice(64 * b, 64 * b + 64).every((v) => v === 0)) dead++;
  return dead;
}

const grid = (cells: number, lo = -12, hi = 12) => ({ kind: "grid1d", min: lo, max: hi, cells });
const quad = (c: number, scale = 1) => ({ kind: "quadratic", center: c, scale });

const landscapes: { name: string; scenario: Record<string, unknown>; options?: Record<string, unknown> }[] = [
  { name: "two wells, n = 3001, 400 generations (the Table 5 grid)", scenario: twoWells([-1, 1], 0.3, { record: { every: 10, snapshots: [37, 400] } }), options: { nash: true } },
  { name: "two wells far apart, D = 5", scenario: twoWells([-2.5, 2.5], 0.6, { record: { every: 25 } }) },
  {
    name: "one reward, odd n = 1001 (m = 1 kernel, tail atom)",
    scenario: { space: grid(1001), initial: { kind: "uniform" }, groups: [{ weight: 1, reward: quad(3, 2) }], curation: { K: "inf", temperature: 0.5 }, generations: 300, record: { every: 7 } },
  },
  {
    name: "three groups on 5003 atoms (general-m kernel across its 4096-atom blocks)",
    scenario: {
      space: grid(5003),
      initial: { kind: "gaussian", mean: 0, sd: 4 },
      groups: [
        { weight: 0.2, reward: quad(-4, 3) },
        { weight: 0.5, reward: quad(0.5, 3) },
        { weight: 0.3, reward: quad(6, 3) },
      ],
      curation: { K: "inf", temperature: 1 },
      generations: 250,
      record: { every: 50 },
    },
    options: { nash: true },
  },
  {
    name: "real data mixed in (lambda = 0.1, a narrow p_data that underflows in the tails)",
    scenario: twoWells([-1, 1], 0.5, { realData: { fraction: 0.1, distribution: { kind: "gaussian", mean: 3, sd: 0.3 } }, record: { every: 40 } }),
  },
  {
    name: "per-generation mixing",
    scenario: twoWells([-1.5, 1.5], 0.4, { curation: { K: "inf", temperature: 1, mixing: "per-generation" }, generations: 200, record: { every: 20 } }),
  },
  {
    name: "exact finite K = 4, odd n = 601, p_0 exactly 0 away from the centre",
    scenario: {
      space: grid(601, -6, 6),
      initial: { kind: "gaussian", mean: 0, sd: 0.15 },
      groups: [
        { weight: 0.5, reward: quad(-0.5, 8) },
        { weight: 0.5, reward: quad(0.5, 8) },
      ],
      curation: { K: 4, temperature: 1 },
      generations: 60,
      record: { every: 6 },
    },
  },
  {
    name: "finite samples (histogram retraining)",
    scenario: twoWells([-1, 1], 0.5, { space: grid(801), generations: 40, record: { every: 4 }, retraining: { model: "histogram", samples: 2000 } }),
  },
];

describe("zero blocks are skipped without changing a bit", () => {
  for (const { name, scenario, options } of landscapes) {
    it(name, () => {
      const skipping = engine.run(scenario, { ...options, final: true });
      const dense = engine.run(scenario, { ...options, final: true, zeroBlocks: false });
      expectSameBits(skipping, dense);
      // The landscape really has blocks to skip (otherwise the check above proves nothing).
      if (!name.startsWith("finite samples")) expect(zeroBlocks(skipping.final.p!)).toBeGreaterThan(0);
    });
  }

  it("the Table 5 grid skips most blocks after a few dozen generations", () => {
    const r = engine.run(twoWells([-1, 1], 0.3, { generations: 60, record: { every: 60 } }), { final: true });
    const blocks = Math.floor(3001 / 64);
    expect(zeroBlocks(r.final.p!) / blocks).toBeGreaterThan(0.5);
  });
});

describe("zero-block flags at the kernel level", () => {
  it("a block whose buffer held mass two generations ago is cleared, and its flag follows", async () => {
    const k = await loadKernels();
    const n = 257;
    const nb = k.raw.zeroBlockCount(n);
    expect(nb).toBe(5);
    k.reset();
    const p = k.allocF64(n);
    const out = k.allocF64(n);
    const w = k.allocF64(2 * n);
    const c = k.allocF64(2);
    const z = k.allocF64(2);
    const fp = k.allocU8(nb);
    const fo = k.allocU8(nb);
    const pv = new Float64Array(n);
    pv[3] = 0.5;
    pv[n - 1] = 0.5; // the tail atom of an odd n, alone in the last block
    k.write(p, pv);
    k.write(out, new Float64Array(n).fill(7)); // stale mass everywhere in out
    k.write(w, new Float64Array(2 * n).fill(1));
    k.write(c, [0.5, 0.5]);
    k.raw.markBlocks(p, n, fp);
    expect(Array.from(new Uint8Array(k.f64(0, 0).buffer, fp, nb))).toEqual([1, 0, 0, 0, 1]);
    k.writeU8(fo, new Uint8Array(nb).fill(1));
    const s = k.raw.kinfStep(p, out, w, n, 2, c, z, 0, 0, fp, fo, 0);
    expect(s).toBe(1);
    const o = k.read(out, n);
    expect(o[3]).toBe(0.5);
    expect(o[n - 1]).toBe(0.5);
    expect(o.reduce((a, v) => a + v, 0)).toBe(1);
    expect(Array.from(new Uint8Array(k.f64(0, 0).buffer, fo, nb))).toEqual([1, 0, 0, 0, 1]);
    expect(k.raw.liveBlocks(fo, n)).toBe(2);
  });
});
