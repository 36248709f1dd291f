// What sweep, merge, summarize, export, plot and compare echo (paths given on the command line, a
// sweep's name and parameter paths, the text of a damaged input) reaches the terminal with its
// control characters shown as visible escapes: no ESC, BEL or CR from a file name or a sweep
// file can recolour the terminal, ring it or overwrite a line. Runs the CLI from dist/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const root = join("test", "artifacts", `terminal-${process.pid}`);
// A folder whose name rings the bell, turns the text red and returns the cursor.
const dir = join(root, "d\u0007\u001b[31m\r");
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Every C0 control but newline, DEL, the C1 controls and the bidirectional overrides.
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function cli(args: string[]) {
  const r = runCli(args);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Runs the CLI and checks that nothing it printed holds a raw control character. */
function clean(args: string[], code = 0): string {
  const r = cli(args);
  expect(r.code, r.out).toBe(code);
  expect(r.out).not.toMatch(RAW);
  return r.out;
}

const sweep = {
  // A name may hold a right-to-left override (it names files, and holds no control character).
  name: "rtl\u202eevil",
  base: { space: { kind: "grid1d", min: -3, max: 3, cells: 31 }, groups: [{ name: "g\u001b[2J", weight: 1, reward: { kind: "quadratic", center: 0 } }], generations: 3 },
  axes: { seed: { range: [0, 4] } },
  keep: { final: true, trajectory: true },
  summary: "counts",
};

describe("sweep commands print control characters as escapes", () => {
  const file = () => join(dir, "s.json");
  const rows = (name: string) => join(dir, `${name}\u001b]0;title\u0007.jsonl`);

  it("sweep --dry-run: the name and the parameter paths", () => {
    writeFileSync(file(), JSON.stringify(sweep));
    const out = clean(["sweep", file(), "--dry-run"]);
    expect(out).toContain("rtl\\u202eevil");
  });

  it("sweep, shards, merge (JSONL and Parquet), summarize, export: every path echoed", () => {
    writeFileSync(file(), JSON.stringify(sweep));
    const out = clean(["sweep", file(), "--out", rows("all"), "--csv", "--no-progress"]);
    expect(out).toContain("\\x1b]0;title\\x07.jsonl");
    for (const i of [0, 1]) clean(["sweep", file(), "--out", rows(`shard${i}`), "--shard", `${i}/2`, "--no-progress"]);
    const shards = [rows("shard0"), rows("shard1")];
    expect(clean(["merge", ...shards, "--out", rows("merged")])).toContain("merged 2 files: 4 cells");
    expect(clean(["merge", ...shards, "--out", join(dir, "m\u001b[1m.parquet")])).toMatch(/wrote 4 rows to .*m\\x1b\[1m\.parquet/);
    clean(["summarize", rows("all")]);
    expect(clean(["export", rows("all"), "--out", join(dir, "x\r.parquet")])).toMatch(/wrote 4 rows to .*x\\x0d\.parquet and \d+ trajectory values/);
  });

  it("errors name the path escaped: a missing rows file, a sweep file that is not JSON, a bad --shard or --queue", () => {
    clean(["summarize", join(dir, "missing\u001b[5m.jsonl")], 2);
    const bad = join(dir, "bad\u0007.json");
    writeFileSync(bad, '{"name": "\u001b[31m');
    expect(clean(["sweep", bad], 2)).toContain("is not valid JSON");
    clean(["sweep", file(), "--shard", "\u001b[2J1/0"], 2);
    clean(["sweep", file(), "--out", rows("queue"), "--queue", "\u001b[31mredis"], 2);
  });
});

describe("plot commands print control characters as escapes", () => {
  it("compare and plot: the wrote line, and errors about their inputs", () => {
    const result = join(root, "r.json");
    expect(cli(["run", "two-groups", "--set", "generations=20", "--json", "--out", result]).code).toBe(0);
    expect(clean(["compare", result, result, "--out", join(dir, "c\u001b[0m.svg")])).toContain("c\\x1b[0m.svg");
    clean(["plot", join(dir, "none\u0007.json"), "--out", join(root, "p.svg")], 2);
    clean(["plot", result, "--out", join(dir, "p\u001b.gif")], 2);
    writeFileSync(join(dir, "rows\u009b.jsonl"), '{"cell": 0, "params": {}, "status": "ok"}\n{"cell": \u001b\n');
    clean(["compare", result, join(dir, "rows\u009b.jsonl"), "--out", join(root, "c.svg")], 2);
  });
});
