// Set-up once per sweep: a cell that changes only a few numbers reuses the compiled arrays of
// the one before (and the engine keeps what it derived from them in Wasm memory), with results
// bit-identical to a fresh compile on a fresh engine. Runs that keep only final values hold no
// per-generation storage.
import { beforeAll, describe, expect, it } from "vitest";
import { compileScenario } from "../src/core/compile.js";
import { twoWells } from "../src/core/presets.js";
import { parseScenario } from "../src/core/scenario.js";
import type { RunResult } from "../src/core/types.js";
import { createEngine, type Engine } from "../src/node/index.js";
import { parseSweep } from "../src/sweep/spec.js";
import { runCell } from "../src/sweep/task.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

function numbers(v: unknown, path = "", out: [string, number][] = []): [string, number][] {
  if (typeof v === "number") out.push([path, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => numbers(x, `${path}[${i}]`, out));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) if (k !== "elapsedMs" && k !== "scenario" && k !== "engine") numbers(x, `${path}.${k}`, out);
  }
  return out;
}

function firstDifference(a: RunResult, b: RunResult): string {
  const na = numbers(a);
  const nb = numbers(b);
  if (na.length !== nb.length) return `${na.length} numbers vs ${nb.length}`;
  const i = na.findIndex(([path, x], j) => path !== nb[j][0] || !Object.is(x, nb[j][1]));
  return i === -1 ? "identical" : `${na[i][0]}: ${na[i][1]} vs ${nb[i][1]}`;
}

const base = twoWells([-1, 1], 0.3, { generations: 120, record: { every: 30 } });
const withGroups = (w0: number, reward1 = { kind: "quadratic", center: 1, scale: 1 }) => ({
  groups: [
    { name: "left", weight: w0, reward: { kind: "quadratic", center: -1, scale: 1 } },
    { name: "right", weight: 1 - w0, reward: reward1 },
  ],
});

/** A sequence of cells as a sweep runs them: each changes something of the one before. */
const cells: [string, Record<string, unknown>][] = [
  ["the base", base],
  ["q", { ...base, ...withGroups(0.7) }],
  ["lambda", { ...base, realData: { fraction: 0.2 } }],
  ["K", { ...base, curation: { K: 3, temperature: 1 } }],
  ["seed and generations", { ...base, seed: 99, generations: 77 }],
  ["tau", { ...base, curation: { K: "inf", temperature: 0.7 } }],
  ["tau back", base],
  ["one reward", { ...base, ...withGroups(0.3, { kind: "quadratic", center: 2, scale: 0.5 }) }],
  ["basin width", { ...base, basinEpsilon: 0.3 }],
  ["initial distribution", { ...base, initial: { kind: "gaussian", mean: 0.5, sd: 2 } }],
  ["real-data distribution", { ...base, realData: { fraction: 0.1, distribution: { kind: "gaussian", mean: -1, sd: 1 } } }],
  ["space", { ...base, space: { kind: "grid1d", min: -6, max: 6, cells: 801 } }],
  ["back to the base", base],
];

describe("a sweep's cells reuse the set-up without changing a bit", () => {
  it("every cell of a sequence equals a fresh compile on a fresh engine", async () => {
    for (const [name, scenario] of cells) {
      const reused = engine.run(scenario, { final: true, nash: true });
      const fresh = (await createEngine()).runProblem(compileScenario(parseScenario(scenario)), { final: true, nash: true }, parseScenario(scenario));
      expect(`${name}: ${firstDifference(reused, fresh)}`).toBe(`${name}: identical`);
    }
  });

  it("an engine's nash() between runs (which resets its memory) does not disturb the next run", async () => {
    const before = engine.run(base, { final: true });
    engine.nash({ ...base, ...withGroups(0.9) });
    const after = engine.run(base, { final: true });
    expect(firstDifference(after, before)).toBe("identical");
  });

  it("compileScenario reuses exactly the arrays whose inputs are unchanged", () => {
    const s0 = parseScenario(base);
    const p0 = compileScenario(s0);
    const prev = { scenario: s0, problem: p0 };
    const q = compileScenario(parseScenario({ ...base, ...withGroups(0.8), curation: { K: 5, temperature: 2 }, seed: 4 }), prev);
    expect(q.r).toBe(p0.r);
    expect(q.p0).toBe(p0.p0);
    expect(q.pData).toBe(p0.pData);
    expect(q.coords).toBe(p0.coords);
    expect(Array.from(q.q)).toEqual([0.8, 1 - 0.8]);
    expect(q.tau).toBe(2);

    const oneReward = compileScenario(parseScenario({ ...base, ...withGroups(0.3, { kind: "quadratic", center: 3, scale: 1 }) }), prev);
    expect(oneReward.r).not.toBe(p0.r);
    expect(oneReward.p0).toBe(p0.p0);
    const fresh = compileScenario(parseScenario({ ...base, ...withGroups(0.3, { kind: "quadratic", center: 3, scale: 1 }) }));
    expect(Array.from(oneReward.r)).toEqual(Array.from(fresh.r));

    const newSpace = compileScenario(parseScenario({ ...base, space: { kind: "grid1d", min: -5, max: 5, cells: 3001 } }), prev);
    expect(newSpace.coords).not.toBe(p0.coords);
    expect(newSpace.r).not.toBe(p0.r);
    expect(newSpace.p0).not.toBe(p0.p0);
  });
});

describe("runs that keep only final values hold no per-generation storage", () => {
  it("trajectory: false computes metrics once, at the last generation, with the same bits", () => {
    const s = { ...base, generations: 20000, record: { every: 1 }, space: { kind: "grid1d", min: -3, max: 3, cells: 40 } };
    let records = 0;
    const finalOnly = engine.run(s, { trajectory: false, onRecord: () => records++ });
    expect(records).toBe(1);
    expect(finalOnly.trajectory.length).toBe(1);
    expect(finalOnly.final.generation).toBe(20000);
    const full = engine.run({ ...s, generations: 2000 });
    expect(full.trajectory.length).toBe(2001);
    const short = engine.run({ ...s, generations: 2000 }, { trajectory: false });
    expect(firstDifference({ ...short, trajectory: [] }, { ...full, trajectory: [] })).toBe("identical");
  });

  it("recordAt adds the generations asked for, and an early stop records where it stops", () => {
    const r = engine.run(base, { trajectory: false, recordAt: [0, 10, 55] });
    expect(r.trajectory.map((m) => m.generation)).toEqual([0, 10, 55, 120]);
    const full = engine.run({ ...base, record: { every: 5 } });
    expect(r.trajectory[2]).toEqual(full.trajectory[11]);
    const early = engine.run({ ...base, earlyStop: { tolerance: 1e-2 } }, { trajectory: false, recordAt: [119] });
    expect(early.stoppedEarly).toBe(true);
    expect(early.trajectory.length).toBe(1);
    expect(early.trajectory[0].generation).toBe(early.generationsRun);
  });

  it("a sweep cell that keeps final values runs without a trajectory; kept generations come from recordAt", () => {
    const plan = parseSweep({
      name: "final-only",
      base: { ...base, generations: 5000, record: { every: 1 }, space: { kind: "grid1d", min: -3, max: 3, cells: 30 } },
      axes: { "groups[0].weight": [0.2, 0.6] },
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      keep: { final: true, generations: [7, 4000], metrics: ["basinMass", "nashGap"] },
    });
    const seen: unknown[] = [];
    const spy: Engine = { ...engine, run: (s, o) => (seen.push(o), engine.run(s, o)), runProblem: (p, o, s) => (seen.push(o), engine.runProblem(p, o, s)) };
    const { row, trajectory } = runCell(spy, plan, 1);
    if (row.status !== "ok") throw new Error(`cell 1 failed: ${row.error}`);
    expect(trajectory).toBeUndefined();
    expect(seen[0]).toMatchObject({ trajectory: false, recordAt: [7, 4000] });
    expect(Object.keys(row.at!)).toEqual(["7", "4000"]);
    const direct = engine.run({ ...(plan.base as Record<string, unknown>), ...withGroups(0.6), seed: row.seed, record: { every: 1 } });
    expect(row.at!["4000"]!.basinMass).toEqual(direct.trajectory[4000].basinMass);
    expect(row.final!.nashGap).toBe(direct.final.nashGap);
  });
});
