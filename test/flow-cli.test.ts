// The flow model through the CLI (which runs dist/): a bad setting exits 2 with one line
// naming the field and writes nothing; a sweep of flow cells gives the same rows on two worker
// threads as on the main thread.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-flow-"));

const cli = (...args: string[]) => runCli(args);

const scenario = (retraining: Record<string, unknown>) => ({
  space: { kind: "grid1d", min: -4, max: 4, cells: 80 },
  groups: [
    { name: "left", weight: 0.3, reward: { kind: "quadratic", center: -2, scale: 1 } },
    { name: "right", weight: 0.7, reward: { kind: "quadratic", center: 2, scale: 1 } },
  ],
  curation: { K: "inf", temperature: 1 },
  retraining: { model: "flow", samples: 256, hidden: [16, 16], steps: 30, batch: 64, odeSteps: 8, ...retraining },
  generations: 2,
  basinEpsilon: 1,
});

describe("flow model on the command line", () => {
  for (const [name, retraining, field] of [
    ["steps 0", { steps: 0 }, "retraining.steps"],
    ["a zero hidden width", { hidden: [0] }, "retraining.hidden[0]"],
    ["lr -1", { lr: -1 }, "retraining.lr"],
  ] as const) {
    it(`${name}: exit 2, one line naming ${field}, no output file`, () => {
      const file = join(dir, `bad-${field}.json`);
      const out = join(dir, `bad-${field}.out.json`);
      writeFileSync(file, JSON.stringify(scenario(retraining)));
      const r = cli("run", file, "--json", "--out", out);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(field);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("a sweep of flow cells: the same rows on 2 worker threads as on the main thread", () => {
    const spec = join(dir, "sweep.json");
    writeFileSync(spec, JSON.stringify({ name: "flow-q", base: scenario({}), axes: { "groups[0].weight": [0.2, 0.5] }, derived: { "groups[1].weight": "1 - groups[0].weight" } }));
    const rows = (workers: string) => {
      const out = join(dir, `rows-${workers}.jsonl`);
      const r = cli("sweep", spec, "--out", out, "--workers", workers, "--no-summary");
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(out, "utf8").trim().split("\n").map((l) => {
        const { durationMs: _, ...row } = JSON.parse(l);
        return row;
      });
    };
    const threaded = rows("2");
    expect(threaded).toHaveLength(2);
    expect(threaded.every((r) => r.status === "ok")).toBe(true);
    expect(threaded).toEqual(rows("0"));
  });
});
