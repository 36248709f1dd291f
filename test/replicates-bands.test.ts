// Replicates carry mean ± sd bands per recorded generation: they equal, bit for bit, Welford's
// update over R separate runs taken in seed order (and the two-pass mean and sd to rounding),
// they follow record.every, the figure draws them as band layers, and the final-only fields are
// what they were.
import { beforeAll, describe, expect, it } from "vitest";
import { replicatesSpec } from "../src/core/charts.js";
import { presetScenario } from "../src/core/presets.js";
import { aggregateReplicates, lostBasinThreshold, replicateSeed } from "../src/core/replicates.js";
import { createEngine, type Engine } from "../src/node/index.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

// Histogram retraining on N = 50 samples: the replicates differ, so the sd is not 0.
const scenario: Record<string, unknown> & { seed: number } = { seed: 1, ...presetScenario("drift-loses-basin"), generations: 40, record: { every: 5 } };
const R = 6;

/** Welford's running mean and sd of `values` in order, as the bands compute them. */
function welford(values: number[]): [number, number] {
  let k = 0;
  let mean = 0;
  let m2 = 0;
  for (const v of values) {
    k++;
    const d = v - mean;
    mean += d / k;
    m2 += d * (v - mean);
  }
  return [mean, k < 2 ? 0 : Math.sqrt(m2 / (k - 1))];
}

describe("replicate bands", () => {
  it("equal Welford's mean and sd over R separate runs, generation by generation, bit for bit", () => {
    const reps = engine.runReplicates(scenario, R);
    const runs = Array.from({ length: R }, (_, r) => engine.run({ ...scenario, seed: replicateSeed(scenario.seed, r) }));
    const generations = runs[0].trajectory.map((m) => m.generation);
    expect(reps.trajectory.map((b) => b.generation)).toEqual(generations);
    let spread = 0;
    reps.trajectory.forEach((band, t) => {
      expect(band.n).toBe(R);
      for (const key of ["nashWelfare", "nashGap", "entropy"] as const) {
        const [mu, sd] = welford(runs.map((run) => run.trajectory[t][key] as number));
        expect(band.mean[key], `${key} at generation ${band.generation}`).toBe(mu);
        expect(band.std[key], `${key} sd at generation ${band.generation}`).toBe(sd);
      }
      for (let i = 0; i < 2; i++) {
        const values = runs.map((run) => run.trajectory[t].basinMass[i]);
        const [mu, sd] = welford(values);
        expect((band.mean.basinMass as number[])[i]).toBe(mu);
        expect((band.std.basinMass as number[])[i]).toBe(sd);
        // Against the two-pass formula: equal to rounding.
        const m = values.reduce((a, b) => a + b, 0) / R;
        const s = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (R - 1));
        expect(Math.abs(mu - m), `mean diff ${mu - m}`).toBeLessThanOrEqual(1e-14);
        expect(Math.abs(sd - s), `sd diff ${sd - s}`).toBeLessThanOrEqual(1e-12);
        spread = Math.max(spread, sd);
      }
    });
    expect(spread).toBeGreaterThan(0);
  });

  it("follow record.every and end at the final generation", () => {
    const reps = engine.runReplicates({ ...scenario, record: { every: 10 } }, 2);
    expect(reps.trajectory.map((b) => b.generation)).toEqual(engine.run(scenario).trajectory.map((m) => m.generation).filter((g) => g % 10 === 0 || g === 40));
    expect(reps.trajectory.at(-1)!.generation).toBe(40);
  });

  it("leave the final-only fields as they were: mean, sd and survival of the finals", () => {
    const reps = engine.runReplicates(scenario, R);
    const again = aggregateReplicates(reps.finals.map((f) => ({ final: f as unknown as Record<string, unknown> })), 2, lostBasinThreshold({ model: "histogram", samples: 50 }));
    expect(reps.mean).toEqual(again.mean);
    expect(reps.std).toEqual(again.std);
    expect(reps.basinSurvival).toEqual(again.basinSurvival);
    expect(reps.seeds).toEqual(Array.from({ length: R }, (_, r) => replicateSeed(scenario.seed, r)));
    // The last band is the finals' mean to rounding (Welford against the two-pass sum).
    const last = reps.trajectory.at(-1)!;
    (reps.mean.basinMass as number[]).forEach((m, i) => expect(Math.abs((last.mean.basinMass as number[])[i] - m)).toBeLessThanOrEqual(1e-14));
  });

  it("are drawn as area bands under mean lines, beside the final bars; a result without them keeps the bars alone", () => {
    const reps = engine.runReplicates(scenario, 3);
    const spec = replicatesSpec(reps) as { vconcat: { hconcat: { title: string; layer: { mark: { type: string } }[] }[] }[] };
    const [bands, finals] = spec.vconcat;
    expect(bands.hconcat.map((p) => p.title)).toEqual(["basin masses", "nashWelfare", "nashGap", "entropy"]);
    for (const p of bands.hconcat) expect(p.layer.map((l) => l.mark.type)).toEqual(["area", "line"]);
    expect(finals.hconcat[0].title).toBe("final basin masses");
    const old = replicatesSpec({ ...reps, trajectory: undefined }) as { hconcat?: unknown[]; vconcat?: unknown };
    expect(old.vconcat).toBeUndefined();
    expect(old.hconcat?.length).toBeGreaterThan(0);
  });
});
