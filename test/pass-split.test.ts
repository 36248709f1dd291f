// A large K = infinity run shares its memory passes with other threads, each taking a run of
// whole chunks (src/core/passes.ts, src/node/pass-split.ts): two generations per pass for two
// groups, one per pass for 3 to 8 groups (real data mixed in or not). The results have the same bits on 1, 2 or 3 threads,
// with zero blocks dying mid-run, recorded generations, snapshots and an odd number of atoms (the
// tail atom in the last thread's last chunk).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPassRanges, PASS_CHUNK, passRanges, SPLIT_MAX_VALUES, splitPays, type PassRange } from "../src/core/passes.js";
import { twoWells } from "../src/core/presets.js";
import { createEngine, loadWasmSource, parseScenario, runsSplitPasses, runsTwoSteps, type Engine } from "../src/node/index.js";
import { startPassSplit, type PassSplit } from "../src/node/pass-split.js";
import { runCli } from "./helpers.js";

const n = 3 * PASS_CHUNK + 1001; // four chunks, the last one short and odd
// Steep wells: the far atoms underflow to 0 within the run, so whole zero blocks die on every thread.
const scenario = (extra: Record<string, unknown> = {}) =>
  parseScenario(
    twoWells([-1, 1.3], 0.35, {
      space: { kind: "grid1d", min: -30, max: 30, cells: n },
      initial: { kind: "gaussian", mean: 0.4, sd: 6 },
      groups: [
        { name: "left", weight: 0.35, reward: { kind: "quadratic", center: -1, scale: 1.5 } },
        { name: "right", weight: 0.65, reward: { kind: "quadratic", center: 1.3, scale: 1.5 } },
      ],
      generations: 45,
      record: { every: 14, snapshots: [9, 30] },
      ...extra,
    }),
  );

/** The same landscape with `m` steep wells (3 to 8 groups: one generation per pass). */
const wells = (m: number, extra: Record<string, unknown> = {}) =>
  parseScenario({
    ...scenario(),
    groups: Array.from({ length: m }, (_, i) => ({ name: `g${i}`, weight: (i + 1) / ((m * (m + 1)) / 2), reward: { kind: "quadratic", center: -2 + (4.4 * i) / (m - 1), scale: 1.5 } })),
    ...extra,
  });

let engine: Engine;
const splits: PassSplit[] = [];
beforeAll(async () => {
  engine = await createEngine();
  const { module } = await loadWasmSource();
  splits.push(await startPassSplit(module, n, 2), await startPassSplit(module, n, 3));
});
afterAll(async () => {
  await Promise.all(splits.map((s) => s.close()));
});

const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe("two-generation passes split across threads", () => {
  it("gives the same bits on 1, 2 and 3 threads (final p, every recorded metric, snapshots), with and without zero blocks", () => {
    const s = scenario();
    expect(runsTwoSteps(s)).toBe(true);
    const problem = engine.compile(s);
    for (const zeroBlocks of [true, false]) {
      const one = engine.runProblem(problem, { final: true, zeroBlocks }, s);
      expect(one.trajectory.map((m) => m.generation)).toEqual([0, 14, 28, 42, 45]);
      for (const split of splits) {
        expect(split.ranges.length).toBeGreaterThan(0);
        const many = engine.runProblem(problem, { final: true, zeroBlocks, passRanges: split.ranges }, s);
        expect(many.threads).toBe(split.ranges.length + 1);
        expect(same(many.final.p!, one.final.p!)).toBe(true);
        expect(JSON.stringify(many.trajectory)).toBe(JSON.stringify(one.trajectory));
        expect(many.snapshots!.map((x) => x.generation)).toEqual([9, 30]);
        many.snapshots!.forEach((x, i) => expect(same(x.p, one.snapshots![i].p)).toBe(true));
        expect(many.maxMassDefect).toBe(one.maxMassDefect);
      }
    }
    // Not vacuous: blocks did die, and the atoms the other threads hold changed during the run
    // (that the threads ran the passes is checked above through many.threads).
    const final = engine.runProblem(problem, { final: true }, s).final.p!;
    expect(final.filter((v) => v === 0).length).toBeGreaterThan(PASS_CHUNK);
    const p0 = problem.p0;
    expect(final.slice(2 * PASS_CHUNK).some((v, i) => v !== p0[2 * PASS_CHUNK + i])).toBe(true);
  });

  it("runs a second run on the same threads from fresh state (weights and p handed over again)", () => {
    const a = scenario({ generations: 20, record: { every: 20 } });
    const b = parseScenario({ ...scenario(), groups: [
      { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -2, scale: 0.5 } },
      { name: "right", weight: 0.5, reward: { kind: "quadratic", center: 2, scale: 0.5 } },
    ] });
    for (const s of [a, b, a]) {
      const problem = engine.compile(s);
      const one = engine.runProblem(problem, { final: true }, s);
      const two = engine.runProblem(problem, { final: true, passRanges: splits[0].ranges }, s);
      expect(same(two.final.p!, one.final.p!)).toBe(true);
    }
  });

  it("one generation per pass (3 to 8 groups, either mixing): the same bits on 1, 2 and 3 threads, with and without zero blocks", () => {
    for (const [m, mixing, fraction] of [[3, "per-sample", 0], [8, "per-sample", 0], [5, "per-generation", 0], [4, "per-sample", 0.15]] as const) {
      const s = wells(m, { curation: { K: "inf", temperature: 1, mixing }, realData: { fraction, distribution: { kind: "gaussian", mean: -4, sd: 0.5 } } });
      expect(runsTwoSteps(s)).toBe(false);
      expect(runsSplitPasses(s)).toBe(true);
      const problem = engine.compile(s);
      for (const zeroBlocks of [true, false]) {
        const one = engine.runProblem(problem, { final: true, zeroBlocks }, s);
        expect(one.threads).toBeUndefined();
        expect(one.trajectory.map((x) => x.generation)).toEqual([0, 14, 28, 42, 45]);
        for (const split of splits) {
          const many = engine.runProblem(problem, { final: true, zeroBlocks, passRanges: split.ranges }, s);
          const tag = `m = ${m}, ${mixing}, real data ${fraction}, ${split.ranges.length + 1} threads, zeroBlocks ${zeroBlocks}`;
          expect(many.threads, tag).toBe(split.ranges.length + 1);
          expect(same(many.final.p!, one.final.p!), tag).toBe(true);
          expect(JSON.stringify(many.trajectory), tag).toBe(JSON.stringify(one.trajectory));
          many.snapshots!.forEach((x, i) => expect(same(x.p, one.snapshots![i].p), tag).toBe(true));
          expect(many.maxMassDefect, tag).toBe(one.maxMassDefect);
        }
      }
      // Not vacuous: blocks died (where p_data does not reach), and the atoms the last thread holds moved.
      const final = engine.runProblem(problem, { final: true }, s).final.p!;
      expect(final.filter((v) => v === 0).length, `m = ${m}`).toBeGreaterThan(fraction > 0 ? PASS_CHUNK / 4 : PASS_CHUNK);
      expect(final.slice(2 * PASS_CHUNK).some((v, i) => v !== problem.p0[2 * PASS_CHUNK + i]), `m = ${m}`).toBe(true);
    }
  });

  it("threads that ran one kind of pass take another: two groups, eight, four with real data (twice), three, two again", () => {
    const short = { generations: 20, record: { every: 20 } };
    for (const s of [
      scenario(short),
      wells(8, short),
      wells(4, { ...short, realData: { fraction: 0.2 } }),
      wells(4, { ...short, realData: { fraction: 0.05, distribution: { kind: "uniform" } } }),
      wells(3, short),
      scenario(short),
    ]) {
      const problem = engine.compile(s);
      const one = engine.runProblem(problem, { final: true }, s);
      const two = engine.runProblem(problem, { final: true, passRanges: splits[0].ranges }, s);
      expect(two.threads).toBe(2);
      expect(same(two.final.p!, one.final.p!)).toBe(true);
    }
  });

  it("runs that cannot share their passes ignore the threads: two groups with real data, more than 8 groups, an early stop", () => {
    for (const s of [
      scenario({ realData: { fraction: 0.1 } }),
      wells(9),
      wells(4, { earlyStop: { tolerance: 1e-300 } }),
    ]) {
      expect(runsSplitPasses(s)).toBe(false);
      const problem = engine.compile(s);
      const one = engine.runProblem(problem, { final: true }, s);
      const two = engine.runProblem(problem, { final: true, passRanges: splits[0].ranges }, s);
      expect(two.threads).toBeUndefined();
      expect(same(two.final.p!, one.final.p!)).toBe(true);
    }
  });

  it("uses threads where they pay: long stretches between stops, and one-generation passes only on mid-sized grids", () => {
    const one = (atoms: number, groups: number, generations = 1000, stops = 2) => splitPays({ twoSteps: false, atoms, groups, generations, stops });
    const two = (generations: number, stops: number) => splitPays({ twoSteps: true, atoms: 1e7, groups: 2, generations, stops });
    expect([two(1000, 2), two(600, 2), two(400, 2), two(100, 2), two(1000, 11)]).toEqual([true, true, false, false, false]);
    expect([one(1e5, 8), one(4 * PASS_CHUNK, 8), one(1e6, 8), one(3e6, 8), one(6e6, 3)]).toEqual([false, true, true, true, true]);
    expect([one(8e6, 3), one(6e6, 8), one(1e7, 3)]).toEqual([false, false, false]);
    expect([one(SPLIT_MAX_VALUES / 4, 3), one(SPLIT_MAX_VALUES / 4 + 1, 3)]).toEqual([true, false]);
    expect([one(1e6, 8, 66, 2), one(1e6, 8, 65, 2), one(1e6, 8, 80, 9)]).toEqual([true, false, false]);
  });

  it("takes runs of whole chunks in order, and refuses ranges that are not", () => {
    expect(passRanges(n, 1)).toEqual([[0, n]]);
    expect(passRanges(n, 2)).toEqual([[0, 2 * PASS_CHUNK], [2 * PASS_CHUNK, n]]);
    expect(passRanges(n, 3)).toEqual([[0, PASS_CHUNK], [PASS_CHUNK, 2 * PASS_CHUNK], [2 * PASS_CHUNK, n]]);
    expect(passRanges(PASS_CHUNK, 8)).toEqual([[0, PASS_CHUNK]]);
    const r = (from: number, to: number) => ({ from, to }) as PassRange;
    expect(() => checkPassRanges([r(PASS_CHUNK, n)], n)).not.toThrow();
    expect(() => checkPassRanges([r(PASS_CHUNK + 2, n)], n)).toThrow(/whole 65536-atom chunks/);
    expect(() => checkPassRanges([r(PASS_CHUNK, n - 1)], n)).toThrow(RangeError);
    expect(() => checkPassRanges([r(0, n)], n)).toThrow(RangeError);
  });

  it("a thread that stops answering ends the run with THREAD_LOST, not a hang", async () => {
    const { module } = await loadWasmSource();
    const lost = await startPassSplit(module, n, 2, { answerMs: 300 });
    await lost.close(); // the thread is gone before the run starts
    const s = scenario();
    const t0 = Date.now();
    expect(() => engine.runProblem(engine.compile(s), { passRanges: lost.ranges }, s)).toThrow(
      expect.objectContaining({ code: "THREAD_LOST", message: expect.stringMatching(/did not answer within 0\.3 s/) }),
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("plurisim run --threads 2 writes the same result as --threads 1, where the threads pay", () => {
    const dir = mkdtempSync(join(tmpdir(), "plurisim-split-"));
    /** Runs a scenario file with --threads 1 and 2 (or just `counts`): the threads each result says it used, and the rest of it. */
    const runWith = (name: string, doc: Record<string, unknown>, counts = [1, 2]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(doc));
      return counts.map((threads) => {
        const out = join(dir, `${name}-${threads}.out.json`);
        const r = runCli(["run", file, "--final", "--threads", String(threads), "--out", out]);
        expect(r.code, r.stderr).toBe(0);
        const { elapsedMs: _, threads: used, ...rest } = JSON.parse(readFileSync(out, "utf8"));
        return { threads: used, rest: JSON.stringify(rest) };
      });
    };
    // Two groups: long enough between records for the threads to pay (the CLI uses them only then), and one short.
    const outs = runWith("two", { ...scenario(), generations: 1000, record: { every: 500 } });
    expect(outs.map((o) => o.threads)).toEqual([undefined, 2]);
    expect(outs[1].rest).toBe(outs[0].rest);
    expect(runWith("short", { ...scenario(), generations: 30, record: { every: 15 } }, [2])[0].threads).toBeUndefined();
    // Eight groups on four chunks and more: one generation per pass, shared when at least 50
    // generations (plus 8 per recorded generation) run; not with a record every 10 generations.
    const wide = { ...wells(8), space: { kind: "grid1d", min: -30, max: 30, cells: 4 * PASS_CHUNK + 11 }, generations: 80 };
    const wideOuts = runWith("wide", { ...wide, record: { every: 40 } });
    expect(wideOuts.map((o) => o.threads)).toEqual([undefined, 2]);
    expect(wideOuts[1].rest).toBe(wideOuts[0].rest);
    expect(runWith("wide-often", { ...wide, record: { every: 10 } }, [2])[0].threads).toBeUndefined();
    const file = join(dir, "two.json");
    const bad = runCli(["run", file, "--threads", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--threads must be an integer in \[1, 256\] \(got "0"\)/);
  });
});
