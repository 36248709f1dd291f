// run --tv-exact and schema --sweep from the command line.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const cli = (...args: string[]) => runCli(args);

describe("run --tv-exact", () => {
  it("adds tvToExact to every recorded generation of a finite-sample run, 0 at generation 0", () => {
    const r = cli("run", "drift-loses-basin", "--set", "generations=20", "--tv-exact", "--json");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    const tvs = result.trajectory.map((m: { tvToExact: number }) => m.tvToExact);
    expect(tvs.length).toBe(result.trajectory.length);
    expect(tvs[0]).toBe(0);
    expect(tvs.every((v: number) => v >= 0 && v <= 1)).toBe(true);
    expect(tvs.at(-1)).toBeGreaterThan(0);
  });

  it("shows it as a column of the table", () => {
    const r = cli("run", "drift-loses-basin", "--set", "generations=20", "--tv-exact");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tvToExact/);
  });
});

describe("schema --sweep", () => {
  it("prints the sweep JSON Schema, the same as the shipped schema/sweep.schema.json", () => {
    const r = cli("schema", "--sweep");
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.$id).toMatch(/sweep\.schema\.json$/);
    expect(printed).toEqual(JSON.parse(readFileSync(new URL("../schema/sweep.schema.json", import.meta.url), "utf8")));
  });
});
