// `plurisim sweep --dry-run` (cells, shard slice, threads, an estimate from a few timed cells;
// nothing written) and `--set` / `-` on sweeps.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli as cli } from "./helpers.js";

const example = new URL("../sweeps/q-k-distance.json", import.meta.url).pathname;

/** A sweep small enough to run in a test: 2 x 2 cells on 41 atoms. */
const tiny = {
  base: {
    space: { kind: "grid1d", min: -3, max: 3, cells: 41 },
    groups: [
      { name: "a", weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
      { name: "b", weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
    ],
    curation: { K: "inf", temperature: 1 },
    generations: 30,
  },
  axes: { "groups[0].weight": [0.3, 0.6], "curation.K": [4, "inf"] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  keep: { final: true },
};

describe("sweep --dry-run", () => {
  it("reports the cells and how they factor, the threads and an estimate, and writes nothing", () => {
    const cwd = mkdtempSync(join(tmpdir(), "plurisim-dry-"));
    const r = cli(["sweep", example, "--dry-run", "--set", "generations=20"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    // 9 weights x 4 values of K x 3 well distances (a zip of two paths).
    expect(r.stdout).toContain("108 cells = 9 (groups[0].weight) x 4 (curation.K) x 3 (groups[0].reward.center, groups[1].reward.center)");
    expect(r.stdout).toContain("one shard: all 108 cells");
    expect(r.stdout).toMatch(/calibration: cells 0, 53, 107 took [\d.]+, [\d.]+, [\d.]+ ms each/);
    expect(r.stdout).toMatch(/estimated time: \d+(s|m\d\ds|h\d\dm) \(108 cells x [\d.]+ ms \/ \d threads?/);
    expect(r.stdout).not.toMatch(/NaN|Infinity/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("without --workers, a sweep that takes a moment on the main thread is planned there, as it will run", () => {
    const r = cli(["sweep", "-", "--dry-run"], { input: JSON.stringify({ ...tiny, axes: { "curation.temperature": [1, 2] } }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("workers: the main thread");
    expect(r.stdout).toMatch(/\(2 cells x [\d.]+ ms \/ 1 thread\)/);
  });

  it("a shard reports its own slice", () => {
    const r = cli(["sweep", example, "--dry-run", "--shard", "1/4", "--workers", "1", "--set", "generations=20"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("shard 1/4: 27 cells (every cell c with c mod 4 = 1)");
    expect(r.stdout).toContain("workers: 1");
    expect(r.stdout).toMatch(/calibration: cells 1, 53, 105 /);
  });

  it("an integer flag that is not one is a USAGE error", () => {
    const r = cli(["sweep", example, "--dry-run", "--workers", "two"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[USAGE]: --workers must be an integer >= 0 (got "two")');
  });
});

describe("files that cannot be read are FILE errors", () => {
  it.each([
    [["sweep", "/nonexistent/sweep.json"], "cannot read /nonexistent/sweep.json"],
    [["summarize", "/nonexistent/rows.jsonl"], "cannot read /nonexistent/rows.jsonl"],
    [["merge", "/nonexistent/rows.jsonl", "--out", join(tmpdir(), "never.jsonl")], "/nonexistent/rows.jsonl does not exist"],
  ])("%j", (args, text) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`[FILE]`);
    expect(r.stderr).toContain(text);
  });
});

describe("sweep --set and -", () => {
  it("a sweep read from standard input runs with its base overridden by --set", () => {
    const dir = mkdtempSync(join(tmpdir(), "plurisim-sweep-set-"));
    const out = join(dir, "rows.jsonl");
    const r = cli(["sweep", "-", "--set", "generations=7", "--set", "curation.temperature=2", "--workers", "0", "--out", out, "--no-progress"], { input: JSON.stringify(tiny) });
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.generationsRun).toBe(7);
    const manifest = JSON.parse(readFileSync(join(dir, "rows.manifest.json"), "utf8"));
    expect(manifest.plan.base.curation.temperature).toBe(2);
  });

  it("--set on a path the base cannot have is a USAGE error naming it", () => {
    const r = cli(["sweep", example, "--dry-run", "--set", "groups[7].weight=0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[USAGE]");
    expect(r.stderr).toContain("groups[7].weight");
  });
});
