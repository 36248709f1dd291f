// Generations that record nothing run inside the module (assembly/steps.ts); recorded ones run
// one by one in the engine's loop. Recording every generation (a trajectory with record.every =
// 1) forces the loop everywhere, so a run that records only its last one must end with the same bits.
import { beforeAll, describe, expect, it } from "vitest";
import { twelveAtoms } from "../src/core/presets.js";
import type { Engine } from "../src/core/engine.js";
import { PlurisimError } from "../src/core/errors.js";
import { createEngine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const grid = (K: number | "inf", m: number, lambda: number, generations: number) => ({
  space: { kind: "grid1d", min: -6, max: 6, cells: 601 },
  groups: Array.from({ length: m }, (_, i) => ({ weight: 1 / m, reward: { kind: "quadratic", center: -2 + (4 * i) / Math.max(1, m - 1), scale: 1 } })),
  curation: { K, temperature: 0.5 },
  realData: { fraction: lambda },
  generations,
});

function sameBits(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe("generations run inside the module", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["K = inf, m = 1", grid("inf", 1, 0, 137)],
    ["K = inf, m = 2", grid("inf", 2, 0, 300)],
    ["K = inf, m = 3, lambda = 0.2", grid("inf", 3, 0.2, 101)],
    ["K = 4, m = 2", grid(4, 2, 0, 40)],
    ["K = 3, m = 3, lambda = 0.1", grid(3, 3, 0.1, 25)],
    ["12 atoms, K = 2", twelveAtoms(2, { generations: 301 })],
    ["12 atoms, K = 32", twelveAtoms(32, { generations: 200 })],
    ["12 atoms, K = inf", twelveAtoms("inf", { generations: 2500 })],
  ];
  for (const [name, s] of cases) {
    it(`${name}: the same bits as recording every generation`, () => {
      const T = s.generations as number;
      for (const zeroBlocks of [true, false]) {
        const stretch = engine.run({ ...s, record: { every: T } }, { final: true, trajectory: false, zeroBlocks });
        const loop = engine.run({ ...s, record: { every: 1 } }, { final: true, zeroBlocks });
        expect(loop.trajectory.length).toBe(T + 1);
        expect(sameBits(stretch.final.p!, loop.final.p!), `${name}, zeroBlocks ${zeroBlocks}`).toBe(true);
        expect(Object.is(stretch.maxMassDefect, loop.maxMassDefect)).toBe(true);
        expect(stretch.final.massDefect).toBe(loop.final.massDefect);
        expect(stretch.final.nashWelfare).toBe(loop.final.nashWelfare);
        expect(stretch.generationsRun).toBe(T);
      }
    });
  }

  it("progress is reported for every generation, in order", () => {
    const seen: number[] = [];
    engine.run({ ...grid("inf", 2, 0, 2100), record: { every: 2100 } }, { trajectory: false, onProgress: (done, total) => seen.push(done, total) });
    const expected = Array.from({ length: 2100 }, (_, k) => [k + 1, 2100]).flat();
    expect(seen).toEqual(expected);
  });

  it("a generation the module refuses is reported as the loop reports it", () => {
    // Weights e^-800 and e^-900 are 0 in f64: the first step loses a quarter of the mass to 0/0.
    const s = {
      space: { kind: "atoms", count: 4 },
      groups: [{ weight: 1, reward: { kind: "vector", values: [0, -1, -800, -900] } }],
      curation: { K: 2 },
      generations: 50,
    };
    const message = (every: number) => {
      try {
        engine.run({ ...s, record: { every } }, { trajectory: true });
      } catch (e) {
        expect(e).toBeInstanceOf(PlurisimError);
        expect((e as PlurisimError).code).toBe("REWARD_UNDERFLOW");
        return (e as Error).message;
      }
      throw new Error("the run was not refused");
    };
    expect(message(50)).toBe(message(1));
    expect(message(50)).toContain("generation 1:");
  });
});
