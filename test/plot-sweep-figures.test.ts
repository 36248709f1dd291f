// Sweep figures: they refuse to average a parameter silently, facet, filter and aggregate on
// request (and say so in the title), use quantitative and log axes, keep a fixed size, and draw
// a 1,000-value axis and grids past the mark limit (as one embedded image) without crashing vega.
import { describe, expect, it } from "vitest";
import { phaseDiagramSpec } from "../src/core/charts.js";
import type { Row } from "../src/core/types.js";
import { RECT_LIMIT, sweepFigureData } from "../src/core/sweep-figure.js";
import { metricReader } from "../src/core/charts.js";
import { renderSvg } from "../src/node/render.js";

/** A full grid over the given axes; basinMass[0] = a fixed function of the parameters, replicate r adds r/100. */
function grid(axes: Record<string, unknown[]>, replicates = 1, fail?: (p: Record<string, unknown>) => boolean): Row[] {
  const keys = Object.keys(axes);
  const rows: Row[] = [];
  const walk = (k: number, params: Record<string, unknown>) => {
    if (k === keys.length) {
      for (let r = 0; r < replicates; r++) {
        const num = Object.values(params).reduce<number>((s, v) => s + (typeof v === "number" ? v : 7), 0);
        const bad = fail?.(params) ?? false;
        const base = { cell: rows.length, replicate: r, params: { ...params }, seed: rows.length, durationMs: 1 };
        rows.push(bad ? { ...base, status: "error", error: "boom", errorCode: "ERROR" } : { ...base, status: "ok", final: { basinMass: [num + r / 100, 1], nashGap: 1e-3 } });
      }
      return;
    }
    for (const v of axes[keys[k]]) walk(k + 1, { ...params, [keys[k]]: v });
  };
  walk(0, {});
  return rows;
}

const opts = (o: Record<string, unknown> = {}) => ({ read: metricReader((o.metric as string | undefined) ?? "basinMass[0]"), ...o });
const svgWidth = (svg: string) => Number(/^<svg[^>]* width="([\d.]+)"/.exec(svg)?.[1]);

describe("a parameter that varies unplotted is refused, never averaged silently", () => {
  const rows = grid({ "groups[0].weight": [0.2, 0.5, 0.8], "curation.K": [2, 4, "inf"], "groups[1].reward.center": [1, 2] });

  it("names the dimension that is neither plotted, faceted, filtered nor aggregated", () => {
    expect(() => phaseDiagramSpec(rows)).toThrow(expect.objectContaining({ code: "INVALID_SCENARIO", field: "aggregate", value: ["groups[1].reward.center"] }));
    expect(() => phaseDiagramSpec(rows)).toThrow(/groups\[1\]\.reward\.center varies within the cells of this figure but is neither plotted/);
  });

  it("accepts it faceted, filtered or aggregated, and the title says which", () => {
    const faceted = sweepFigureData(rows, opts({ facet: "groups[1].reward.center" }));
    expect(faceted.cells).toHaveLength(18);
    expect(faceted.aggregate).toBeNull();
    const filtered = sweepFigureData(rows, opts({ where: [{ path: "groups[1].reward.center", value: "2" }] }));
    expect(filtered.cells).toHaveLength(9);
    expect(filtered.title).toContain("where groups[1].reward.center = 2");
    const mean = sweepFigureData(rows, opts({ aggregate: "mean" }));
    expect(mean.cells).toHaveLength(9);
    expect(mean.title).toMatch(/^mean of basinMass\[0\] over groups\[0\]\.weight x curation\.K; mean over groups\[1\]\.reward\.center \(up to 2 rows per cell\)/);
    // The mean of the two centres: q + K-term + 1.5.
    const c = mean.cells.find((e) => e.x === 0 && e.y === 0)!;
    expect(c.value).toBeCloseTo(0.2 + 2 + 1.5, 12);
    const max = sweepFigureData(rows, opts({ aggregate: "max" }));
    expect(max.cells.find((e) => e.x === 0 && e.y === 0)!.value).toBeCloseTo(0.2 + 2 + 2, 12);
    expect(sweepFigureData(rows, opts({ aggregate: "sd" })).cells.every((e) => Math.abs(e.value! - Math.SQRT1_2) < 1e-12)).toBe(true);
    expect(sweepFigureData(rows, opts({ aggregate: "median" })).cells.find((e) => e.x === 2 && e.y === 2)!.value).toBeCloseTo(0.8 + 7 + 1.5, 12);
  });

  it("names replicates when rows repeat with equal parameters", () => {
    const reps = grid({ a: [1, 2], b: [1, 2, 3] }, 3);
    expect(() => phaseDiagramSpec(reps)).toThrow(/^replicate varies within the cells/);
    const d = sweepFigureData(reps, opts({ aggregate: "mean" }));
    expect(d.reduced).toEqual(["replicate"]);
    expect(d.cells.every((c) => c.n === 3)).toBe(true);
  });

  it("does not count a parameter derived from the plotted ones", () => {
    const rows2 = grid({ a: [1, 2, 3], b: [10, 20] }).map((r) => ({ ...r, params: { ...r.params, d: (r.params.a as number) * 2 } }));
    expect(() => phaseDiagramSpec(rows2, { x: "a", y: "b" })).not.toThrow();
  });

  it("refuses filters that keep nothing, unknown paths and too many panels", () => {
    expect(() => sweepFigureData(rows, opts({ where: [{ path: "curation.K", value: "3" }] }))).toThrow(/--where curation\.K=3 keeps no row; curation\.K takes the values 2, 4, inf/);
    expect(() => sweepFigureData(rows, opts({ facet: "tau" }))).toThrow(expect.objectContaining({ field: "facet" }));
    const many = grid({ a: Array.from({ length: 40 }, (_, i) => i), b: [1, 2] });
    expect(() => sweepFigureData(many, opts({ facet: "a" }))).toThrow(expect.objectContaining({ field: "facet" }));
    // "inf" and "Infinity" both select K = infinity.
    expect(sweepFigureData(rows, opts({ where: [{ path: "curation.K", value: "inf" }, { path: "groups[1].reward.center", value: "1" }] })).rows).toBe(3);
  });
});

describe("axes, size and scale", () => {
  it("puts numeric parameters on quantitative axes, logspace ones on a log axis", () => {
    const rows = grid({ tau: [0.01, 0.1, 1, 10], q: [0.1, 0.2, 0.3] });
    const spec = phaseDiagramSpec(rows, { x: "tau", y: "q" }) as { layer: { encoding: { x: { scale: { type?: string; domain: number[] } }; y: { scale: { type?: string } } } }[] };
    const enc = spec.layer[1].encoding;
    expect(enc.x.scale.type).toBe("log");
    // Cell edges at the geometric midpoints: 10^-2.5 .. 10^1.5.
    expect(enc.x.scale.domain[0]).toBeCloseTo(10 ** -2.5, 12);
    expect(enc.x.scale.domain[1]).toBeCloseTo(10 ** 1.5, 9);
    expect(enc.y.scale.type).toBeUndefined();
  });

  it("draws a 1,000-value axis at a fixed size (this crashed vega with per-value sort arrays)", async () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i / 999);
    const rows = grid({ q: xs, K: [2, 4, 8] });
    const svg = await renderSvg(phaseDiagramSpec(rows, { x: "q", y: "K" }));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svgWidth(svg)).toBeLessThanOrEqual(800);
    const line = await renderSvg(phaseDiagramSpec(rows, { chart: "line", x: "q", series: "K" }));
    expect(svgWidth(line)).toBeLessThanOrEqual(800);
    expect(line).toContain("one line per K");
    // 1,000 text values (names) on an axis: placed by index, about 20 labels.
    const named = grid({ name: xs.map((_, i) => `m${String(i).padStart(4, "0")}`), K: [2, 4] });
    const text = await renderSvg(phaseDiagramSpec(named, { x: "name", y: "K" }));
    expect(svgWidth(text)).toBeLessThanOrEqual(800);
    const labels = [...text.matchAll(/>m(\d{4})</g)].map((m) => Number(m[1]));
    expect(labels.length).toBeGreaterThan(5);
    expect(labels.length).toBeLessThanOrEqual(21);
    expect(labels[0]).toBe(0);
  });

  it("draws a grid past the mark limit as one embedded image with a colour legend", async () => {
    const rows = grid({ a: Array.from({ length: 300 }, (_, i) => i), b: Array.from({ length: 100 }, (_, i) => i) }, 1, (p) => p.a === 0);
    expect(300 * 100).toBeGreaterThan(RECT_LIMIT);
    const svg = await renderSvg(phaseDiagramSpec(rows, { x: "a", y: "b" }));
    expect((svg.match(/<image/g) ?? []).length).toBe(1);
    expect((svg.match(/data:image\/png;base64,/g) ?? []).length).toBe(1);
    expect(svg.includes("basinMass[0] over a x b; 100 failed rows grey")).toBe(true);
    expect(svgWidth(svg)).toBeLessThanOrEqual(800);
  });

  it("keeps a faceted figure under 4,000 px wide", async () => {
    const rows = grid({ f: Array.from({ length: 36 }, (_, i) => i), a: [1, 2, 3], b: [1, 2] });
    const svg = await renderSvg(phaseDiagramSpec(rows, { x: "a", y: "b", facet: "f" }));
    expect(svgWidth(svg)).toBeLessThanOrEqual(4000);
  });

  it("draws line plots with one line per series value and a ± sd band for means", async () => {
    const rows = grid({ q: [0.1, 0.2, 0.3, 0.4], K: [2, 4] }, 4);
    const d = sweepFigureData(rows, opts({ chart: "line", x: "q", series: "K", aggregate: "mean" }));
    expect(d.cells).toHaveLength(8);
    expect(d.cells.every((c) => c.sd !== null && Math.abs(c.sd - sd4) < 1e-12)).toBe(true);
    const svg = await renderSvg(phaseDiagramSpec(rows, { chart: "line", x: "q", series: "K", aggregate: "mean" }));
    expect(svg).toContain("band: ± sd");
  });
});

// The sample sd of r/100 for r = 0..3.
const sd4 = Math.sqrt([0, 1, 2, 3].reduce((s, r) => s + (r / 100 - 0.015) ** 2, 0) / 3);
