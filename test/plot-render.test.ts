// The chart specs of src/core/charts.ts drawn headless in Node: `plot` writes SVG and PNG,
// `report` a self-contained HTML file; a sweep's rows become a phase-diagram heat map.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { distributionSpec, metricValue, phaseDiagramSpec, sweepAxes, type SweepRow } from "../src/core/charts.js";
import { toJson } from "../src/core/json.js";
import { presetScenario } from "../src/core/presets.js";
import { createEngine } from "../src/node/index.js";
import { readPlotInput, renderPng, renderSvg, specFor, writeChart } from "../src/node/plot.js";
import { buildReportHtml, writeReportFromFiles } from "../src/node/report.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-plot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

function rows(): SweepRow[] {
  const out: SweepRow[] = [];
  let cell = 0;
  for (const q of [0.2, 0.5, 0.8]) {
    for (const K of [2, 4, "inf"]) {
      const ok = !(q === 0.8 && K === 2);
      out.push({ cell: cell++, params: { "groups[0].weight": q, "curation.K": K }, seed: 1, status: ok ? "ok" : "error", final: ok ? { basinMass: [q, 1 - q], nashGap: 0.01 } : undefined, error: ok ? undefined : "boom" });
    }
  }
  return out;
}

describe("charts", () => {
  it("reads metrics by name, index and the strings toJson writes for non-finite numbers", () => {
    const m = { basinMass: [0.3, 0.7], nashGap: 1e-3, klToNash: "Infinity" };
    expect(metricValue(m, "basinMass[1]")).toBe(0.7);
    expect(metricValue(m, "basinMass.0")).toBe(0.3);
    expect(metricValue(m, "nashGap")).toBe(1e-3);
    expect(metricValue(m, "klToNash")).toBeNull();
    expect(metricValue(m, "missing")).toBeNull();
  });

  it("finds the varying sweep axes and keeps failed cells out of the colour", () => {
    const r = rows();
    expect(sweepAxes(r)).toEqual(["groups[0].weight", "curation.K"]);
    const spec = phaseDiagramSpec(r) as { data: { values: { value: number | null; x: string; y: string }[] } };
    expect(spec.data.values).toHaveLength(9);
    expect(spec.data.values.filter((v) => v.value === null)).toHaveLength(1);
    expect(new Set(spec.data.values.map((v) => v.y))).toEqual(new Set(["2", "4", "inf"]));
  });

  it("draws a 2-D grid as a heat map with the Nash solution as circles", async () => {
    const geometry = { n: 4, dim: 2 as const, coords: Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1]), cellWidth: null, gridShape: [2, 2] as [number, number] };
    const spec = distributionSpec(geometry, [{ label: "p_T", p: [0.1, 0.2, 0.3, 0.4] }], [0, 0, 0.5, 0.5]);
    const svg = await renderSvg(spec);
    expect(svg.startsWith("<svg")).toBe(true);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(4);
  });
});

describe("plot and report from files", async () => {
  const engine = await createEngine();
  const resultPath = join(dir, "result.json");
  const atomsPath = join(dir, "atoms.json");
  const sweepPath = join(dir, "sweep.jsonl");
  writeFileSync(resultPath, toJson(engine.run(presetScenario("two-groups"), { final: true, nash: true }), 2));
  const small = presetScenario("finite-k-compromise");
  small.generations = 100;
  writeFileSync(atomsPath, toJson(engine.run(small, { final: true, nash: true })));
  writeFileSync(sweepPath, rows().map((r) => toJson(r)).join("\n") + "\n");

  it("writes a run's figure as SVG with the Nash overlay and the metric panels", async () => {
    const out = join(dir, "fig.svg");
    await writeChart(specFor(await readPlotInput(resultPath)), out);
    const svg = readFileSync(out, "utf8");
    expect(svg).toContain("Nash p*");
    expect(svg).toContain("nashGap");
    expect(svg).toContain("entropy");
  });

  it("writes PNG through resvg with text drawn (a PNG, larger than a blank page)", async () => {
    const out = join(dir, "fig.png");
    await writeChart(specFor(await readPlotInput(atomsPath), { chart: "distribution" }), out);
    const png = readFileSync(out);
    expect([...png.subarray(0, 4)]).toEqual(PNG_MAGIC);
    expect(png.length).toBeGreaterThan(10_000);
    expect([...(await renderPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')).subarray(0, 4)]).toEqual(PNG_MAGIC);
  });

  it("draws a sweep .jsonl as a phase diagram", async () => {
    const input = await readPlotInput(sweepPath);
    expect(input.kind).toBe("sweep");
    const svg = await renderSvg(specFor(input, { metric: "basinMass[0]" }));
    expect(svg).toContain("groups[0].weight");
    expect(svg).toContain("curation.K");
  });

  it("refuses a file that is neither a result nor sweep rows, and a bad extension", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ hello: 1 }));
    await expect(readPlotInput(bad)).rejects.toMatchObject({ code: "INVALID_SCENARIO", field: "input" });
    await expect(writeChart(specFor(await readPlotInput(resultPath)), join(dir, "fig.gif"))).rejects.toMatchObject({ field: "out" });
  });

  it("writes a self-contained report: inline SVG, tables, no scripts or external assets", async () => {
    const out = join(dir, "report.html");
    await writeReportFromFiles([resultPath, atomsPath, sweepPath], out, { title: "test report" });
    const html = readFileSync(out, "utf8");
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain("<table>");
    expect(html).toContain(engine.info.wasmSha256);
    expect(html).not.toMatch(/<script|<link|src="http/);
    const direct = await buildReportHtml([{ kind: "sweep", title: "s", rows: rows() }]);
    expect(direct).toContain("9 cells, 8 ok, 1 failed.");
  });
});
