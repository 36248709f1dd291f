// Grids of at most 32 atoms take the finite-K step's table path (assembly/finitek.ts tableGroup),
// which raises phi to the power K - 1 at every node in vector passes. It must keep every bit of
// the node-by-node loop it replaced: each case's SHA-256 below was computed by that loop. The
// cases cover K - 1 from 1 to 63 (repeated squaring, one to six bits set) and K - 1 = 65 and
// 199 (exp and log, node by node), both groups' weights and a shifted initial distribution.
import { beforeAll, describe, expect, it } from "vitest";
import { twelveAtoms } from "../src/core/presets.js";
import { createEngine, parseScenario, type Engine } from "../src/node/index.js";
import { runDigest } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const cases: [number, number, string][] = [
  [2, 0.3, "50c86c8eb4758875280ff18ccd9845edf30bdfaaeda5a47b8834873c25b4b911"],
  [3, 0.5, "50c9ec1512fbf2b51ccb69dca457f37a7a8f61e9e8004b405c1bbbc0518ec05b"],
  [4, 0.7, "bb1082fa2dd6c69e8a82e1b4e446dad28574c36033e5f50cc70ca7a5041aadf2"],
  [8, 0.5, "c8b512d6b49310851cb8f92b93941dda482899efb3f14cdfb233b43f2aaeac9d"],
  [32, 0.2, "c68b7526964fb9aa2ff955f1366046b9cfcadd90baa5dde41566a64d37bddb3a"],
  [64, 0.5, "8310d974e5a90224c19639f3a5bcf43beb9a809e55701bac428eee2baf31ba72"],
  [66, 0.5, "3ecd3d90524a8f62de58dcf3c5a2b32fdfddce792250e8d8e7845b7b34d7b528"],
  [200, 0.6, "06812a1bf1ca20ea0dbfa769f3aa34ea85e9bcc9065ebb4d28a66266d853b38b"],
];

describe("the small-grid finite-K step keeps every bit", () => {
  for (const [K, q, expected] of cases) {
    it(`K = ${K}, q = ${q}`, () => {
      const s = parseScenario(
        twelveAtoms(K, {
          initial: { kind: "gaussian", mean: 0.4, sd: 1.3 },
          groups: [
            { weight: q, reward: { kind: "quadratic", center: -1.5, scale: 2 } },
            { weight: 1 - q, reward: { kind: "quadratic", center: 1.5, scale: 2 } },
          ],
          generations: 300,
          record: { every: 70, snapshots: [5] },
        }),
      );
      const result = engine.run(s, { final: true });
      expect(result.trajectory.map((x) => x.generation)).toEqual([0, 70, 140, 210, 280, 300]);
      expect(result.maxMassDefect).toBeLessThan(1e-12);
      expect(runDigest(result)).toBe(expected);
    });
  }
});
