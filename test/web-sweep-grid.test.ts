// The page's sweep data and link state, without a browser: the incremental heat-map grid
// (rows in any order and in batches give the picture of one rebuild; a dimension that varies
// inside a cell is named; filters, facets and aggregates), the line plot's choices as the CLI's
// options, the URL fragment round trip, and the sweep builder's axes.
import { describe, expect, it } from "vitest";
import { parseSweep } from "../src/sweep/spec.js";
import type { Row } from "../src/sweep/task.js";
import { applyBuilder, builderAxes, scenarioParameterPaths } from "../src/web/builder.js";
import { heatmapSvg } from "../src/web/heatmap.js";
import { decodeFragment, encodeFragment, fromBase64Url, toBase64Url } from "../src/web/fragment.js";
import { metricReader, phaseDiagramSpec } from "../src/core/charts.js";
import { sweepFigureData } from "../src/core/sweep-figure.js";
import { defaultChart, defaultGridOptions, lineFigureOptions, SweepGrid, type GridOptions } from "../src/web/sweep-grid.js";

const spec = {
  name: "grid",
  base: "finite-k-compromise",
  axes: { "groups[0].weight": [0.2, 0.5, 0.8], "curation.K": [2, "inf"], "curation.temperature": [0.5, 1] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  replicates: 2,
  keep: { final: true },
};
const plan = parseSweep(spec);

/** Synthetic rows with a metric that encodes the cell, so every drawn value can be checked by hand. */
function rows(): Row[] {
  const out: Row[] = [];
  for (let cell = 0; cell < plan.total; cell++) {
    const replicate = cell % 2;
    let rest = Math.floor(cell / 2);
    const ti = rest % 2;
    rest = Math.floor(rest / 2);
    const ki = rest % 2;
    const qi = Math.floor(rest / 2);
    const q = [0.2, 0.5, 0.8][qi];
    const base = {
      cell,
      replicate,
      params: { "groups[0].weight": q, "curation.K": [2, "inf"][ki], "curation.temperature": [0.5, 1][ti], "groups[1].weight": 1 - q },
      seed: cell,
      durationMs: 1,
    };
    out.push(cell === 5 ? { ...base, status: "error", error: "boom", errorCode: "ERROR" } : { ...base, status: "ok", final: { basinMass: [cell, 100 + cell], nashGap: cell / 10 } });
  }
  return out;
}

const options = (o: Partial<GridOptions>): GridOptions => ({ x: "groups[0].weight", y: "curation.K", facet: "curation.temperature", where: {}, metric: "basinMass[0]", aggregate: "mean", ...o });

describe("the incremental sweep grid", () => {
  it("rows in shuffled batches give the same picture as all rows at once", () => {
    const all = rows();
    const once = new SweepGrid(plan, options({}));
    once.add(all);
    const shuffled = [...all].sort((a, b) => ((a.cell * 7919) % 23) - ((b.cell * 7919) % 23));
    const inc = new SweepGrid(plan, options({}));
    for (let i = 0; i < shuffled.length; i += 5) {
      inc.add(shuffled.slice(i, i + 5));
      inc.snapshot();
    }
    const a = once.snapshot();
    const b = inc.snapshot();
    expect(b.panels.map((p) => [...p.values])).toEqual(a.panels.map((p) => [...p.values]));
    expect([b.min, b.max, b.depth]).toEqual([a.min, a.max, a.depth]);
  });

  it("places each mean of replicates at its x, y (largest y on top) and facet; an all-failed cell is marked", () => {
    const g = new SweepGrid(plan, options({}));
    g.add(rows());
    const s = g.snapshot();
    expect(s.xLabels).toEqual(["0.2", "0.5", "0.8"]);
    expect(s.yLabels).toEqual(["inf", "2"]);
    expect(s.panels.map((p) => p.label)).toEqual(["0.5", "1"]);
    // q = 0.5 (qi 1), K = inf (ki 1), tau = 1 (ti 1): cells 14 and 15, mean 14.5; top row, middle column.
    expect(s.panels[1].values[0 * 3 + 1]).toBe(14.5);
    // Cell 5 failed, its replicate 4 did not: q = 0.2, K = inf, tau = 0.5 shows cell 4 alone.
    expect(s.panels[0].values[0]).toBe(4);
    expect(s.min).toBe(0.5);
    expect(s.max).toBe(22.5);
  });

  it("a dimension left out of the picture is named, not averaged; a filter or an aggregate draws it", () => {
    const g = new SweepGrid(plan, options({ facet: null, aggregate: "none" }));
    g.add(rows());
    expect(g.snapshot().mixed.sort()).toEqual(["curation.temperature", "replicate"]);
    g.setOptions(options({ facet: null, aggregate: "none", where: { "curation.temperature": "1" } }));
    expect(g.snapshot().mixed).toEqual(["replicate"]);
    g.setOptions(options({ facet: null, aggregate: "max" }));
    const s = g.snapshot();
    expect(s.mixed).toEqual([]);
    // Max over tau and replicates at q = 0.8, K = 2: cells 16..19.
    expect(s.panels[0].values[1 * 3 + 2]).toBe(19);
    expect(s.title).toBe("basinMass[0] over groups[0].weight x curation.K; max over the other dimensions (up to 4 rows per cell)");
  });

  it("switching the metric or the aggregate rebuilds from the stored rows", () => {
    const g = new SweepGrid(plan, options({}));
    g.add(rows());
    g.setOptions(options({ metric: "basinMass[1]", aggregate: "min" }));
    expect(g.snapshot().panels[1].values[1]).toBe(114);
    g.setOptions(options({ metric: "nashGap", aggregate: "median" }));
    expect(g.snapshot().panels[1].values[1]).toBeCloseTo(1.45, 15);
  });

  it("defaults: the first two dimensions on the axes, the third as facets, replicates averaged", () => {
    expect(defaultGridOptions(plan, "nashGap")).toEqual({ x: "groups[0].weight", y: "curation.K", facet: "curation.temperature", where: {}, metric: "nashGap", aggregate: "mean" });
    const four = parseSweep({ ...spec, replicates: 1, axes: { ...spec.axes, seed: [1, 2] } });
    expect(defaultGridOptions(four, "nashGap").where).toEqual({ seed: "1" });
  });
});

describe("the heat map's SVG", () => {
  it("is as wide as asked, one rect per drawn cell, facet headings keep their value when narrow", () => {
    const g = new SweepGrid(plan, options({ facet: "curation.temperature" }));
    g.add(rows());
    const svg = heatmapSvg(g.snapshot(), 170);
    expect(svg).toMatch(/^<svg [^>]*width="170"/);
    // 3 x 2 cells in 2 panels, each one drawn (one failed replicate does not empty a cell), plus the panel frames and legend.
    const cells = svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="rgb/g) ?? [];
    expect(cells).toHaveLength(12);
    expect(svg).toContain(">temperature = 0.5<");
    expect(svg).toContain(">temperature = 1<");
  });
});

describe("the URL fragment", () => {
  it("round-trips a sweep and a scenario with non-ASCII text through base64url", () => {
    const doc = { name: "q × K — ünïcode", axes: { "curation.K": [2, "inf"] } };
    expect(fromBase64Url(toBase64Url(JSON.stringify(doc)))).toBe(JSON.stringify(doc));
    expect(toBase64Url("\u00ff\u00fe?>")).not.toMatch(/[+/=]/);
    const hash = encodeFragment("sweep", doc, true);
    expect(hash).toMatch(/^#sweep=[A-Za-z0-9_-]+&run=1$/);
    expect(decodeFragment(hash)).toEqual({ sweep: doc, run: true });
    expect(decodeFragment(`${encodeFragment("scenario", { seed: 3 })}&workers=4`)).toEqual({ scenario: { seed: 3 }, run: false, workers: 4 });
  });

  it("a payload that is not base64url JSON, or a bad worker count, is an error naming the field", () => {
    expect(() => decodeFragment("#sweep=not*base64")).toThrow(expect.objectContaining({ code: "INVALID_SWEEP", field: "sweep" }));
    expect(() => decodeFragment(`#scenario=${toBase64Url("{oops")}`)).toThrow(expect.objectContaining({ code: "INVALID_SCENARIO", field: "scenario" }));
    expect(() => decodeFragment("#sweep=e30&workers=0")).toThrow(expect.objectContaining({ field: "workers", value: "0" }));
  });
});

describe("the sweep builder", () => {
  it("offers the numbers of the base scenario and writes values, linspace and logspace axes", () => {
    const paths = scenarioParameterPaths({ groups: [{ weight: 0.5, reward: { kind: "quadratic", center: 1 } }], curation: { K: "inf", temperature: 1 }, name: "x" });
    expect(paths).toEqual(["groups[0].weight", "groups[0].reward.center", "curation.K", "curation.temperature"]);
    const doc = applyBuilder(
      { name: "b", base: "two-groups", derived: { "groups[1].weight": "1 - groups[0].weight" } },
      [
        { path: "curation.K", kind: "values", values: "2, 4, inf", start: "", stop: "", count: "" },
        { path: "groups[0].weight", kind: "linspace", values: "", start: "0.1", stop: "0.9", count: "5" },
        { path: "curation.temperature", kind: "logspace", values: "", start: "-1", stop: "1", count: "3" },
      ],
      "2",
      "",
    );
    expect(doc).toEqual({
      name: "b",
      base: "two-groups",
      derived: { "groups[1].weight": "1 - groups[0].weight" },
      axes: { "curation.K": [2, 4, "inf"], "groups[0].weight": { linspace: [0.1, 0.9, 5] }, "curation.temperature": { logspace: [-1, 1, 3] } },
      replicates: 2,
    });
    expect(parseSweep(doc).total).toBe(3 * 5 * 3 * 2);
    expect(builderAxes(doc).map((a) => [a.path, a.kind, a.values || `${a.start}..${a.stop}/${a.count}`])).toEqual([
      ["curation.K", "values", "2, 4, inf"],
      ["groups[0].weight", "linspace", "0.1..0.9/5"],
      ["curation.temperature", "logspace", "-1..1/3"],
    ]);
  });
});

describe("the page's line plot is the CLI's", () => {
  it("x, series, facet, filters, metric and aggregate become plot's flags; the spec is the one plot draws", () => {
    const o = options({ y: "curation.K", facet: null, where: { "curation.temperature": "1" }, aggregate: "mean" });
    const cli = { chart: "line" as const, x: "groups[0].weight", series: "curation.K", where: [{ path: "curation.temperature", value: "1" }], metric: "basinMass[0]", aggregate: "mean" as const };
    expect(lineFigureOptions(o)).toEqual(cli);
    expect(phaseDiagramSpec(rows(), lineFigureOptions(o))).toEqual(phaseDiagramSpec(rows(), cli));
    // One line per value of the series, failed rows left out as the CLI leaves them.
    const data = sweepFigureData(rows(), { ...lineFigureOptions(o), read: metricReader("basinMass[0]") });
    expect(new Set(data.cells.map((c) => c.y)).size).toBe(2);
    expect(data.title).toBe("mean of basinMass[0] against groups[0].weight, one line per curation.K; mean over replicate (up to 2 rows per point); where curation.temperature = 1");
  });

  it("aggregate none: a parameter varying unplotted is refused with the CLI's message", () => {
    expect(() => phaseDiagramSpec(rows(), lineFigureOptions(options({ y: null, facet: null, aggregate: "none" })))).toThrow(
      /^curation\.K, curation\.temperature vary within the cells of this figure but are neither plotted \(--x, --series\), faceted \(--facet\), filtered \(--where PATH=VALUE\) nor aggregated/,
    );
  });

  it("the first chart: a heat map when two dimensions vary, lines for one", () => {
    expect(defaultChart(plan)).toBe("heatmap");
    expect(defaultChart(parseSweep({ base: "two-groups", axes: { "curation.K": [2, 4, "inf"] } }))).toBe("line");
  });
});
