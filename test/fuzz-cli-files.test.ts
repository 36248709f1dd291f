// Fuzzing the CLI's file readers end to end: mutated scenario files through `run` and `nash`,
// mutated sweep files through `sweep --dry-run`, mutated result files through `plot`. Each
// process exits 0, or 2 with one line naming what is wrong: never a stack trace, never an
// internal error (exit 1), never NaN in a JSON result, and `run` accepts a file exactly when the
// scenario parser does. The cases are drawn once from the fuzz seed (about 37 spawns, two at a
// time: each costs a few tenths of a second on an idle machine); `npm run fuzz` draws more.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { atomCount, parseScenario } from "../src/core/scenario.js";
import { FUZZ_SCALE, FUZZ_SEED, mutate, mutation, nestDeep } from "./fuzz-mutate.js";

const bin = new URL("../bin/plurisim.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "plurisim-fuzz-cli-"));

interface Outcome {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1" }, cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ args, code, stdout, stderr });
    });
  });
}

/** Runs the commands two at a time (the test machines have two cores). */
async function runAll(commands: string[][]): Promise<Outcome[]> {
  const out: Outcome[] = new Array(commands.length);
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const k = next++;
      out[k] = await cli(commands[k]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** Exit 0, or exit 2 with a one-line "plurisim: error [CODE]: ..." message; no stack trace either way. */
function expectClean(o: Outcome, file: string): void {
  const what = `plurisim ${o.args.join(" ")} (${file}): exit ${o.code}\n${o.stderr.slice(0, 2000)}`;
  expect(o.code === 0 || o.code === 2, what).toBe(true);
  expect(o.stderr, what).not.toMatch(/^\s+at .+[(:]\d+/m);
  expect(o.stderr, what).not.toMatch(/internal error|RangeError|TypeError|Maximum call stack/);
  if (o.code === 2) {
    const lines = o.stderr.split("\n").filter((l) => l.trim() !== "" && !/^\s*[\^~]|^\s{2,}/.test(l));
    expect(lines.length, what).toBe(1);
    expect(lines[0], what).toMatch(/^plurisim: error \[[A-Z_]+\]: /);
  }
}

const scenario = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 41 },
  initial: { kind: "gaussian", mean: 0, sd: 1 },
  groups: [
    { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -1 } },
    { name: "right", weight: 0.5, reward: { kind: "formula", expr: "-(x - 1)^2" } },
  ],
  curation: { K: 4, temperature: 1 },
  generations: 6,
  record: { every: 2 },
};

const sweep = {
  name: "fuzz",
  base: scenario,
  axes: { "groups[0].weight": { linspace: [0.3, 0.7, 3] }, "curation.K": [2, "inf"] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  seed: 3,
  keep: { final: true, nash: true },
};

const draw = (n: number, seed: number) => fc.sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { numRuns: n * FUZZ_SCALE, seed });

/** Writes `value` as JSON text to a new file; JSON.stringify cannot overflow on the fixed deep cases here. */
function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

/** Whether the parser accepts `doc`, and the work a run of it would do (atoms x generations). */
function accepted(doc: unknown): { ok: boolean; work: number } {
  try {
    const s = parseScenario(doc);
    return { ok: true, work: atomCount(s.space) * Math.max(1, s.generations) * (s.retraining.model === "exact" ? 1 : 50) };
  } catch (e) {
    if (isPlurisimError(e)) return { ok: false, work: 0 };
    throw e;
  }
}

// A mutation can make a valid scenario that runs for minutes (10^7 generations): such cases are
// checked by the parser in process and not spawned.
const MAX_WORK = 2e6;

describe("CLI file readers under mutated input", () => {
  test("run, nash, sweep --dry-run and plot: exit 0 or a one-line exit 2, never a stack trace", async () => {
    const commands: string[][] = [];
    const checks: ((o: Outcome) => void)[] = [];

    draw(12, FUZZ_SEED).forEach((muts, k) => {
      const doc = mutate(scenario, muts);
      const { ok, work } = accepted(doc);
      if (work > MAX_WORK) return;
      const path = file(`run-${k}.json`, doc);
      commands.push(["run", path, "--json", "--final"]);
      checks.push((o) => {
        expectClean(o, JSON.stringify(muts).slice(0, 300));
        // The CLI accepts the file exactly when the parser accepts the document (or the run itself refuses it, exit 2).
        if (!ok) expect(o.code, `${path} was refused by the parser but run exited 0`).toBe(2);
        if (o.code === 0) expect(o.stdout).not.toContain('"NaN"');
      });
    });

    draw(5, FUZZ_SEED + 1).forEach((muts, k) => {
      const doc = mutate(scenario, muts);
      if (accepted(doc).work > MAX_WORK * 100) return;
      const path = file(`nash-${k}.json`, doc);
      commands.push(["nash", path, "--json"]);
      checks.push((o) => {
        expectClean(o, JSON.stringify(muts).slice(0, 300));
        if (o.code === 0) expect(o.stdout).not.toContain('"NaN"');
      });
    });

    draw(8, FUZZ_SEED + 2).forEach((muts, k) => {
      const path = file(`sweep-${k}.json`, mutate(sweep, muts));
      commands.push(["sweep", path, "--dry-run"]);
      checks.push((o) => expectClean(o, JSON.stringify(muts).slice(0, 300)));
    });

    // A real result file, then mutated copies of it through plot.
    const result = await cli(["run", file("good.json", scenario), "--json", "--final"]);
    expect(result.code, result.stderr).toBe(0);
    const resultDoc = JSON.parse(result.stdout);
    draw(6, FUZZ_SEED + 3).forEach((muts, k) => {
      const path = file(`result-${k}.json`, mutate(resultDoc, muts));
      commands.push(["plot", path, "--out", join(dir, `plot-${k}.svg`)]);
      checks.push((o) => expectClean(o, JSON.stringify(muts).slice(0, 300)));
    });

    const outcomes = await runAll(commands);
    outcomes.forEach((o, k) => checks[k](o));
  }, 300_000 * FUZZ_SCALE);

  test("deeply nested and prototype-keyed files exit 2 naming the field, with nothing written", async () => {
    const deep = `{"space": {"kind": "grid1d", "min": 0, "max": 1, "cells": 3}, "groups": [{"weight": 1, "reward": {"kind": "vector", "values": ${JSON.stringify(nestDeep(1, 3000))}}}]}`;
    const proto = JSON.stringify(scenario).replace('"name":"left",', '"name":"left","__proto__":{"weight":0.9},');
    const deepSweep = `{"base": ${JSON.stringify(scenario)}, "axes": {"generations": [1, 2]}, "keep": {"final": true, "x": ${"[".repeat(3000)}${"]".repeat(3000)}}}`;
    const protoAxis = JSON.stringify({ ...sweep, axes: { "groups[0].__proto__.weight": [0.1, 0.2] }, derived: undefined });
    const out = join(dir, "written.json");
    const cases: [string[], RegExp][] = [
      [["run", file("deep.json", deep), "--out", out], /groups\[0\]\.reward\.values.* nested more than 64 levels/],
      [["run", file("proto.json", proto), "--out", out], /groups\[0\]\.__proto__ is not allowed/],
      [["sweep", file("deep-sweep.json", deepSweep), "--dry-run"], /keep\.x.* nested more than 64 levels/],
      [["sweep", file("proto-axis.json", protoAxis), "--dry-run"], /__proto__/],
      [["run", file("replicates.json", scenario), "--replicates", "1e12"], /replicates/],
    ];
    const outcomes = await runAll(cases.map(([args]) => args));
    outcomes.forEach((o, k) => {
      expectClean(o, cases[k][0][1]);
      expect(o.code, o.stderr).toBe(2);
      expect(o.stderr).toMatch(cases[k][1]);
    });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 120_000);
});
