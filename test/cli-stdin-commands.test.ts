// `-` reads standard input in summarize, export, plot, report and compare: sweep rows are told
// from a result by their first line; standard input is given at most once per command; merge
// refuses it (a shard needs its manifest); and the bounded-read limit holds for a stream.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliBin as bin, runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-stdin-test-"));

const cli = (args: string[], input?: string) => runCli(args, { input, maxBuffer: 64 << 20 });

const sweep = {
  name: "stdin",
  base: {
    space: { kind: "grid1d", min: -4, max: 4, cells: 41 },
    groups: [
      { name: "left", weight: 0.4, reward: { kind: "quadratic", center: -2, scale: 1 } },
      { name: "right", weight: 0.6, reward: { kind: "quadratic", center: 2, scale: 1 } },
    ],
    curation: { K: "inf", temperature: 1 },
    generations: 10,
    normalize: true,
  },
  axes: { "groups[0].weight": [0.2, 0.4, 0.6], "curation.K": [2, "inf"] },
};
const rowsFile = join(dir, "rows.jsonl");
let rows = "";
let result = "";

beforeAll(() => {
  const spec = join(dir, "sweep.json");
  writeFileSync(spec, JSON.stringify(sweep));
  const s = cli(["sweep", spec, "--out", rowsFile, "--workers", "0", "--no-progress", "--no-summary"]);
  expect(s.code, s.stderr).toBe(0);
  rows = readFileSync(rowsFile, "utf8");
  const r = cli(["run", "two-groups", "--json", "--set", "generations=20"]);
  expect(r.code, r.stderr).toBe(0);
  result = r.stdout;
}, 60_000);

describe("- reads standard input", () => {
  it("summarize - prints the same summary as the file", () => {
    const piped = cli(["summarize", "-", "--as", "counts", "--json"], rows);
    const file = cli(["summarize", rowsFile, "--as", "counts", "--json"]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toBe(file.stdout);
  });

  it("export - writes the rows as Parquet", () => {
    const out = join(dir, "piped.parquet");
    const r = cli(["export", "-", "--out", out], rows);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("wrote 6 rows");
    expect(readFileSync(out).subarray(0, 4).toString()).toBe("PAR1");
  });

  it("plot - draws rows piped in as a sweep, the same figure as from the file", () => {
    const piped = join(dir, "piped.svg");
    const file = join(dir, "file.svg");
    const args = ["--x", "groups[0].weight", "--y", "curation.K"];
    const a = cli(["plot", "-", ...args, "--out", piped], rows);
    expect(a.code, a.stderr).toBe(0);
    const b = cli(["plot", rowsFile, ...args, "--out", file]);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(piped, "utf8")).toBe(readFileSync(file, "utf8").split(rowsFile).join("-"));
  });

  it("plot - draws a run result piped from run --json", () => {
    const out = join(dir, "run.svg");
    const r = cli(["plot", "-", "--out", out], result);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("<svg");
  });

  it("report - and compare - take a piped result", () => {
    const html = join(dir, "r.html");
    const r = cli(["report", "-", "--out", html], result);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(html, "utf8")).toContain("<svg");
    const svg = join(dir, "c.svg");
    const c = cli(["compare", "-", "--out", svg], result);
    expect(c.code, c.stderr).toBe(0);
    expect(existsSync(svg)).toBe(true);
  });

  it("report - takes piped rows", () => {
    const html = join(dir, "rows.html");
    const r = cli(["report", "-", "--x", "groups[0].weight", "--y", "curation.K", "--out", html], rows);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("- refused where it cannot work", () => {
  it("two - in one command are a USAGE error", () => {
    for (const cmd of [["compare", "-", "-", "--out", join(dir, "x.svg")], ["report", "-", "-", "--out", join(dir, "x.html")]]) {
      const r = cli(cmd, result);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("error [USAGE]");
      expect(r.stderr).toContain('"-" (standard input) can be given once');
    }
  });

  it("merge - is a USAGE error that says why", () => {
    const out = join(dir, "m.jsonl");
    const r = cli(["merge", "-", "--out", out], rows);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error [USAGE]");
    expect(r.stderr).toContain("save it to a file first");
    expect(existsSync(out)).toBe(false);
  });

  it("a bad row on standard input names standard input and the line", () => {
    const r = cli(["summarize", "-"], rows + '{"cell": "x", "status": "ok"}\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("standard input: line 7");
  });

  it("standard input that is not JSON names standard input", () => {
    const r = cli(["plot", "-", "--out", join(dir, "bad.svg")], "{ not json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("standard input is not valid JSON");
  });

  it("a stream past the result-file limit is refused once the limit is passed", () => {
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" plot - --out "${join(dir, "z.svg")}" < /dev/zero`], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/standard input is larger than the 256 MiB limit/);
  }, 60_000);
});
