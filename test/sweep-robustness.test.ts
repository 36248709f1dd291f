// Sweep files and outputs that used to go wrong: non-ASCII rows split across read chunks,
// --fail-fast, damaged manifests, summaries of the wrong sweep, bad output paths.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeFiles } from "../src/node/sweep-cli.js";
import { readRows, runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import { runCli } from "./helpers.js";

const dir = join("test", "artifacts", `sweep-robust-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args);

// Error rows are cheap and carry the group's name in their message: a long non-ASCII name makes
// rows of about 1 KB, so the 64 KiB read chunks of merge split multi-byte characters.
const name = "é".repeat(200);
const doc = (extra: Record<string, unknown> = {}) => ({
  base: {
    space: { kind: "grid1d", min: -3, max: 3, cells: 31 },
    groups: [{ name, weight: 1, reward: { kind: "quadratic", center: 0 } }],
    curation: { K: "inf", temperature: 1e-5 },
    generations: 2,
  },
  axes: { seed: { range: [0, 160] } },
  ...extra,
});

describe("sweep outputs", () => {
  it("merge keeps non-ASCII text whole across read chunks: shards merged equal one run", async () => {
    const plan = parseSweep(doc());
    await runSweep({ plan, out: join(dir, "whole.jsonl"), workers: 0 });
    for (const index of [0, 1]) await runSweep({ plan, out: join(dir, `part${index}.jsonl`), workers: 0, shard: { index, count: 2 } });
    await mergeFiles([join(dir, "part0.jsonl"), join(dir, "part1.jsonl")], { out: join(dir, "merged.jsonl") });
    const text = readFileSync(join(dir, "merged.jsonl"), "utf8");
    expect(Buffer.byteLength(text)).toBeGreaterThan(128 * 1024);
    expect(text).not.toContain("\uFFFD");
    const strip = (t: string) => t.replace(/"durationMs":[0-9.e+-]+,?/g, "");
    expect(strip(text)).toBe(strip(readFileSync(join(dir, "whole.jsonl"), "utf8")));
  });

  it("--fail-fast writes nothing after the first failed cell", async () => {
    const plan = parseSweep({
      base: { space: { kind: "grid1d", min: -3, max: 3, cells: 31 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }], generations: 2 },
      axes: { "curation.temperature": [1, 1e-5, 1, 1e-5] },
    });
    const r = await runSweep({ plan, out: join(dir, "ff.jsonl"), workers: 0, failFast: true });
    expect(r.status).toBe("failed");
    const rows = await readRows(join(dir, "ff.jsonl"));
    expect(rows.map((x) => x.status)).toEqual(["ok", "error"]);
  });

  it("a damaged manifest beside a shard is an error naming it, not a crash", () => {
    writeFileSync(join(dir, "junk.jsonl"), '{"cell":0}\n');
    writeFileSync(join(dir, "junk.manifest.json"), '{"a":1}');
    const r = cli("merge", join(dir, "junk.jsonl"), "--out", join(dir, "junk-merged.jsonl"));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("junk.manifest.json is not a plurisim sweep manifest");
    expect(existsSync(join(dir, "junk-merged.jsonl"))).toBe(false);
  });

  it("a summary of the wrong sweep is refused instead of printing NaN", () => {
    const rows = join(dir, "whole.jsonl");
    const r = cli("summarize", rows, "--as", "table5");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("groups[0].reward.center");
    expect(r.stdout).not.toContain("NaN");
  });

  it("bad output paths exit 2 naming the path; a bad --csv path is refused before any cell runs", () => {
    const file = join(dir, "small.json");
    writeFileSync(file, JSON.stringify({ base: "two-groups", axes: { "groups[0].weight": [0.2, 0.4] }, derived: { "groups[1].weight": "1 - groups[0].weight" } }));
    const folder = cli("sweep", file, "--out", dir, "--overwrite", "--no-progress");
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/\[FILE\].*is a folder/);
    const out = join(dir, "new-folder", "csv.jsonl");
    const csv = cli("sweep", file, "--out", out, "--csv", "/nonexistent-dir/x.csv", "--no-progress");
    expect(csv.code).toBe(2);
    expect(csv.stderr).toMatch(/\[FILE\].*\/nonexistent-dir\/x\.csv.*does not exist/);
    expect(existsSync(join(dir, "new-folder"))).toBe(false);
    const run = cli("run", "two-groups", "--out", "/nonexistent-dir/r.json");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("/nonexistent-dir/r.json");
  });
});
