// The reorder buffer between workers and files: results arriving in any order go out in the
// given cell order, as whole lines, trajectories before rows; --fail-fast stops after the first
// failed row; a sink that fails (a full disk) leaves the counts at the last complete write.
import { describe, expect, it } from "vitest";
import { OrderedWriter } from "../src/node/ordered-writer.js";
import type { CellResult } from "../src/sweep/task.js";
import { rng } from "./helpers.js";

const result = (cell: number, status: "ok" | "error" = "ok"): CellResult => {
  const base = { cell, replicate: 0, params: { x: cell }, seed: cell, durationMs: 1 };
  return {
    row: status === "ok" ? { ...base, status } : { ...base, status, error: "boom", errorCode: "ERROR" },
    trajectory: [{ generation: 0, entropy: cell }],
  };
};

function collect() {
  const rows: string[] = [];
  const trajectories: string[] = [];
  const calls: string[] = [];
  return {
    rows,
    trajectories,
    calls,
    sinks: {
      rows: (t: string) => {
        calls.push("rows");
        rows.push(t);
      },
      trajectories: (t: string) => {
        calls.push("trajectories");
        trajectories.push(t);
      },
    },
  };
}

const cellsOf = (chunks: string[]) => chunks.join("").split("\n").filter(Boolean).map((l) => JSON.parse(l).cell as number);

describe("ordered writer", () => {
  it("writes in the given order whatever the arrival order, each call whole lines", () => {
    const rand = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const order = Array.from({ length: 40 }, (_, k) => 3 * k + 1);
      const arrival = [...order].sort(() => rand() - 0.5);
      const out = collect();
      const w = new OrderedWriter({ order, sinks: out.sinks });
      const seen: number[] = [];
      for (const c of arrival) {
        w.add(result(c));
        w.flush();
        // Whatever is written is a prefix of the order, and nothing past a gap.
        seen.splice(0, seen.length, ...cellsOf(out.rows));
        expect(seen).toEqual(order.slice(0, seen.length));
        expect(w.written).toBe(seen.length);
      }
      expect(w.finished).toBe(true);
      expect(w.buffered).toBe(0);
      expect(cellsOf(out.rows)).toEqual(order);
      expect(cellsOf(out.trajectories)).toEqual(order);
      for (const chunk of [...out.rows, ...out.trajectories]) expect(chunk.endsWith("\n")).toBe(true);
    }
  });

  it("holds results back until the gap before them fills", () => {
    const out = collect();
    const w = new OrderedWriter({ order: [0, 1, 2, 3], sinks: out.sinks });
    w.add(result(2));
    w.add(result(3));
    expect(w.flush()).toBe(0);
    expect(w.buffered).toBe(2);
    w.add(result(0));
    expect(w.flush()).toBe(1);
    w.add(result(1));
    expect(w.flush()).toBe(3);
    expect(out.calls).toEqual(["trajectories", "rows", "trajectories", "rows"]);
  });

  it("with haltOnFailure, nothing after the first failed row is written", () => {
    const out = collect();
    const w = new OrderedWriter({ order: [0, 1, 2, 3], sinks: out.sinks, haltOnFailure: true });
    for (const c of [3, 2, 1, 0]) w.add(result(c, c === 1 ? "error" : "ok"));
    w.flush();
    expect(cellsOf(out.rows)).toEqual([0, 1]);
    expect(w.halted).toBe(true);
    expect([w.ok, w.failed]).toEqual([1, 1]);
    expect(w.flush()).toBe(0);
  });

  it("without trajectories, only rows are written", () => {
    const rows: string[] = [];
    const w = new OrderedWriter({ order: [5], sinks: { rows: (t) => rows.push(t) } });
    w.add(result(5));
    w.flush();
    expect(cellsOf(rows)).toEqual([5]);
  });

  it("a sink that fails leaves the counts at the last complete write, and the results can be written again", () => {
    let full = true;
    const rows: string[] = [];
    const w = new OrderedWriter({
      order: [0, 1],
      sinks: {
        rows: (t) => {
          if (full) throw Object.assign(new Error("no space"), { code: "ENOSPC" });
          rows.push(t);
        },
      },
    });
    w.add(result(0));
    w.add(result(1));
    expect(() => w.flush()).toThrow(/no space/);
    expect([w.written, w.ok, w.buffered]).toEqual([0, 0, 2]);
    full = false;
    expect(w.flush()).toBe(2);
    expect(cellsOf(rows)).toEqual([0, 1]);
  });
});
