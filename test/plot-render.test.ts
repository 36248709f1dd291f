// The chart specs of src/core/charts.ts drawn headless in Node: `plot` writes SVG and PNG,
// `report` a self-contained HTML file; a sweep's rows become a phase-diagram heat map.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { distributionSpec, metricValue, phaseDiagramSpec, sweepAxes, sweepMetricNames } from "../src/core/charts.js";
import { toJson } from "../src/core/json.js";
import type { Row } from "../src/core/types.js";
import { presetScenario } from "../src/core/presets.js";
import { createEngine } from "../src/node/index.js";
import { readPlotInput } from "../src/node/plot-input.js";
import { specFor } from "../src/node/plot-spec.js";
import { renderPng, renderSvg, writeChart } from "../src/node/render.js";
import { buildReportHtml, writeReportFromFiles } from "../src/node/report.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-plot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

const cli = (...args: string[]) => runCli(args);

function rows(): Row[] {
  const out: Row[] = [];
  let cell = 0;
  for (const q of [0.2, 0.5, 0.8]) {
    for (const K of [2, 4, "inf"]) {
      const ok = !(q === 0.8 && K === 2);
      const base = { cell: cell++, replicate: 0, params: { "groups[0].weight": q, "curation.K": K }, seed: 1, durationMs: 1 };
      out.push(ok ? { ...base, status: "ok", final: { basinMass: [q, 1 - q], nashGap: 0.01 } } : { ...base, status: "error", error: "boom", errorCode: "ERROR" });
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
    const spec = phaseDiagramSpec(r) as { data: { values: { value: number | null; xv: string; yv: string }[] } };
    expect(spec.data.values).toHaveLength(9);
    expect(spec.data.values.filter((v) => v.value === null)).toHaveLength(1);
    expect(new Set(spec.data.values.map((v) => v.yv))).toEqual(new Set(["2", "4", "inf"]));
  });

  it("refuses axes and metrics the rows do not carry, listing the valid ones", () => {
    const r = rows();
    expect(sweepMetricNames(r)).toEqual(["basinMass[0]", "basinMass[1]", "nashGap"]);
    expect(() => phaseDiagramSpec(r, { x: "seed" })).toThrow(/--x must be a parameter of the sweep's rows: groups\[0\]\.weight, curation\.K, cell \(got "seed"\)/);
    expect(() => phaseDiagramSpec(r, { y: "tau" })).toThrow(expect.objectContaining({ code: "INVALID_SCENARIO", field: "y" }));
    expect(() => phaseDiagramSpec(r, { metric: "bogus" })).toThrow(/--metric must be a final metric of the sweep's rows: basinMass\[0\.\.1\], nashGap \(got "bogus"\)/);
    expect(() => phaseDiagramSpec(r, { metric: "basinMass[2]" })).toThrow(expect.objectContaining({ field: "metric" }));
    expect(() => phaseDiagramSpec(r, { metric: "nashGap[0]" })).toThrow(expect.objectContaining({ field: "metric" }));
    // "cell" is always an axis; "basinMass.1" is metricValue's other spelling of basinMass[1].
    const spec = phaseDiagramSpec(r, { x: "cell", y: "curation.K", metric: "basinMass.1" }) as { data: { values: { xv: string }[] } };
    expect(spec.data.values.map((v) => v.xv).sort()).toEqual(r.map((row) => String(row.cell)).sort());
    // Rows with no ok cell: the names are checked against the fields of Metrics.
    const failed = r.map((row) => ({ ...row, status: "error", final: undefined }));
    expect(() => phaseDiagramSpec(failed, { metric: "entropy" })).not.toThrow();
    expect(() => phaseDiagramSpec(failed, { metric: "basinMass" })).toThrow(expect.objectContaining({ field: "metric" }));
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

  describe("the CLI refuses bad flags with exit code 2 and writes nothing", () => {
    const outDir = mkdtempSync(join(tmpdir(), "plurisim-plot-out-"));
    afterAll(() => rmSync(outDir, { recursive: true, force: true }));
    const missing = join(outDir, "no-such-dir", "x.svg");
    const cases: { name: string; args: () => string[]; message: RegExp }[] = [
      { name: "plot --x seed (not a parameter)", args: () => ["plot", sweepPath, "--out", join(outDir, "xy.svg"), "--x", "seed"], message: /\[INVALID_SCENARIO\]: --x must be a parameter of the sweep's rows: groups\[0\]\.weight, curation\.K, cell \(got "seed"\)/ },
      { name: "plot --y bogus", args: () => ["plot", sweepPath, "--out", join(outDir, "xy.svg"), "--y", "bogus"], message: /--y must be a parameter of the sweep's rows: .*\(got "bogus"\)/ },
      { name: "plot --metric bogus", args: () => ["plot", sweepPath, "--out", join(outDir, "m.svg"), "--metric", "bogus"], message: /--metric must be a final metric of the sweep's rows: basinMass\[0\.\.1\], nashGap \(got "bogus"\)/ },
      { name: "report --metric bogus", args: () => ["report", sweepPath, "--out", join(outDir, "r.html"), "--metric", "bogus"], message: /--metric must be a final metric/ },
      { name: "plot --out in a missing directory", args: () => ["plot", resultPath, "--out", missing], message: /\[FILE\]: --out ".*no-such-dir\/x\.svg": the directory ".*no-such-dir" does not exist/ },
      { name: "report --out in a missing directory", args: () => ["report", resultPath, "--out", join(outDir, "no-such-dir", "r.html")], message: /\[FILE\]: --out ".*r\.html": the directory ".*no-such-dir" does not exist/ },
      { name: "report --out x.pdf", args: () => ["report", resultPath, "--out", join(outDir, "x.pdf")], message: /\[INVALID_SCENARIO\]: --out must end in \.html or \.htm \(got ".*x\.pdf"\)/ },
      { name: "plot --out x.gif", args: () => ["plot", resultPath, "--out", join(outDir, "x.gif")], message: /--out must end in \.svg or \.png/ },
    ];
    for (const c of cases) {
      it(c.name, () => {
        for (const f of readdirSync(outDir)) rmSync(join(outDir, f), { recursive: true, force: true });
        const r = cli(...c.args());
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
        expect(r.stderr).toMatch(c.message);
        expect(r.code, r.stderr).toBe(2);
        expect(readdirSync(outDir)).toEqual([]);
      });
    }

    it("still writes a good sweep figure through the CLI", () => {
      const out = join(outDir, "ok.svg");
      const r = cli("plot", sweepPath, "--out", out, "--x", "curation.K", "--y", "groups[0].weight", "--metric", "nashGap");
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(out)).toBe(true);
      expect(readFileSync(out, "utf8")).not.toContain("NaN");
      rmSync(out);
    });
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
