// The figures a paper needs: the reward landscape with basins and the outside shaded, Nash p*
// as stems (named the K = infinity limit at finite K), a log mass axis, replicates as mean ± sd,
// several runs overlaid, and the preset summaries (Table 5 analogue, k-phase) in reports.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareSpec, distributionSpec, isFiniteK, landscapeSpec, replicatesSpec, runFigureSpec } from "../src/core/charts.js";
import { compileScenario } from "../src/core/compile.js";
import { toJson } from "../src/core/json.js";
import { presetScenario } from "../src/core/presets.js";
import { parseScenario } from "../src/core/scenario.js";
import type { RunResult } from "../src/core/types.js";
import { summarizeKPhase, summarizeTable5 } from "../src/sweep/summary.js";
import type { Row } from "../src/sweep/task.js";
import { createEngine } from "../src/node/index.js";
import { geometryOfResult, readPlotInput } from "../src/node/plot-input.js";
import { specFor } from "../src/node/plot-spec.js";
import { renderSvg } from "../src/node/render.js";
import { buildReportHtml, writeReportFromFiles } from "../src/node/report.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-figures-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Layered = { layer: { data?: { values: Record<string, unknown>[] }; layer?: unknown[]; encoding?: Record<string, any> }[] };

let two: RunResult;
let finite: RunResult;
beforeAll(async () => {
  const engine = await createEngine();
  const s = presetScenario("two-groups");
  s.generations = 60;
  two = JSON.parse(toJson(engine.run(s, { final: true, nash: true })));
  finite = JSON.parse(toJson(engine.run(presetScenario("finite-k-compromise"), { final: true, nash: true })));
});

describe("reward landscape", () => {
  it("draws each r_i(x) and shades each basin {r_i >= max r_i - eps} and the outside", () => {
    const problem = compileScenario(parseScenario(presetScenario("two-groups")));
    const spec = landscapeSpec(problem) as unknown as Layered;
    const regions = spec.layer[0].data!.values as { x0: number; x1: number; region: string }[];
    const lines = spec.layer[1].data!.values as { x: number; r: number; group: string }[];
    expect(lines).toHaveLength(problem.m * problem.n);
    // Each basin is one run of atoms around its centre (-2 and +2), inside the grid.
    const left = regions.filter((r) => r.region === "basin left");
    const right = regions.filter((r) => r.region === "basin right");
    expect(left).toHaveLength(1);
    expect(right).toHaveLength(1);
    expect(left[0].x0).toBeLessThan(-2);
    expect(left[0].x1).toBeGreaterThan(-2);
    expect(right[0].x0).toBeLessThan(2);
    expect(right[0].x1).toBeGreaterThan(2);
    // The outside fills the rest: three runs (left of, between and right of the basins).
    expect(regions.filter((r) => r.region === "outside")).toHaveLength(3);
    const width = regions.reduce((s, r) => s + (r.x1 - r.x0), 0);
    expect(width).toBeCloseTo(problem.n * problem.cellWidth!, 9);
  });

  it("is the first panel of a run's figure when the scenario is 1-D, and absent on a 2-D grid", async () => {
    const { geometry, p0, landscape } = geometryOfResult(two);
    const spec = runFigureSpec(two, geometry, p0, undefined, { landscape }) as { vconcat: { title?: unknown }[] };
    expect(String(spec.vconcat[0].title)).toMatch(/^reward landscape r_i\(x\)/);
    expect(landscapeSpec(compileScenario(parseScenario(presetScenario("gmm-2d"))))).toBeNull();
    const svg = await renderSvg(specFor({ kind: "run", path: "two.json", result: two }, { chart: "landscape" }));
    expect(svg).toContain("basin right");
    expect(svg).toContain("outside");
  });
});

describe("distribution panel", () => {
  it("draws Nash p* as stems in mass per atom on its own axis, not as a density", () => {
    const { geometry, p0 } = geometryOfResult(two);
    const spec = distributionSpec(geometry, [{ label: "p_0", p: p0! }, { label: "p_T", p: two.final.p! }], two.nash!.p) as unknown as Layered;
    const stems = spec.layer[1].data!.values as { x: number; mass: number }[];
    // Two point masses: 0.3 at -2 and 0.7 at +2 (the Nash masses equal q).
    expect(stems).toHaveLength(2);
    expect(Math.abs(stems[0].x + 2)).toBeLessThan(geometry.cellWidth!);
    expect(Math.abs(stems[1].x - 2)).toBeLessThan(geometry.cellWidth!);
    expect(stems[0].mass).toBeCloseTo(0.3, 6);
    expect(stems[1].mass).toBeCloseTo(0.7, 6);
    expect(spec.layer[1].layer).toHaveLength(2);
  });

  it("names the overlay the K = infinity Nash limit when K is finite", async () => {
    expect(isFiniteK(finite)).toBe(true);
    expect(isFiniteK(two)).toBe(false);
    const svg = await renderSvg(specFor({ kind: "run", path: "fk.json", result: finite }, { chart: "distribution" }));
    expect(svg).toContain("K = infinity Nash limit");
    const inf = await renderSvg(specFor({ kind: "run", path: "two.json", result: two }, { chart: "distribution" }));
    expect(inf).not.toContain("K = infinity Nash limit");
    expect(inf).toContain("Nash p*");
  });

  it("keeps p_0 as its own grey dashed series and puts the mass on a log axis with --log-y", () => {
    const { geometry, p0 } = geometryOfResult(two);
    const spec = distributionSpec(geometry, [{ label: "p_0", p: p0! }, { label: "p_T", p: two.final.p! }], undefined, undefined, { logY: true }) as unknown as Layered;
    const enc = spec.layer[0].encoding!;
    expect(enc.color.scale.domain).toEqual(["p_0", "p_T"]);
    expect(enc.color.scale.range[0]).toBe("#7f7f7f");
    expect(enc.strokeDash.scale.range[0]).toEqual([4, 2]);
    expect(enc.y.scale.type).toBe("log");
    const [lo, hi] = enc.y.scale.domain;
    expect(hi / lo).toBeCloseTo(2e16, 0);
  });
});

describe("replicates, overlays and summaries", () => {
  it("draws replicates as mean bars with ± sd whiskers and one dot per replicate", () => {
    const finals = [0.2, 0.3, 0.4].map((a) => ({ basinMass: [a, 1 - a], entropy: 1 + a }));
    const spec = replicatesSpec({ finals, seeds: [1, 2, 3] }) as { hconcat: Layered[] };
    const stats = spec.hconcat[0].layer[0].data!.values as { metric: string; mean: number; lo: number; hi: number }[];
    expect(stats[0].metric).toBe("basinMass[0]");
    expect(stats[0].mean).toBeCloseTo(0.3, 15);
    expect(stats[0].hi - stats[0].mean).toBeCloseTo(0.1, 15);
    expect(spec.hconcat[0].layer[2].data!.values).toHaveLength(6);
    expect(spec.hconcat.map((p) => (p as { title?: string }).title)).toEqual(["final basin masses", "entropy"]);
  });

  it("overlays runs: one colour per run, one dash per group", async () => {
    const spec = compareSpec([
      { label: "a", result: two },
      { label: "b", result: finite },
    ]) as { concat: { data: { values: { run: string }[] } }[] };
    expect(new Set(spec.concat[0].data.values.map((v) => v.run))).toEqual(new Set(["a", "b"]));
    const svg = await renderSvg(spec);
    expect(svg).toContain("2 runs overlaid");
  });

  it("report with several runs opens with their overlay", async () => {
    const html = await buildReportHtml([
      { kind: "run", title: "two", result: two },
      { kind: "run", title: "finite", result: finite },
    ]);
    expect(html).toContain("<h2>2 runs overlaid</h2>");
  });

  it("report of a table5 or k-phase sweep carries the summary, its figure and table", async () => {
    const rows: Row[] = [];
    let cell = 0;
    for (const D of [1, 2, 3]) {
      for (const q of [0.2, 0.5]) {
        rows.push({ cell: cell++, replicate: 0, params: { "groups[0].reward.center": -D / 2, "groups[1].reward.center": D / 2, "groups[0].weight": q }, seed: 1, status: "ok", final: { basinMass: [q + 0.1 / D, 1 - q - 0.1 / D] }, durationMs: 1 });
      }
    }
    const t5 = summarizeTable5(rows);
    expect(t5.chart).toBeDefined();
    const path = join(dir, "t5.jsonl");
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(dir, "t5.manifest.json"), JSON.stringify({ plan: { summary: "table5" } }));
    const out = join(dir, "t5.html");
    await writeReportFromFiles([path], out, { figure: { x: "groups[0].weight", y: "groups[1].reward.center" } });
    const html = (await import("node:fs")).readFileSync(out, "utf8");
    expect(html).toContain("Table 5 analogue");
    expect(html).toContain("mean_q (a_T - q)^2");
    expect((html.match(/<svg/g) ?? []).length).toBe(2);

    const kRows: Row[] = [];
    for (const K of [2, 4, "inf"]) for (const q of [0.2, 0.5]) kRows.push({ cell: kRows.length, replicate: 0, params: { "curation.K": K, "groups[0].weight": q }, seed: 1, status: "ok", final: { basinMass: [q, 1 - q], outsideMass: K === 2 ? 0.5 : 0 }, durationMs: 1 });
    const k = summarizeKPhase(kRows);
    expect(k.chart).toBeDefined();
    expect(await renderSvg(k.chart!)).toContain("outsideMass over groups[0].weight x curation.K");
  });
});

describe("kept trajectories", () => {
  it("draw one line per cell, or per parameter value with an aggregate, joined to the rows beside them", async () => {
    const rows = [0, 1, 2, 3].map((cell) => ({ cell, params: { K: cell < 2 ? 2 : 4, q: cell % 2 ? 0.3 : 0.6 }, seed: cell, status: "ok", final: { basinMass: [0.5, 0.5] } }));
    writeFileSync(join(dir, "k.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const traj: { cell: number; trajectory: { generation: number; basinMass: number[] }[] | null }[] = rows.map((r) => ({ cell: r.cell, trajectory: [0, 10, 20].map((g) => ({ generation: g, basinMass: [r.cell / 10 + g / 100, 0] })) }));
    // A failed cell keeps no trajectory.
    traj.push({ cell: 4, trajectory: null });
    writeFileSync(join(dir, "k.trajectories.jsonl"), traj.map((t) => JSON.stringify(t)).join("\n") + "\n");
    const input = await readPlotInput(join(dir, "k.trajectories.jsonl"));
    expect(input.kind).toBe("trajectories");
    if (input.kind !== "trajectories") return;
    expect(input.rows).toHaveLength(12);
    expect(input.rows[4].params).toEqual({ K: 2, q: 0.3, generation: 10 });
    const perCell = specFor(input, {}) as { title: { text: string[] }; data: { values: { series: string }[] } };
    expect(perCell.title.text.join(" ")).toBe("basinMass[0] against generation, one line per cell");
    expect(new Set(perCell.data.values.map((v) => v.series)).size).toBe(4);
    // One line per K: q varies within each (generation, K), so it must be aggregated.
    expect(() => specFor(input, { series: "K" })).toThrow(/^q varies within the cells/);
    const mean = specFor(input, { series: "K", aggregate: "mean" }) as { data: { values: { series: string; x: number; value: number }[] } };
    const k2at20 = mean.data.values.find((v) => v.series === "2" && v.x === 20)!;
    expect(k2at20.value).toBeCloseTo((0 + 0.1) / 2 + 0.2, 15);
    expect(await renderSvg(specFor(input, { series: "K", aggregate: "mean" }))).toContain("band: ± sd");
  });
});
