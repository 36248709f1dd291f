// A sweep worker thread loads only what a batch runs, and says it is ready on its own. Its static
// imports (src/node/sweep-worker.ts, followed through the sources) hold the engine and the cell
// expansion, never Piscina's pool, the CLI, charts, the queue, progress bars or Parquet; and the
// pool hears a new worker's ready message (engine instantiated) before any task is posted, which
// is what lets the start-fast pool hand batches over (src/node/pool.ts). Needs dist/ (npm run build).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadWasmSource } from "../src/node/index.js";
import { createSweepPool } from "../src/node/pool.js";
import { parseSweep } from "../src/sweep/index.js";

/** Local modules (relative to src/) and packages a source file loads through its static, non-type imports. */
function importGraph(entry: string): { modules: string[]; packages: string[] } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\s+(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']/gm)) {
      if (m[2]) continue;
      const spec = m[3];
      // A source is .ts, or .js beside its .d.ts (the generated bindings in src/core/wasm/).
      const target = resolve(dirname(file), spec);
      if (spec.startsWith(".")) walk(existsSync(target.replace(/\.js$/, ".ts")) ? target.replace(/\.js$/, ".ts") : target);
      else if (!spec.startsWith("node:")) packages.add(spec);
    }
  };
  walk(resolve(entry));
  return { modules: [...seen].map((f) => relative(resolve("src"), f)).sort(), packages: [...packages].sort() };
}

describe("the sweep worker's start-up", () => {
  it("imports the engine and the cell expansion only", () => {
    const { modules, packages } = importGraph(join("src", "node", "sweep-worker.ts"));
    expect(packages).toEqual(["zod"]);
    expect(modules).toContain(join("core", "engine.ts"));
    expect(modules).toContain(join("sweep", "task.ts"));
    const node = modules.filter((m) => m.startsWith(`node${"/"}`));
    expect(node).toEqual([join("node", "sweep-worker.ts")]);
    for (const m of modules) expect(m).not.toMatch(/^web\/|charts|plot|^sweep\/(presets|summary|merge|index)\.ts$/);
  });

  it("a new worker reports ready with no task posted", async () => {
    const plan = parseSweep({ base: "two-groups", axes: { seed: [1, 2] } });
    const t0 = performance.now();
    const pool = await createSweepPool({ plan, wasm: await loadWasmSource(), workers: 1 });
    try {
      await pool.ready;
      // The machine may be shared: the bound only says the message came (typically 0.1 to 0.2 s).
      expect(performance.now() - t0).toBeLessThan(20_000);
    } finally {
      await pool.destroy();
    }
  });
});
