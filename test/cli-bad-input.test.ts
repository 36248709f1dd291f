// The CLI end to end: bad input exits 2 with a message naming the field and the value, and
// leaves no file behind; good input prints what the README promises.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-cli-"));

const cli = (...args: string[]) => runCli(args);

const base = () => ({
  space: { kind: "grid1d", min: -4, max: 4, cells: 81 },
  initial: { kind: "uniform" },
  groups: [
    { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -1, scale: 1 } },
    { name: "right", weight: 0.5, reward: { kind: "formula", expr: "-(x - 1)^2" } },
  ],
  curation: { K: "inf", temperature: 1 },
  generations: 20,
});

type Mutation = (s: ReturnType<typeof base>) => void;
const set = (path: (string | number)[], value: unknown): Mutation => (s) => {
  let o: any = s;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]] = value;
};

// [case, mutation, text the message must contain (field path and value)]
const cases: [string, Mutation | string, string[]][] = [
  ["infinite number", (s) => Object.assign(s.space, { max: "INF" }), ["space.max"]],
  ["negative mass", set(["initial"], { kind: "vector", values: [-0.1, ...new Array(80).fill(1.1 / 80)] }), ["initial.values", "-0.1"]],
  ["masses not summing to 1", set(["initial"], { kind: "vector", values: new Array(81).fill(0.5) }), ["initial.values"]],
  ["weights not summing to 1", set(["groups", 0, "weight"], 0.7), ["weight"]],
  ["K < 2", set(["curation", "K"], 1), ["curation.K", "1"]],
  ["K not an integer", set(["curation", "K"], 2.5), ["curation.K", "2.5"]],
  ["tau <= 0", set(["curation", "temperature"], 0), ["curation.temperature", "0"]],
  ["lambda = 1", set(["realData"], { fraction: 1 }), ["realData.fraction", "1"]],
  ["lambda < 0", set(["realData"], { fraction: -0.2 }), ["realData.fraction", "-0.2"]],
  ["formula syntax error", set(["groups", 1, "reward", "expr"], "-(x - 1)^^2"), ["groups[1].reward.expr"]],
  ["formula unknown name", set(["groups", 1, "reward", "expr"], "-(z - 1)^2"), ["groups[1].reward.expr", "z"]],
  ["vector of the wrong length", set(["groups", 0, "reward"], { kind: "vector", values: [1, 2, 3] }), ["groups[0].reward.values", "81"]],
  ["memory limit", set(["space"], { kind: "grid1d", min: 0, max: 1, cells: 400_000_000 }), ["space", "400000000"]],
  ["rewards that underflow", set(["curation", "temperature"], 1e-9), ["groups[0].reward", "temperature"]],
  ["unknown field", (s) => Object.assign(s, { generashuns: 3 }), ["generashuns"]],
  ["unknown preset", "no-such-preset", ["no-such-preset", "two-groups"]],
];

describe("bad input: exit code 2, field and value named, nothing written", () => {
  for (const [name, mutate, needles] of cases) {
    it(name, () => {
      let arg: string;
      if (typeof mutate === "string") arg = mutate;
      else {
        const s = base();
        mutate(s);
        arg = join(dir, `${name.replace(/\W+/g, "-")}.json`);
        // "INF" stands for a number JSON cannot carry: 1e999 parses as Infinity.
        writeFileSync(arg, JSON.stringify(s).replace('"INF"', "1e999"));
      }
      const out = join(dir, `${name.replace(/\W+/g, "-")}.out.json`);
      const r = cli("run", arg, "--out", out);
      expect(r.code, r.stderr).toBe(2);
      for (const needle of needles) expect(r.stderr).toContain(needle);
      expect(r.stderr).not.toContain("NaN");
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
      expect(existsSync(out)).toBe(false);
    });
  }
});

describe("good input", () => {
  it("run --json prints the result object stamped with the engine version and the Wasm SHA-256", () => {
    const file = join(dir, "good.json");
    writeFileSync(file, JSON.stringify(base()));
    const r = cli("run", file, "--json", "--nash", "--final");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.engine.wasmSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(result.trajectory.length).toBe(21);
    expect(result.final.p.length).toBe(81);
    expect(result.final.basinMass.length).toBe(2);
    expect(typeof result.final.tvToNash).toBe("number");
    expect(result.nash.gap).toBeLessThanOrEqual(1e-10);
  });

  it("run --out writes the file and nothing to stdout", () => {
    const out = join(dir, "result.json");
    const r = cli("run", "lemma33-counterexample", "--out", out);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it("presets lists every preset with one line each", () => {
    const r = cli("presets");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.some((l) => l.startsWith("lemma33-counterexample "))).toBe(true);
  });

  it("every command has --help", () => {
    for (const cmd of ["run", "nash", "audit", "presets", "schema", "demo"]) {
      const r = cli(cmd, "--help");
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain("Usage: plurisim");
    }
  });
});
