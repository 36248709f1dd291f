// Deterministic math by construction: the transcendental functions of the TypeScript side are
// the Wasm's NativeMath from their first call, so compiling a scenario before or after the first
// engine exists gives the same bits (it used to give the host's Math.exp before and the Wasm's
// after, which differ in the last bit for about one exp in ten).
import { describe, expect, it, vi } from "vitest";

const scenario = {
  space: { kind: "grid1d", min: -6, max: 6, cells: 1001 },
  initial: { kind: "mixture", weights: [0.3, 0.7], means: [-2, 1.5], sds: [0.7, 1.3] },
  groups: [
    { name: "a", weight: 0.4, reward: { kind: "gaussian", center: -1, width: 1.5, height: 2 } },
    { name: "b", weight: 0.6, reward: { kind: "formula", expr: "sin(3 * x) * exp(-x^2 / 8) + log(2 + x^2) - 0.1 * 1.7^x" } },
  ],
  curation: { K: "inf", temperature: 0.8 },
  generations: 20,
};

type CoreGraph = {
  compileScenario: typeof import("../src/core/compile.js").compileScenario;
  parseScenario: typeof import("../src/core/scenario.js").parseScenario;
  createEngine: typeof import("../src/node/index.js").createEngine;
  dmath: typeof import("../src/core/detmath.js").dmath;
};

/** A fresh module graph: detmath.ts (and everything else) as if this thread had just started. */
async function freshGraph(): Promise<CoreGraph> {
  vi.resetModules();
  const [{ compileScenario }, { parseScenario }, { createEngine }, { dmath }] = await Promise.all([
    import("../src/core/compile.js"),
    import("../src/core/scenario.js"),
    import("../src/node/index.js"),
    import("../src/core/detmath.js"),
  ]);
  return { compileScenario, parseScenario, createEngine, dmath };
}

const bits = (a: Float64Array) => Array.from(a, (v) => (Object.is(v, -0) ? "-0" : String(v)));

describe("the same numbers whichever runs first", () => {
  it("compileScenario before any engine equals compileScenario after one, and after one in a fresh thread", async () => {
    const a = await freshGraph();
    const before = a.compileScenario(a.parseScenario(scenario));
    await a.createEngine();
    const after = a.compileScenario(a.parseScenario(scenario));
    expect(bits(after.p0)).toEqual(bits(before.p0));
    expect(bits(after.r)).toEqual(bits(before.r));

    const b = await freshGraph();
    await b.createEngine();
    const engineFirst = b.compileScenario(b.parseScenario(scenario));
    expect(bits(engineFirst.p0)).toEqual(bits(before.p0));
    expect(bits(engineFirst.r)).toEqual(bits(before.r));
  });

  it("a run's results do not depend on whether something was compiled before the engine", async () => {
    const a = await freshGraph();
    a.compileScenario(a.parseScenario(scenario));
    const ra = (await a.createEngine()).run(scenario, { final: true });
    const b = await freshGraph();
    const rb = (await b.createEngine()).run(scenario, { final: true });
    expect(bits(Float64Array.from(ra.final.p!))).toEqual(bits(Float64Array.from(rb.final.p!)));
    expect(ra.final.nashWelfare).toBe(rb.final.nashWelfare);
  });

  it("dmath has the bits of the kernels' own Math (and the host's Math would not)", async () => {
    const g = await freshGraph();
    const engine = await g.createEngine();
    const k = await import("../src/core/kernels.js");
    const { loadWasmBytes } = await import("../src/node/wasm.js");
    const raw = (await k.instantiateKernels(new WebAssembly.Module((await loadWasmBytes()) as Uint8Array<ArrayBuffer>))).raw;
    expect(engine.info.wasmSha256).toMatch(/^[0-9a-f]{64}$/);
    let hostDiffers = 0;
    for (let i = 0; i < 2000; i++) {
      const x = (i - 1000) / 37.3;
      expect(g.dmath.exp(x)).toBe(raw.mathExp(x));
      expect(g.dmath.log(i + 0.5)).toBe(raw.mathLog(i + 0.5));
      expect(g.dmath.pow(i / 7 + 0.1, 0.37)).toBe(raw.mathPow(i / 7 + 0.1, 0.37));
      expect(g.dmath.sin(x)).toBe(raw.mathSin(x));
      if (Math.exp(x) !== raw.mathExp(x)) hostDiffers++;
    }
    // Why it matters: the host's exp differs from the Wasm's in the last bit here and there.
    expect(hostDiffers).toBeGreaterThan(0);
  });
});
