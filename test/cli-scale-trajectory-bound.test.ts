// A run keeps one trajectory entry per interval of record.every generations, and a scenario may
// ask for at most MAX_RECORDED_INTERVALS of them (2^21 / m with m > 20 groups): left out,
// record.every grows with the number of generations; set too small, it is refused before the
// run, naming the smallest allowed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { MAX_RECORDED_INTERVALS, maxRecordedIntervals, minRecordEvery, parseScenario } from "../src/core/scenario.js";
import { createEngine } from "../src/node/index.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-record-"));

const tiny = (generations: number, record?: { every?: number }) => ({
  space: { kind: "grid1d", min: -2, max: 2, cells: 5 },
  groups: [
    { name: "left", weight: 0.4, reward: { kind: "quadratic", center: -1, scale: 1 } },
    { name: "right", weight: 0.6, reward: { kind: "quadratic", center: 1, scale: 1 } },
  ],
  generations,
  ...(record ? { record } : {}),
});

function refusal(doc: unknown) {
  try {
    parseScenario(doc);
  } catch (e) {
    if (isPlurisimError(e)) return e;
    throw e;
  }
  throw new Error("expected the scenario to be refused");
}

describe("record.every bound", () => {
  it("left out, it is 1 up to 100,000 generations and ceil(T / 100,000) above", () => {
    expect(MAX_RECORDED_INTERVALS).toBe(100_000);
    expect(parseScenario(tiny(100)).record.every).toBe(1);
    expect(parseScenario(tiny(100_000)).record.every).toBe(1);
    expect(parseScenario(tiny(100_001)).record.every).toBe(2);
    expect(parseScenario(tiny(10_000_000)).record.every).toBe(100);
    expect(minRecordEvery(0, 2)).toBe(1);
  });

  it("above 20 groups the bound is 2^21 / m intervals, so the per-group numbers kept stay under 2^23", () => {
    expect(maxRecordedIntervals(20)).toBe(100_000);
    expect(maxRecordedIntervals(21)).toBe(Math.floor(2 ** 21 / 21));
    expect(maxRecordedIntervals(256)).toBe(8192);
    const many = { ...tiny(1_000_000), groups: Array.from({ length: 256 }, (_, i) => ({ weight: 1 / 256, reward: { kind: "linear", slope: i / 256 } })), normalize: true };
    expect(parseScenario(many).record.every).toBe(123);
    const e = refusal({ ...many, record: { every: 122 } });
    expect(e.field).toBe("record.every");
    expect(e.message).toContain("at least 123 with generations = 1000000 and 256 groups");
  });

  it("set below generations / 100,000, it is refused naming the field, the value and the smallest allowed", () => {
    const e = refusal(tiny(10_000_000, { every: 1 }));
    expect(e.code).toBe("INVALID_SCENARIO");
    expect(e.field).toBe("record.every");
    expect(e.value).toBe(1);
    expect(e.message).toContain("at least 100");
    expect(e.message).toContain("(got 1)");
    expect(refusal(tiny(10_000_000, { every: 99 })).value).toBe(99);
    expect(parseScenario(tiny(10_000_000, { every: 100 })).record.every).toBe(100);
    expect(parseScenario(tiny(100_000, { every: 1 })).record.every).toBe(1);
    expect(refusal(tiny(100_001, { every: 1 })).field).toBe("record.every");
  });

  it("a run of 300,001 generations keeps generation 0, every fourth and the last: 75,002 entries", async () => {
    const engine = await createEngine();
    const T = 300_001;
    const result = engine.run(tiny(T));
    expect(result.generationsRun).toBe(T);
    const gens = result.trajectory.map((m) => m.generation);
    // every = ceil(300001 / 100000) = 4: 0, 4, ..., 300000, then the last.
    expect(gens.length).toBe(Math.floor(T / 4) + 2);
    expect(gens.length).toBeLessThanOrEqual(MAX_RECORDED_INTERVALS + 2);
    expect(gens[1]).toBe(4);
    expect(gens[gens.length - 1]).toBe(T);
  }, 60_000);

  it("plurisim run refuses 10^7 generations recorded every generation at once, with exit code 2", () => {
    const file = join(dir, "long.json");
    writeFileSync(file, JSON.stringify(tiny(10_000_000, { every: 1 })));
    const r = runCli(["run", file], { timeout: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("plurisim: error [INVALID_SCENARIO]: record.every must be at least 100");
    expect(r.stdout).toBe("");
  });
});
