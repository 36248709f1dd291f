// Guards around a sweep's outputs: names that would leave out/, a merge of rows from another
// sweep under a matching manifest, worker counts beyond cells or cores, --csv targets checked
// before any cell runs, CSV cells that a spreadsheet would run as formulas, oversized inputs.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { capWorkers } from "../src/node/pool.js";
import { mergeFiles } from "../src/node/sweep-cli.js";
import { defaultOut, runSweep, scanLines, sweepPaths } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import { runCli } from "./helpers.js";

const dir = resolve("test", "artifacts", `sweep-guards-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], cwd?: string) => runCli(args, { cwd, timeout: 60_000 });

const doc = (center: number) => ({
  base: { space: { kind: "grid1d", min: -3, max: 3, cells: 31 }, groups: [{ weight: 1, reward: { kind: "quadratic", center } }], generations: 2 },
  axes: { seed: { range: [0, 6] } },
});

async function rejection(p: Promise<unknown>): Promise<{ code?: string; field?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return isPlurisimError(e) ? { code: e.code, field: e.field, message: e.message } : { message: String(e) };
  }
  throw new Error("expected a rejection");
}

describe("output names", () => {
  it("a name that would leave out/ or holds a control character is refused naming `name`", () => {
    for (const name of ["../../x", "a/b", "..", "a\\b", "a\u0000b", "tab\there", ""]) {
      let err: unknown;
      try {
        defaultOut(name);
      } catch (e) {
        err = e;
      }
      expect(isPlurisimError(err, "INVALID_SWEEP") && err.field, JSON.stringify(name)).toBe("name");
    }
    expect(defaultOut("plain")).toBe(join("out", "plain.jsonl"));
    expect(defaultOut("plain", { index: 1, count: 4 })).toBe(join("out", "plain.shard-1-of-4.jsonl"));
  });

  it("the CLI: `name: ../../x` exits 2 and writes nothing outside out/", () => {
    const work = join(dir, "cwd", "deep");
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, "trav.json"), JSON.stringify({ ...doc(0), name: "../../escaped" }));
    const r = cli(["sweep", "trav.json", "--no-progress"], work);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/name/);
    expect(existsSync(join(dir, "cwd", "escaped.jsonl"))).toBe(false);
    expect(existsSync(join(work, "escaped.jsonl"))).toBe(false);
  });
});

describe("merge checks each row against the plan", () => {
  it("rows of another sweep are refused even with a matching manifest beside them", async () => {
    const a = parseSweep(doc(0));
    const b = parseSweep(doc(1));
    for (const index of [0, 1]) await runSweep({ plan: a, out: join(dir, `a${index}.jsonl`), workers: 0, shard: { index, count: 2 } });
    await runSweep({ plan: b, out: join(dir, "b1.jsonl"), workers: 0, shard: { index: 1, count: 2 } });
    // b1's rows (other parameters, same cells and seeds) under a1's manifest.
    copyFileSync(sweepPaths(join(dir, "a1.jsonl")).manifest, sweepPaths(join(dir, "b1.jsonl")).manifest);
    const e = await rejection(mergeFiles([join(dir, "a0.jsonl"), join(dir, "b1.jsonl")], { out: join(dir, "ab.jsonl") }));
    expect(e.code).toBe("INVALID_SWEEP");
    expect(e.message).toMatch(/b1\.jsonl is not the rows file its manifest describes/);
    expect(existsSync(join(dir, "ab.jsonl"))).toBe(false);
    // Without manifests (the plan from --sweep), each row's parameters and seed are checked against it.
    const c = parseSweep({ ...doc(0), axes: { seed: { range: [10, 16] } } });
    await runSweep({ plan: c, out: join(dir, "c1.jsonl"), workers: 0, shard: { index: 1, count: 2 } });
    rmSync(sweepPaths(join(dir, "c1.jsonl")).manifest);
    rmSync(sweepPaths(join(dir, "a0.jsonl")).manifest);
    writeFileSync(join(dir, "a.json"), JSON.stringify(doc(0)));
    const f = await rejection(mergeFiles([join(dir, "a0.jsonl"), join(dir, "c1.jsonl")], { out: join(dir, "ac.jsonl"), sweep: join(dir, "a.json") }));
    expect(f.message).toMatch(/c1\.jsonl: the row of cell 1 has seed 11, not 1/);
    expect(existsSync(join(dir, "ac.jsonl"))).toBe(false);
    // The real pair merges.
    const ok = await mergeFiles([join(dir, "a0.jsonl"), join(dir, "a1.jsonl")], { out: join(dir, "aa.jsonl") });
    expect(ok.cells).toBe(6);
  });

  it("a merge into one of its own inputs is refused", async () => {
    const e = await rejection(mergeFiles([join(dir, "a0.jsonl"), join(dir, "a1.jsonl")], { out: join(dir, "a0.jsonl") }));
    expect(e.code).toBe("FILE");
    expect(e.message).toMatch(/one of the files being merged/);
  });
});

describe("workers", () => {
  it("are capped by the cells to run and by the cores, with a note when a request is lowered", () => {
    const notes: string[] = [];
    const note = (t: string) => notes.push(t);
    expect(capWorkers(64, 6, note, 2)).toBe(2);
    expect(capWorkers(8, 3, note, 16)).toBe(3);
    expect(notes).toEqual(["--workers 64: using 2 (only 2 cores)", "--workers 8: using 3 (only 3 cells to run)"]);
    expect(capWorkers(undefined, 1, note, 16)).toBe(1);
    expect(capWorkers(0, 100, note, 16)).toBe(0);
    expect(capWorkers(2, 100, note, 16)).toBe(2);
    expect(notes.length).toBe(2);
  });

  it("the CLI prints the note and records the threads it used", () => {
    const file = join(dir, "six.json");
    writeFileSync(file, JSON.stringify(doc(0)));
    const out = join(dir, "six.jsonl");
    const r = cli(["sweep", file, "--out", out, "--workers", "64", "--no-progress", "--no-summary"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--workers 64: using \d+/);
    const workers = JSON.parse(readFileSync(sweepPaths(out).manifest, "utf8")).runs[0].workers;
    expect(workers).toBeLessThanOrEqual(6);
  });
});

describe("CSV and inputs", () => {
  it("a --csv that is a folder is refused before any cell runs", async () => {
    const plan = parseSweep(doc(0));
    const out = join(dir, "csvdir.jsonl");
    const e = await rejection(runSweep({ plan, out, workers: 0, csv: dir }));
    expect(e.code).toBe("FILE");
    expect(e.field).toBe("--csv");
    expect(existsSync(out)).toBe(false);
    expect(existsSync(sweepPaths(out).manifest)).toBe(false);
  });

  it("string parameters that look like formulas are neutralised in the sweep CSV", async () => {
    const plan = parseSweep({ ...doc(0), axes: { "groups[0].name": ["=1+1", "@cmd", "-x", "plain"] } });
    const out = join(dir, "formula.jsonl");
    await runSweep({ plan, out, workers: 0, csv: true });
    const csv = readFileSync(sweepPaths(out).csv, "utf8").split("\n");
    const col = csv[0].split(",").indexOf("params.groups[0].name");
    expect(col).toBeGreaterThan(0);
    expect(csv.slice(1, 5).map((l) => l.split(",")[col])).toEqual(["'=1+1", "'@cmd", "'-x", "plain"]);
  });

  it("a rows file with a line past 64 MiB (no newline) is refused, not read without end", async () => {
    const big = join(dir, "one-line.jsonl");
    writeFileSync(big, '{"cell":0}\n');
    truncateSync(big, 70 * 2 ** 20); // sparse: then 70 MiB of zero bytes, no newline
    let lines = 0;
    const e = await rejection(scanLines(big, () => ++lines > 0));
    expect(e.message).toMatch(/one-line\.jsonl has a line longer than 64 MiB/);
    expect(lines).toBe(1);
    truncateSync(big, 0);
    truncateSync(big, 70 * 2 ** 20);
    const r = cli(["merge", big, "--out", join(dir, "m.jsonl"), "--sweep", join(dir, "six.json")]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/line longer than 64 MiB/);
    rmSync(big);
  });

  it("`sweep /dev/zero` exits 2 quickly, naming the size limit", () => {
    const r = cli(["sweep", "/dev/zero", "--no-progress"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\/dev\/zero is larger than the 16 MiB limit/);
    const s = cli(["summarize", "/dev/zero"]);
    expect(s.code, s.stderr).toBe(2);
  });
});
