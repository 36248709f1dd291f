// The page's view of a flow network's learned field, without a browser: the worker's run message
// (src/web/worker-run.ts, on a real engine) samples v(x, t = 0.5) at every recorded generation
// after 0, 16 x 16 points in 2-D and 64 in 1-D, posts it with the frames and the result, and
// leaves the run's numbers as they are; the arrows drawn from it (src/web/flow-field.ts) stay
// inside the box, the longest at 0.85 of the spacing between them.
import { beforeAll, describe, expect, it } from "vitest";
import { presetScenario } from "../src/core/presets.js";
import { createEngine, type Engine } from "../src/node/index.js";
import { runChecksum } from "../src/web/checksum.js";
import { FIELD_GRID_2D, FIELD_POINTS_1D, FIELD_T, fieldArrows, fieldAt, fieldPoints, withFieldArrows, type FieldSample } from "../src/web/flow-field.js";
import type { FromWorker } from "../src/web/protocol.js";
import { runScenarioMessage } from "../src/web/worker-run.js";

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});

const net = { model: "flow", samples: 256, hidden: [12, 12], steps: 20, batch: 64, odeSteps: 4, lr: 0.003 };
/** 2-D: the gmm-2d landscape on a 20 x 12 grid of a box that is not square. */
const plane = () => ({ ...presetScenario("gmm-2d"), space: { kind: "grid2d", min: [-4, -3], max: [4, 3], cells: [20, 12] }, generations: 3, record: { every: 1 }, curation: { K: "inf", temperature: 1 }, retraining: net });
const line = () => ({ ...presetScenario("flow-two-groups"), generations: 2, retraining: net });

async function runMessage(scenario: unknown): Promise<FromWorker[]> {
  const posted: FromWorker[] = [];
  await runScenarioMessage(engine, { type: "run", id: 1, scenario, options: { final: true } }, (m) => posted.push(m));
  return posted;
}

describe("the learned field in the worker's messages", () => {
  it("2-D: 16 x 16 finite velocities at t = 0.5 for every recorded generation after 0, and the run's numbers unchanged", async () => {
    const posted = await runMessage(plane());
    const result = posted.at(-1)!;
    if (result.type !== "result") throw new Error(`last message: ${result.type}`);
    expect(result.fields.map((f) => f.generation)).toEqual([1, 2, 3]);
    for (const f of result.fields) {
      expect(f.t).toBe(FIELD_T);
      expect(f.dim).toBe(2);
      expect(f.shape).toEqual([FIELD_GRID_2D, FIELD_GRID_2D]);
      expect(f.v.length).toBe(2 * 16 * 16);
      expect(f.v.every(Number.isFinite)).toBe(true);
      // The network's box, from the cell centres: the space's box up to rounding.
      f.box.forEach((b, i) => expect(b).toBeCloseTo([-4, 4, -3, 3][i], 12));
    }
    // Generations train different networks.
    expect(result.fields[0].v.some((v, i) => v !== result.fields[2].v[i])).toBe(true);
    // A frame that goes out carries the field of its generation.
    for (const m of posted) if (m.type === "frame" && m.generation > 0) expect(m.field?.generation).toBe(m.generation);
    // Sampling the field reads the network and changes nothing: the same bits as a run without it.
    expect(result.checksum).toBe(await runChecksum(engine.run(plane(), { final: true })));
  });

  it("1-D: 64 points along the grid", async () => {
    const result = (await runMessage(line())).at(-1)!;
    if (result.type !== "result") throw new Error(`last message: ${result.type}`);
    expect(result.fields.map((f) => [f.generation, f.v.length, f.dim])).toEqual([
      [1, FIELD_POINTS_1D, 1],
      [2, FIELD_POINTS_1D, 1],
    ]);
    expect(result.fields.every((f) => f.v.every(Number.isFinite))).toBe(true);
  });

  it("no field on other models", async () => {
    const result = (await runMessage({ ...presetScenario("two-groups"), generations: 3 })).at(-1)!;
    if (result.type !== "result") throw new Error(`last message: ${result.type}`);
    expect(result.fields).toEqual([]);
  });
});

describe("the arrows", () => {
  const box = [-4, 4, -3, 3];
  const sample = (v: (x: number, y: number) => [number, number]): FieldSample => {
    const pts = fieldPoints(box, [16, 16]);
    const out = new Float64Array(pts.length);
    for (let k = 0; k < pts.length / 2; k++) [out[2 * k], out[2 * k + 1]] = v(pts[2 * k], pts[2 * k + 1]);
    return { generation: 4, t: 0.5, dim: 2, box, shape: [16, 16], v: out };
  };

  it("sample points are the centres of a 16 x 16 partition of the box, x-major", () => {
    const pts = fieldPoints(box, [16, 16]);
    expect([pts[0], pts[1]]).toEqual([-3.75, -2.8125]);
    expect([pts[2], pts[3]]).toEqual([-3.75, -2.4375]);
    expect([pts[32], pts[33]]).toEqual([-3.25, -2.8125]);
    expect(fieldPoints([-4, 4, 0, 0], [64]).length).toBe(64);
  });

  it("stay inside the box, point along v in pixels, the longest at 0.85 of the spacing", () => {
    // A rotation about the origin: |v| grows with the radius.
    const s = sample((x, y) => [-y, x]);
    const { segments, longest } = fieldArrows(s, 420, 420);
    expect(longest).toBeCloseTo(Math.hypot(3.75, 2.8125), 12);
    expect(segments.length % 3).toBe(0);
    for (const g of segments) {
      for (const [x, y] of [[g.x, g.y], [g.x2, g.y2]]) {
        expect(x).toBeGreaterThanOrEqual(-4);
        expect(x).toBeLessThanOrEqual(4);
        expect(y).toBeGreaterThanOrEqual(-3);
        expect(y).toBeLessThanOrEqual(3);
      }
    }
    // Shafts are every third segment; in pixels (420 / 8 per unit in x, 420 / 6 in y) the longest is 0.85 x 420 / 16.
    const shafts = segments.filter((_, i) => i % 3 === 0);
    const px = shafts.map((g) => Math.hypot((g.x2 - g.x) * (420 / 8), (g.y2 - g.y) * (420 / 6)));
    expect(Math.max(...px)).toBeCloseTo((0.85 * 420) / 16, 9);
    // The corner point (3.75, 2.8125) moves along (-y, x): up and to the left.
    const corner = shafts.find((g) => Math.abs((g.x + g.x2) / 2 - 3.75) < 1e-9 && Math.abs((g.y + g.y2) / 2 - 2.8125) < 1e-9)!;
    expect(corner.x2 - corner.x).toBeLessThan(0);
    expect(corner.y2 - corner.y).toBeGreaterThan(0);
  });

  it("a zero field draws no arrow; the legend says what the arrows are", () => {
    expect(fieldArrows(sample(() => [0, 0]), 420, 420).segments).toEqual([]);
    const spec = withFieldArrows({ title: "p_4", width: 420, height: 420, layer: [{ mark: "rect" }] }, sample((x) => [x, 0]));
    expect((spec.layer as unknown[]).length).toBe(2);
    expect((spec.title as { subtitle: string[] }).subtitle.join(" ")).toMatch(/^arrows: the network's learned velocity v\(x, t = 0\.5\) at generation 4, dx\/dt at 16 x 16 points.*longest 3\.75 per unit t\)$/);
  });

  it("a frame without a sampled field gets a note, except on runs without any", () => {
    const fields = [sample(() => [1, 0])];
    expect(fieldAt(fields, 4).sample).toBe(fields[0]);
    expect(fieldAt(fields, 0).note).toMatch(/before any training/);
    expect(fieldAt(fields, 3).note).toMatch(/recorded generations/);
    expect(fieldAt([], 3)).toEqual({ sample: null });
  });
});
