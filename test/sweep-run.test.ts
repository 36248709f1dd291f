// Running sweeps: one worker, several workers and sharded-then-merged runs give identical rows;
// an interrupted (or killed) sweep resumed gives the same file as one that ran through; error
// rows; a worker that dies; merge refuses missing and duplicated cells. Needs the built wasm and
// dist/ (npm run build): the Piscina workers run dist/src/node/sweep-worker.js.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { mergeFiles } from "../src/node/sweep-cli.js";
import { readRows, runSweep } from "../src/node/sweep-run.js";
import { parseSweep } from "../src/sweep/index.js";
import type { Row } from "../src/sweep/task.js";

const dir = join("test", "artifacts", `sweep-run-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  space: { kind: "grid1d", min: -6, max: 6, cells: 301 },
  initial: { kind: "uniform" },
  groups: [
    { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
    { name: "right", weight: 0.5, reward: { kind: "quadratic", center: 1, scale: 1 } },
  ],
  curation: { K: "inf", temperature: 1, mixing: "per-generation" },
  generations: 40,
  record: { every: 10 },
};
// 5 x 3 x 2 replicates = 30 cells; temperature 1e-4 makes every weight but one underflow: an error row.
const doc = {
  base,
  axes: { "groups[0].weight": { linspace: [0.1, 0.9, 5] }, "curation.temperature": [1, 0.5, 1e-4] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  replicates: 2,
  seed: 3,
  keep: { final: true, generations: [0, 20], trajectory: true },
};
const plan = parseSweep(doc);
const strip = (rows: Row[]) => rows.map(({ durationMs, ...rest }) => rest);
const out = (name: string) => join(dir, `${name}.jsonl`);
const lines = (path: string) => readFileSync(path, "utf8");
const withoutTiming = (path: string) => lines(path).replace(/"durationMs":[0-9.e+-]+,?/g, "");

let reference: ReturnType<typeof strip>;

describe("sweep runs", () => {
  it("one worker (main thread) writes every cell in order, with error rows", async () => {
    const r = await runSweep({ plan, out: out("w0"), workers: 0 });
    expect(r.status).toBe("complete");
    const rows = await readRows(out("w0"));
    expect(rows.map((x) => x.cell)).toEqual([...Array(30).keys()]);
    const errors = rows.filter((x) => x.status === "error");
    expect(errors.length).toBe(10); // every cell with temperature 1e-4
    for (const e of errors) {
      expect(e.params["curation.temperature"]).toBe(1e-4);
      expect(["REWARD_UNDERFLOW", "NUMERIC"]).toContain(e.errorCode);
      expect(e.error).toMatch(/underflow/);
    }
    expect(r.counts).toMatchObject({ total: 30, done: 30, ok: 20, failed: 10 });
    const ok = rows.find((x) => x.status === "ok")!;
    expect(Object.keys(ok.at!)).toEqual(["0", "20"]);
    expect(ok.final!.basinMass!.length).toBe(2);
    const manifest = JSON.parse(lines(join(dir, "w0.manifest.json")));
    expect(manifest).toMatchObject({ status: "complete", cells: { total: 30, done: 30, ok: 20, failed: 10, pending: 0 } });
    expect(manifest.engine.wasmSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.planSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(lines(join(dir, "w0.trajectories.jsonl")).trim().split("\n").length).toBe(30);
    reference = strip(rows);
  });

  it("1 worker, 2 workers with other batch sizes, and 3 shards merged give identical rows", async () => {
    await runSweep({ plan, out: out("w1"), workers: 1, batch: 7 });
    await runSweep({ plan, out: out("w2"), workers: 2, batch: 1, csv: true });
    expect(strip(await readRows(out("w1")))).toEqual(reference);
    expect(strip(await readRows(out("w2")))).toEqual(reference);
    expect(lines(join(dir, "w2.trajectories.jsonl"))).toBe(lines(join(dir, "w0.trajectories.jsonl")));
    expect(lines(join(dir, "w2.csv")).split("\n")[0]).toMatch(/^cell,replicate,params\.groups\[0\]\.weight/);
    for (let i = 0; i < 3; i++) await runSweep({ plan, out: out(`s${i}`), workers: 2, shard: { index: i, count: 3 } });
    expect((await readRows(out("s1"))).map((r) => r.cell)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
    await mergeFiles([out("s2"), out("s0"), out("s1")], { out: out("merged") });
    expect(strip(await readRows(out("merged")))).toEqual(reference);
    expect(lines(join(dir, "merged.trajectories.jsonl"))).toBe(lines(join(dir, "w0.trajectories.jsonl")));
  });

  it("merge refuses missing and duplicated cells, and files of another sweep", async () => {
    const err = async (p: Promise<unknown>, re: RegExp) => {
      try {
        await p;
      } catch (e) {
        expect(isPlurisimError(e, "INVALID_SWEEP"), String(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
        return;
      }
      throw new Error("expected INVALID_SWEEP");
    };
    await err(mergeFiles([out("s0"), out("s1")], { out: out("bad") }), /10 of the sweep's 30 cells are missing: 2, 5, 8/);
    await err(mergeFiles([out("s0"), out("s1"), out("s2"), out("s0")], { out: out("bad") }), /cell 0 appears more than once/);
    await err(mergeFiles([out("w0"), out("s1")], { out: out("bad") }), /appears more than once/);
    const other = parseSweep({ ...doc, seed: 4 });
    await runSweep({ plan: other, out: out("other"), workers: 0, shard: { index: 1, count: 3 } });
    await err(mergeFiles([out("s0"), out("other"), out("s2")], { out: out("bad") }), /different sweep/);
    expect(existsSync(out("bad"))).toBe(false);
  });

  it("an interrupted sweep, resumed (after a torn last line), equals one that ran through", async () => {
    const controller = new AbortController();
    const p = runSweep({ plan, out: out("int"), workers: 1, batch: 2, signal: controller.signal });
    const t = setInterval(() => {
      if (existsSync(out("int")) && lines(out("int")).split("\n").length > 6) controller.abort();
    }, 1);
    const r = await p;
    clearInterval(t);
    expect(r.status).toBe("interrupted");
    expect(r.counts.done).toBeLessThan(30);
    expect(JSON.parse(lines(join(dir, "int.manifest.json"))).status).toBe("interrupted");
    expect(lines(out("int")).endsWith("\n")).toBe(true);
    appendFileSync(out("int"), '{"cell":99,"tor');
    await expect(runSweep({ plan, out: out("int"), workers: 2 })).rejects.toThrow(/--resume/);
    const r2 = await runSweep({ plan, out: out("int"), workers: 2, resume: true });
    expect(r2.status).toBe("complete");
    expect(r2.counts.ranNow).toBe(30 - r.counts.done);
    expect(withoutTiming(out("int"))).toBe(withoutTiming(out("w0")));
    expect(lines(join(dir, "int.trajectories.jsonl"))).toBe(lines(join(dir, "w0.trajectories.jsonl")));
    const m = JSON.parse(lines(join(dir, "int.manifest.json")));
    expect(m.runs.map((x: { status: string }) => x.status)).toEqual(["interrupted", "complete"]);
    // Resuming a complete sweep runs nothing and duplicates nothing.
    const r3 = await runSweep({ plan, out: out("int"), workers: 0, resume: true });
    expect(r3.counts.ranNow).toBe(0);
    expect(withoutTiming(out("int"))).toBe(withoutTiming(out("w0")));
  });

  it("a worker that dies is replaced; only the cell that killed it fails", async () => {
    const r = await runSweep({ plan, out: out("die"), workers: 2, batch: 4, exitOnCells: [5] });
    expect(r.status).toBe("complete");
    const rows = strip(await readRows(out("die")));
    expect(rows[5]).toMatchObject({ cell: 5, status: "error", errorCode: "WORKER_DIED", error: expect.stringMatching(/worker died/) });
    expect(rows.filter((_, i) => i !== 5)).toEqual(reference.filter((_, i) => i !== 5));
  });

  it("--fail-fast stops at the first failed cell", async () => {
    const r = await runSweep({ plan, out: out("ff"), workers: 0, batch: 1, failFast: true });
    expect(r.status).toBe("failed");
    const rows = await readRows(out("ff"));
    expect(rows[rows.length - 1].status).toBe("error");
    expect(rows.length).toBeLessThan(30);
  });

  it("the CLI: SIGTERM stops cleanly (exit 143, whole lines), --resume completes the same file", async () => {
    const file = join(dir, "cli-sweep.json");
    const slow = { ...doc, base: { ...base, space: { kind: "grid1d", min: -6, max: 6, cells: 3001 }, generations: 400 }, replicates: 8 };
    writeFileSync(file, JSON.stringify(slow));
    const cli = (args: string[]) => spawn(process.execPath, ["bin/plurisim.js", "sweep", file, "--out", out("cli"), "--workers", "1", "--batch", "1", "--no-progress", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const child = cli([]);
    const code = await new Promise<number | null>((resolve) => {
      const t = setInterval(() => {
        if (existsSync(out("cli")) && lines(out("cli")).split("\n").length > 4) {
          clearInterval(t);
          child.kill("SIGTERM");
        }
      }, 5);
      child.on("exit", (c) => {
        clearInterval(t);
        resolve(c);
      });
    });
    expect(code).toBe(143);
    const partial = lines(out("cli"));
    expect(partial.endsWith("\n")).toBe(true);
    const n = partial.trim().split("\n").length;
    expect(n).toBeLessThan(120);
    expect(JSON.parse(lines(join(dir, "cli.manifest.json"))).status).toBe("interrupted");
    const again = cli(["--resume", "--workers", "2"]);
    const code2 = await new Promise<number | null>((resolve) => again.on("exit", resolve));
    expect(code2).toBe(0);
    const full = await readRows(out("cli"));
    expect(full.map((r) => r.cell)).toEqual([...Array(120).keys()]);
    const straight = await runSweep({ plan: parseSweep(slow, { name: "cli-sweep" }), out: out("cli-straight"), workers: 2 });
    expect(straight.status).toBe("complete");
    expect(withoutTiming(out("cli"))).toBe(withoutTiming(out("cli-straight")));
  });
});
