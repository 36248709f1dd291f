// `run --json` and `run --out` stream the result's JSON in pieces: the text is toJson's, with
// Infinity and NaN as strings, and the file written whole.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toJson } from "../src/core/json.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-json-"));

const cli = (args: string[]) => runCli(args, { maxBuffer: 1 << 28 });

// 200,000 atoms: p and p* alone are several times the 64 Ki-character pieces of the stream.
const wide = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 200_001 },
  groups: [
    { name: "left", weight: 0.4, reward: { kind: "quadratic", center: -2, scale: 1 } },
    { name: "right", weight: 0.6, reward: { kind: "quadratic", center: 2, scale: 1 } },
  ],
  generations: 3,
};
const wideFile = join(dir, "wide.json");
writeFileSync(wideFile, JSON.stringify(wide));

describe("run --json streamed", () => {
  it("prints toJson's text of the whole result, final p and p* included", () => {
    const r = cli(["run", wideFile, "--final", "--nash", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.final.p.length).toBe(200_001);
    expect(result.nash.p.length).toBe(200_001);
    // Non-finite values are strings, so the text survives a round trip through JSON.parse.
    expect(r.stdout).toBe(toJson(result, 2) + "\n");
  });

  it("--out writes the same text atomically and names the file on stderr", () => {
    const out = join(dir, "result.json");
    const r = cli(["run", wideFile, "--final", "--nash", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`wrote ${out}`);
    const text = readFileSync(out, "utf8");
    const result = JSON.parse(text);
    expect(result.final.p.length).toBe(200_001);
    expect(text).toBe(toJson(result, 2) + "\n");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("nash --json and audit --out stream the same way", () => {
    const nash = cli(["nash", "two-groups", "--json"]);
    expect(nash.code, nash.stderr).toBe(0);
    expect(nash.stdout).toBe(toJson(JSON.parse(nash.stdout), 2) + "\n");
    const out = join(dir, "audit.json");
    const audit = cli(["audit", "two-groups", "--out", out]);
    expect(audit.code, audit.stderr).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).toBe(toJson(JSON.parse(text), 2) + "\n");
  });
});
