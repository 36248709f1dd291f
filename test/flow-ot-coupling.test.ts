// Minibatch optimal-transport coupling (OT-CFM): pairing each batch's noise with its data at
// least total squared distance makes the learned paths nearly straight, so a single Euler step
// already lands on the data, where independent pairing lands between the modes (seeded: 0.79
// of the samples on a mode with OT, 0.01 and 0.001 without, in 1-D and 2-D).
import { beforeAll, describe, expect, it } from "vitest";
import { createFlowNet, sequentialIds } from "../src/core/flow.js";
import type { Kernels } from "../src/core/kernels.js";
import { loadKernels, rng } from "./helpers.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

/** Fraction of one-Euler-step samples within 0.8 of a mode, after training with or without OT. */
function oneStepHits(dim: 1 | 2, ot: boolean): number {
  k.reset();
  const N = 2000;
  const modes = dim === 1 ? [[-2], [2]] : [[-2, 0], [2, 0]];
  const box = dim === 1 ? new Float64Array([-4, 4, 0, 0]) : new Float64Array([-4, 4, -4, 4]);
  const net = createFlowNet(k, { dim, hidden: [32, 32], activation: "silu", batch: 64, ot }, box);
  net.init(3, 0);
  const rand = rng(8);
  const pts = new Float64Array(N * dim);
  for (let j = 0; j < N; j++) {
    const m = modes[rand() < 0.5 ? 0 : 1];
    for (let d = 0; d < dim; d++) pts[j * dim + d] = m[d] + 0.25 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  }
  const data = k.allocF64(N * dim);
  k.write(data, pts);
  expect(net.train(data, N, 3, 1, 0, 800, 0.003)).toHaveLength(800);
  const out = k.allocF64(N * dim);
  net.sample(sequentialIds(N), "fresh", 3, 2, 1, false, 16, out);
  const x = k.read(out, N * dim);
  let hits = 0;
  for (let j = 0; j < N; j++) {
    if (modes.some((m) => Math.hypot(...m.map((c, d) => x[j * dim + d] - c)) < 0.8)) hits++;
  }
  return hits / N;
}

describe("minibatch OT coupling", () => {
  for (const dim of [1, 2] as const) {
    it(`${dim}-D: one Euler step lands on the modes far more often with OT than with independent pairing`, () => {
      const ot = oneStepHits(dim, true);
      const independent = oneStepHits(dim, false);
      expect(ot, `OT ${ot}, independent ${independent}`).toBeGreaterThan(0.6);
      expect(ot - independent, `OT ${ot}, independent ${independent}`).toBeGreaterThan(0.5);
    });
  }
});
