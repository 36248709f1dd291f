import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const run = (args: string[]) => runCli(args);

describe("plurisim bench", () => {
  it("prints the machine record and positive rates and ratios, and --out writes the same result", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-cli-"));
    try {
      const out = join(dir, "b.json");
      const r = run(["bench", "--quick", "--json", "--out", out, "kernels", "table5"]);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res.machine.cores).toBeGreaterThan(0);
      expect(res.machine.cpuModel).toMatch(/\S/);
      expect(res.machine.node).toBe(process.version);
      expect(res.machine.plurisim).toMatch(/^\d+\.\d+\.\d+/);
      expect(res.machine.wasmSha256).toMatch(/^[0-9a-f]{64}$/);
      const cases = Object.entries(res.suites.kernels.cases) as Array<[string, Record<string, number | null>]>;
      expect(cases.length).toBeGreaterThan(0);
      for (const [, c] of cases) {
        expect(c.wasmMs).toBeGreaterThan(0);
        if (c.numpyMs !== null) expect(c.numpyOverWasm).toBeGreaterThan(0);
        if (c.nativeMs != null) expect(c.wasmOverNative).toBeGreaterThan(0);
      }
      const sweeps = Object.values(res.suites.table5.cases) as Array<Record<string, number | null>>;
      expect(sweeps.map((c) => c.cells)).toEqual(sweeps.map(() => 400));
      for (const c of sweeps) {
        expect(c.cellsPerSecond).toBeGreaterThan(0);
        if (c.numpyCellsPerSecond !== null) expect(c.overNumpy).toBeCloseTo(c.cellsPerSecond! / c.numpyCellsPerSecond!, 9);
      }
      expect(JSON.parse(readFileSync(out, "utf8")).machine).toEqual(res.machine);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it("exits 2 with a one-line message on an unknown flag or suite", () => {
    for (const args of [["bench", "--bogus"], ["bench", "nosuch"]]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
