// A sweep cell's scenario is validated without a full parse (spec.ts parsedCellAt: the base's
// shape once, each swept value once, the checks across fields per cell). It must equal
// parseScenario of the cell built in full, and every cell parseScenario refuses must fall back to
// the full parse, so error rows keep their codes, messages and fields. Batches run their cells
// grouped by set-up (task.ts runOrder) and hand back file lines; the rows must not change.
import { describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { toJson } from "../src/core/json.js";
import { parseScenario, type Scenario } from "../src/core/scenario.js";
import { createEngine } from "../src/node/index.js";
import { OrderedWriter } from "../src/node/ordered-writer.js";
import { sweepPresetDocument } from "../src/sweep/presets.js";
import { cellAt, parsedCellAt, parseSweep, type SweepPlan } from "../src/sweep/spec.js";
import { rowLine, runBatch, runBatchLines, runCell, runOrder, trajectoryLine, type CellResult } from "../src/sweep/task.js";

const small = { kind: "grid1d", min: -3, max: 3, cells: 61 };
const quadratic = (center: number) => ({ kind: "quadratic", center, scale: 1 });

const sweeps: Record<string, Record<string, unknown>> = {
  table5: sweepPresetDocument("table5"),
  lemma35: sweepPresetDocument("lemma35"),
  "k-phase": sweepPresetDocument("k-phase"),
  "seed axis, replicates, enums, a derived path from the base's numbers": {
    base: { space: small, groups: [{ weight: 0.4, reward: quadratic(-1) }, { weight: 0.6, reward: { kind: "gaussian", center: 1, width: 0.5 } }], generations: 5 },
    axes: { seed: [3, 4], "curation.mixing": ["per-sample", "per-generation"], generations: { range: [2, 4] } },
    zip: [{ "groups[0].reward.center": [-1, -2], "curation.K": [4, "inf"] }],
    derived: { "realData.fraction": "groups[1].reward.width / 10", basinEpsilon: "0.05 * generations" },
    replicates: 2,
  },
  "paths the base leaves to defaults": {
    base: { space: small, groups: [{ weight: 1, reward: quadratic(0) }] },
    axes: { "curation.temperature": [0.5, 2], "realData.fraction": [0, 0.25], "curation.K": [2, "inf"] },
  },
  "combinations refused across fields (weights, record.every)": {
    base: { space: small, normalize: true, groups: [{ weight: 0.5, reward: quadratic(-1) }, { weight: 0.5, reward: quadratic(1) }], generations: 10, record: { every: 1 } },
    axes: { "groups[0].weight": [0.2, 0.6], "curation.temperature": [0.5, 1], generations: [10, 10_000_000], "record.every": [1000, 1] },
    derived: { "groups[1].weight": "1.4 - groups[0].weight - curation.temperature" },
  },
};

/** parseScenario of the cell built in full, or the error it throws. */
function full(plan: SweepPlan, c: number): { scenario: Scenario } | { error: unknown } {
  try {
    return { scenario: parseScenario(cellAt(plan, c).scenario) };
  } catch (e) {
    return { error: e };
  }
}

describe("parsedCellAt", () => {
  for (const [name, doc] of Object.entries(sweeps)) {
    it(`equals parseScenario of the full cell, or falls back where it throws: ${name}`, () => {
      const plan = parseSweep(doc);
      let fast = 0;
      let refused = 0;
      for (let c = 0; c < plan.total; c++) {
        const want = full(plan, c);
        const got = parsedCellAt(plan, c);
        if ("error" in want) {
          expect(isPlurisimError(want.error)).toBe(true);
          expect(got).toBeNull();
          refused++;
          continue;
        }
        expect(got, `cell ${c}`).not.toBeNull();
        const cell = cellAt(plan, c);
        expect(got!.scenario).toStrictEqual(want.scenario);
        expect(JSON.stringify(got!.scenario)).toBe(JSON.stringify(want.scenario));
        expect({ ...got!, scenario: null }).toStrictEqual({ ...cell, scenario: null });
        fast++;
      }
      expect(fast).toBeGreaterThan(0);
      if (name.startsWith("combinations")) expect(refused).toBeGreaterThan(0);
    });
  }

  it("leaves to the full parse the sweeps that set objects or fields the base's shape lacks", () => {
    const objects = parseSweep({ base: { space: small, groups: [{ weight: 1, reward: quadratic(0) }] }, axes: { "groups[0].reward": [quadratic(0), quadratic(1)] } });
    expect(parsedCellAt(objects, 1)).toBeNull();
    const absent = parseSweep({ base: { space: small, groups: [{ weight: 1, reward: quadratic(0) }] }, axes: { "earlyStop.tolerance": [1e-3, 1e-4] } });
    expect(parsedCellAt(absent, 0)).toBeNull();
    const pair = parseSweep({ base: { space: { kind: "grid2d", min: [-1, -1], max: [1, 1], cells: [5, 5] }, groups: [{ weight: 1, reward: { kind: "quadratic", center: [0, 0] } }] }, axes: { "groups[0].reward.center[0]": [0, 0.5] } });
    expect(parsedCellAt(pair, 1)).toBeNull();
  });
});

describe("sweep batches", () => {
  const strip = (r: CellResult) => ({ ...r, row: { ...r.row, durationMs: 0 } });

  it("run table5's cells grouped by their rewards, with the rows of cells run one by one in order", async () => {
    const doc = sweepPresetDocument("table5");
    const plan = parseSweep({ ...doc, axes: { "groups[0].weight": { linspace: [0.1, 0.9, 5] } } });
    const cells = Array.from({ length: plan.total }, (_, c) => c);
    const order = runOrder(plan, cells);
    expect(order.slice(0, 5).map((i) => i % 4)).toEqual([0, 0, 0, 0, 0]);
    expect([...order].sort((a, b) => a - b)).toEqual(cells);
    const one = await createEngine();
    const inOrder = cells.map((c) => strip(runCell(one, plan, c)));
    const grouped = runBatch(await createEngine(), plan, cells).map(strip);
    expect(grouped).toStrictEqual(inOrder);
    // And what the engine gives each full cell on its own.
    const fresh = await createEngine();
    for (const c of [0, 7, 19]) {
      const r = fresh.run(cellAt(plan, c).scenario, { trajectory: false });
      expect(inOrder[c].row.status).toBe("ok");
      expect((inOrder[c].row as { final: { basinMass: number[] } }).final.basinMass).toEqual(r.final.basinMass);
    }
  });

  it("hand back the lines the ordered writer writes from results, error rows and trajectories included", async () => {
    const plan = parseSweep({ ...sweeps["combinations refused across fields (weights, record.every)"], axes: { "groups[0].weight": [0.2, 0.6], "curation.temperature": [0.5, 1] }, keep: { final: true, trajectory: true } });
    const cells = Array.from({ length: plan.total }, (_, c) => c);
    const engine = await createEngine();
    const results = runBatch(engine, plan, cells);
    expect(results.map((r) => r.row.status)).toEqual(["ok", "ok", "ok", "error"]);
    expect(results[3].row).toMatchObject({ errorCode: "INVALID_SCENARIO", errorField: "groups[1].weight" });
    const write = (fill: (w: OrderedWriter) => void) => {
      const out = { rows: "", trajectories: "" };
      const w = new OrderedWriter({ order: cells, sinks: { rows: (t) => (out.rows += t), trajectories: (t) => (out.trajectories += t) } });
      fill(w);
      w.flush();
      return { ...out, ok: w.ok, failed: w.failed };
    };
    const lines = runBatchLines(engine, plan, cells);
    const fromLines = write((w) => w.addLines(cells, lines));
    const fromResults = write((w) => results.forEach((r) => w.add(r)));
    const noDuration = (t: string) => t.replace(/"durationMs":[0-9.e+-]+,?/g, "");
    expect(noDuration(fromLines.rows)).toBe(noDuration(fromResults.rows));
    expect(fromLines.trajectories).toBe(fromResults.trajectories);
    expect([fromLines.ok, fromLines.failed]).toEqual([3, 1]);
    // The text toJson gives, non-finite numbers written as strings included.
    const odd = { row: { ...results[0].row, final: { kl: Infinity, at: [1, -Infinity, NaN] } } } as unknown as CellResult;
    for (const r of [...results, odd]) {
      expect(rowLine(r)).toBe(toJson(r.row));
      expect(trajectoryLine(r)).toBe(toJson({ cell: r.row.cell, trajectory: r.trajectory ?? null }));
    }
  });
});
