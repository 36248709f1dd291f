// The set-up of a run (compileScenario, basinMasks) and the metrics of its recorded generations
// are pinned bit for bit: each case's SHA-256 below was computed by the code before compile's
// scans were fused and shortened and before entropy and KL reused repeated logs. A changed bit of
// any number a run outputs, of the compiled arrays, of a basin mask, or of an error thrown by
// compile (code, message, field, value) changes the hash.
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { basinMasks } from "../src/core/basins.js";
import { compileScenario } from "../src/core/compile.js";
import { dmath } from "../src/core/detmath.js";
import { PlurisimError } from "../src/core/errors.js";
import { twoWells } from "../src/core/presets.js";
import { parseScenario } from "../src/core/scenario.js";
import type { Kernels } from "../src/core/kernels.js";
import { createEngine, type Engine, type RunOptions } from "../src/node/index.js";
import { loadKernels, rng } from "./helpers.js";

let engine: Engine;
let k: Kernels;
beforeAll(async () => {
  engine = await createEngine();
  k = await loadKernels();
});

/** Every number under v with its path, as the hex of its f64 bits (so -0 and NaN count); timings and stamps left out. */
function feed(hash: ReturnType<typeof createHash>, v: unknown, path = ""): void {
  if (typeof v === "number") {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, v);
    hash.update(`${path}=${b.getBigUint64(0).toString(16)};`);
  } else if (ArrayBuffer.isView(v)) {
    hash.update(`${path}:${v.constructor.name}(${v.byteLength}):`);
    hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (Array.isArray(v) && v.length > 64 && v.every((x) => typeof x === "number")) feed(hash, Float64Array.from(v), path);
  else if (Array.isArray(v)) v.forEach((x, i) => feed(hash, x, `${path}[${i}]`));
  else if (v && typeof v === "object") {
    for (const [key, x] of Object.entries(v)) if (key !== "elapsedMs" && key !== "engine") feed(hash, x, `${path}.${key}`);
  } else hash.update(`${path}:${JSON.stringify(v)};`);
}

function digest(...parts: unknown[]): string {
  const hash = createHash("sha256");
  parts.forEach((p, i) => feed(hash, p, `#${i}`));
  return hash.digest("hex");
}

/** The compiled problem, its masks and the run's result, or the error compile throws. */
function outcome(scenario: Record<string, unknown>, options: RunOptions): unknown[] {
  const parsed = parseScenario(scenario);
  let problem;
  try {
    problem = compileScenario(parsed);
  } catch (e) {
    if (!(e instanceof PlurisimError)) throw e;
    return [{ code: e.code, message: e.message, field: e.field, value: e.value }];
  }
  const masks = basinMasks(problem.r, problem.n, problem.m, problem.basinEpsilon);
  return [problem, masks, engine.run(scenario, options)];
}

const grid = (cells: number, min = -12, max = 12) => ({ kind: "grid1d", min, max, cells });
const quad = (center: number, scale = 1) => ({ kind: "quadratic", center, scale });

const cases: [string, Record<string, unknown>, RunOptions, string][] = [
  [
    "two wells at 10^6 atoms (the measured scenario)",
    { space: grid(1_000_000), groups: [{ weight: 0.5, reward: quad(-1, 0.02) }, { weight: 0.5, reward: quad(1, 0.02) }], curation: { K: "inf", temperature: 1 }, generations: 2, record: { every: 2 } },
    { final: true },
    "303944b4c1880cba567192bb58f70c554b642d0ab97e1756b4dea63b4da9b6f6",
  ],
  [
    "two wells with Nash and audit",
    twoWells([-1, 1], 0.3, { generations: 60, record: { every: 7 } }),
    { final: true, nash: true, audit: true },
    "3cef0447548e59ef1ddbf1a1f3302fe7fa73091a53ddaac96d97eb1932638961",
  ],
  [
    "real data with its own distribution, wide basins",
    twoWells([-2, 1.5], 0.6, { generations: 40, record: { every: 5 }, basinEpsilon: 0.7, realData: { fraction: 0.2, distribution: { kind: "gaussian", mean: -1, sd: 1 } } }),
    { final: true, nash: true, audit: true },
    "d59282ecdd6c4a389c95977896bb8a2dd8a59b4fa67f70eb339bdb85ff767483",
  ],
  [
    "narrow p0 (zero blocks), small tau, dense and skipping",
    { space: grid(200_001, -5, 5), initial: { kind: "mixture", weights: [0.5, 0.5], means: [-1, 2], sds: [0.002, 0.01] }, groups: [{ weight: 0.3, reward: quad(-1) }, { weight: 0.7, reward: quad(2, 3) }], curation: { K: "inf", temperature: 0.05 }, generations: 6, record: { every: 1 } },
    { final: true, nash: true },
    "c71070c46f2c81210224ae6d0b5d57fb0b0f05b05be4acd6980e4def9bd7dcf6",
  ],
  [
    "the same, zero blocks off",
    { space: grid(200_001, -5, 5), initial: { kind: "mixture", weights: [0.5, 0.5], means: [-1, 2], sds: [0.002, 0.01] }, groups: [{ weight: 0.3, reward: quad(-1) }, { weight: 0.7, reward: quad(2, 3) }], curation: { K: "inf", temperature: 0.05 }, generations: 6, record: { every: 1 } },
    { final: true, nash: true, zeroBlocks: false },
    "c71070c46f2c81210224ae6d0b5d57fb0b0f05b05be4acd6980e4def9bd7dcf6",
  ],
  [
    "2-D grid, three groups, finite K",
    {
      space: { kind: "grid2d", min: [-3, -2], max: [3, 2], cells: [61, 47] },
      initial: { kind: "mixture", weights: [0.4, 0.6], means: [[-1, 0], [1, 0.5]], covs: [[[1, 0.3], [0.3, 0.5]], [[0.4, 0], [0, 0.4]]] },
      groups: [
        { weight: 0.2, reward: { kind: "gaussian", center: [-1, 0], width: 0.8, height: 2 } },
        { weight: 0.5, reward: { kind: "formula", expr: "sin(2 * x) * cos(y) - 0.1 * y^2" } },
        { weight: 0.3, reward: { kind: "box", boxes: [{ lo: [0, -1], hi: [2, 1], level: 1 }, { lo: [1, 0], hi: [3, 2], level: 2 }], outside: 0 } },
      ],
      curation: { K: 3, temperature: 0.7 },
      generations: 12,
      record: { every: 4, snapshots: [3] },
    },
    { final: true, nash: true },
    "d54989d6ae489f1507caf64b190b1822e928e545bd0871833af6f4b71fd857f7",
  ],
  [
    "histogram retraining (supportSize, lostBasins) against the exact model",
    twoWells([-1, 1], 0.5, { space: grid(2001, -4, 4), generations: 15, record: { every: 3 }, retraining: { model: "histogram", samples: 400 } }),
    { final: true, tvToExact: true },
    "8098c388f832f1c2e16f40110f7f6d7097c82f4cd074165a0ae3241a3d389b3b",
  ],
  [
    "explicit atoms: vector rewards with ties, plateau, zeros in p0",
    {
      normalize: true,
      space: { kind: "atoms", count: 9, coords: [-4, -3, -2, -1, 0, 1, 2, 3, 4] },
      initial: { kind: "vector", values: [0, 1, 2, 3, 0, 3, 2, 1, 1] },
      groups: [
        { weight: 1, reward: { kind: "vector", values: [1, 1, 0.95, 0, -1, 0, 0.95, 1, 1] } },
        { weight: 2, reward: { kind: "plateau", center: 0.5, radius: 1.2, level: 2, outside: -3 } },
        { weight: 1, reward: { kind: "linear", slope: -0.5, intercept: 1 } },
      ],
      curation: { K: "inf", temperature: 0.5 },
      generations: 9,
      record: { every: 1 },
    },
    { final: true, nash: true },
    "cf87c62c2ea00f1c205c287ff7ec1311d4b69038d8264ee5711114c69dfbfe1e",
  ],
  [
    "REWARD_UNDERFLOW except at one atom",
    { normalize: true, space: grid(101, -10, 10), groups: [{ weight: 1, reward: quad(0) }, { weight: 1, reward: quad(0, 1e5) }], curation: { K: "inf", temperature: 1 } },
    {},
    "5cf231822fa602346200232d6885f9e8f00048054d4720028ca426045d07595d",
  ],
  [
    "REWARD_UNDERFLOW on the whole support",
    { normalize: true, space: { kind: "atoms", count: 4, coords: [0, 1, 2, 3] }, initial: { kind: "vector", values: [1, 1, 0, 0] }, groups: [{ weight: 1, reward: { kind: "vector", values: [0, 0, 2000, 1] } }] },
    {},
    "7912d9ea35f186d9ad577d67db6014d5aa8b951616d7c82cfd8d341a24479169",
  ],
  [
    "REWARD_UNDERFLOW on a support that p_data widens",
    {
      normalize: true,
      space: { kind: "atoms", count: 4, coords: [0, 1, 2, 3] },
      initial: { kind: "vector", values: [1, 1, 0, 0] },
      realData: { fraction: 0.5, distribution: { kind: "vector", values: [0, 0, 1, 1] } },
      groups: [{ weight: 1, reward: { kind: "vector", values: [0, -1000, -2000, -3000] } }],
    },
    {},
    "dd1cd6c4b9f04a345108aa66e53c4247a37c7420f6adce0eddeaa41000e6f1f0",
  ],
  [
    "REWARD_NOT_FINITE in a later group wins over an underflow in an earlier one",
    { normalize: true, space: grid(101, -10, 10), groups: [{ weight: 1, reward: quad(0, 1e5) }, { weight: 1, reward: { kind: "formula", expr: "log(x + 3)" } }] },
    {},
    "640bee32462467d26238af2c42c777751228e91aebce62dc674e5fdbe6121332",
  ],
];

describe("set-up and metrics keep every bit", () => {
  for (const [name, scenario, options, expected] of cases) {
    it(name, () => {
      expect(digest(...outcome(scenario, options))).toBe(expected);
    });
  }
});

// The entropy and KL kernels reuse the last log when its argument repeats; the loops they had
// before, in TypeScript with the kernels' own log (dmath), give the bits they must keep.
const entropyBefore = (p: Float64Array) => p.reduce((h, v) => (v > 0 ? h - v * dmath.log(v) : h), 0);
function klBefore(p: Float64Array, q: Float64Array): number {
  let d = 0;
  for (let x = 0; x < p.length; x++) {
    if (!(p[x] > 0)) continue;
    if (!(q[x] > 0)) return Infinity;
    d += p[x] * dmath.log(p[x] / q[x]);
  }
  return d;
}

describe("entropy and KL with repeated arguments keep every bit", () => {
  it("runs of equal p, equal p over different q, equal ratios over different p, zeros", () => {
    const rand = rng(11);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + Math.floor(rand() * 3000);
      const levels = [0, 1e-300, 0.25, rand(), rand() * 1e-8, 3e-3];
      const p = new Float64Array(n);
      const q = new Float64Array(n);
      for (let x = 0; x < n; x++) {
        // Runs: p and q each keep their value with probability 0.8.
        p[x] = x > 0 && rand() < 0.8 ? p[x - 1] : levels[Math.floor(rand() * levels.length)];
        q[x] = x > 0 && rand() < 0.8 ? q[x - 1] : rand() < 0.5 ? 2 * p[x] : rand() + 1e-3;
      }
      const qPositive = q.map((v) => (v > 0 ? v : 0.5));
      expect(k.entropyArray(p)).toBe(entropyBefore(p));
      expect(k.klDivergenceArrays(p, qPositive)).toBe(klBefore(p, qPositive));
      expect(k.klDivergenceArrays(p, q)).toBe(klBefore(p, q));
    }
  });
});
