// The published package: `npm pack --dry-run` lists what a user installs. Everything the entry
// points, the CLI and the docs it cites need is in it; build leftovers (dist/bench, the page's
// dist/web, a second copy of the .wat) are not; every export resolves.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
let files: string[] = [];

beforeAll(() => {
  // --ignore-scripts: `prepare` would rebuild everything; the test reads what the build left.
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
}, 60_000);

/** The files an `exports` value points to (conditions flattened). */
function targets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(targets);
  return [];
}

describe("npm pack", () => {
  it("ships the entry points, the kernels (and the bench's finite-K baseline), the schema, the license and the docs the CLI cites", () => {
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "bin/plurisim.js",
      "dist/src/node/index.js",
      "dist/src/node/index.d.ts",
      "dist/src/node/cli.js",
      "dist/src/web/index.js",
      "dist/src/sweep/index.js",
      "dist/src/core/charts.js",
      "dist/src/core/wasm/plurisim.wasm",
      "src/bench/baselines/finitek-chunked.wasm",
      "schema/scenario.schema.json",
      "schema/sweep.schema.json",
      "docs/model.md",
      "sweeps/q-k-distance.json",
    ]) {
      expect(files, f).toContain(f);
    }
  });

  it("every bin and exports target is in the tarball", () => {
    const wanted = [...Object.values(pkg.bin as Record<string, string>), ...targets(pkg.exports)].map((p) => posix.normalize(p));
    expect(wanted.length).toBeGreaterThan(6);
    for (const t of wanted) expect(files, t).toContain(t);
  });

  it("ships no build leftovers and no second copy of the .wat", () => {
    const bad = files.filter((f) => /^(dist\/bench|dist\/web|test|bench|out|node_modules|presets)\//.test(f) || f.endsWith(".tmp"));
    expect(bad).toEqual([]);
    expect(files.filter((f) => f.endsWith(".wat"))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith("plurisim.wasm") && f.startsWith("dist/"))).toHaveLength(1);
  });

  it("every entry of package.json `files` matches something (no folder that does not exist)", () => {
    for (const entry of pkg.files as string[]) {
      if (entry.startsWith("!")) continue;
      expect(files.some((f) => f === entry || f.startsWith(`${entry}/`)), entry).toBe(true);
    }
  });

  it("is MIT licensed, with the license text", () => {
    expect(pkg.license).toBe("MIT");
    const text = readFileSync(new URL("../LICENSE", import.meta.url), "utf8");
    expect(text).toMatch(/^MIT License/);
    expect(text).toContain("Copyright (c) 2026 the plurisim authors");
  });

  it("the browser entry finds the .wasm beside it in the tarball (what a bundler copies as an asset)", () => {
    const entry = readFileSync(new URL("../dist/src/web/index.js", import.meta.url), "utf8");
    const m = /new URL\("([^"]+\.wasm)", import\.meta\.url\)/.exec(entry);
    expect(m, "dist/src/web/index.js resolves the .wasm relative to itself").not.toBeNull();
    expect(files).toContain(posix.join("dist/src/web", m![1]));
  });
});

describe("exports", () => {
  // A package may import itself by name through its own exports map: this is what a user's import sees.
  it.each([
    ["plurisim", "[typeof m.createEngine, typeof m.presetScenario]", ["function", "function"]],
    ["plurisim/sweep", "[typeof m.parseSweep, typeof m.runBatch]", ["function", "function"]],
    ["plurisim/charts", "[typeof m.runFigureSpec, typeof m.phaseDiagramSpec]", ["function", "function"]],
    ["plurisim/package.json", "m.default.name", "plurisim"],
    ["plurisim/schema.json", "typeof m.default.properties.groups", "object"],
    ["plurisim/sweep.schema.json", "typeof m.default.properties.axes", "object"],
  ])("%s", (specifier, expr, expected) => {
    const attributes = specifier.endsWith(".json") ? ', { with: { type: "json" } }' : "";
    const script = `const m = await import(${JSON.stringify(specifier)}${attributes}); console.log(JSON.stringify(${expr}));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });
});
