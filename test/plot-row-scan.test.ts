// `plot` reads sweep rows from their bytes (src/node/row-scan.ts) rather than JSON.parse every
// line: the rows it keeps, the figures drawn from them and the refusals of damaged lines must be
// those of the full parse, on rows with errors, non-finite values written as strings, K = "inf",
// replicates and lines the scanner hands back (escapes, __proto__, odd spacing, nesting).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { metricReader } from "../src/core/charts.js";
import { sweepFigureData } from "../src/core/sweep-figure.js";
import { readPlotInput, readSweepRows } from "../src/node/plot-input.js";
import { specFor } from "../src/node/plot-spec.js";
import type { PlotOptions } from "../src/node/plot.js";
import { rowScanner } from "../src/node/row-scan.js";
import { parseJson } from "../src/node/plot-input.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-row-scan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A final-metrics object shaped like the runner's, with toJson's strings for non-finite numbers. */
function final(a: number, k: number): Record<string, unknown> {
  return {
    generation: 400,
    expectedReward: [-15.200125000000003 * a, -0.8001250000000002],
    rewardVariance: [12.167600031250007, 12.16040003125001],
    logPartition: [-2.9969807136532842, -0.05254173448684402],
    nashWelfare: k % 7 === 0 ? "-Infinity" : -0.19976368344516604,
    nashGap: k % 5 === 0 ? "Infinity" : 0.0012447727035644895 * (k + 1),
    entropy: k % 11 === 0 ? "NaN" : 1.9525023813119635 + a,
    effectiveSupport: 7.04629806191867,
    basinMass: k % 13 === 0 ? ["NaN", 1 - a] : [a, 1 - a],
    outsideMass: 2.7602346561997675e-178,
    klFromInitial: 6.054198464128402e3,
    l1Step: 1.2503927580788169e-3,
    massDefect: -0,
  };
}

/** A q x K x replicate grid: K takes "inf", some cells fail, some metrics are non-finite strings. */
function gridLines(): string[] {
  const lines: string[] = [];
  let cell = 0;
  for (const q of [0.05, 0.1, 0.30000000000000004, 0.5, 0.95]) {
    for (const K of [2, 4, 16, "inf"]) {
      for (let replicate = 0; replicate < 3; replicate++) {
        const a = q ** (1 / (1 + replicate));
        const params = { "groups[0].weight": q, "curation.K": K, "groups[1].weight": 1 - q };
        const base = { cell, replicate, params, seed: 3793791033 + cell * 7919, durationMs: 29.162024000000088 + cell };
        const row =
          cell % 9 === 4
            ? { ...base, status: "error", error: cell % 2 ? "tau must be positive \u00e9 \"quoted\"" : "NaN", errorCode: "INVALID_SCENARIO", errorField: "curation.tau" }
            : { ...base, status: "ok", final: final(a, cell), generationsRun: 400, stoppedEarly: false, maxMassDefect: 4.440892098500626e-16, nash: { welfare: -0.2, gap: 0, basinMass: [0.5, 0.5], outsideMass: 0 } };
        lines.push(JSON.stringify(row));
        cell++;
      }
    }
  }
  return lines;
}

/** Lines the scanner must hand back or read exactly: odd but valid JSON a hand-edited file may hold. */
const ODD = [
  // Spacing, CRLF, a key escaped, unicode in parameter names and values.
  ` { "cell" : 900 , "replicate":0, "params" : { "groups[0].weight" : 0.5 , "curation.K" : "inf", "groups[1].weight": 0.5 } , "status" : "ok" , "final" : { "basinMass" : [ 0.25 , 0.75 ] } }\r`,
  `{"cell":901,"replicate":0,"params":{"groups[0].weight":0.5,"curation.K":2,"groups[1].weight":0.5},"st\\u0061tus":"ok","final":{"basinMass":[0.5,0.5]}}`,
  `{"cell":902,"replicate":1,"params":{"groups[0].weight":0.5,"curation.K":2,"groups[1].weight":0.5},"status":"o\\u006b","final":{"basin\\u004dass":[0.5,0.5],"basinMass":[1e-3,9.99e-1]}}`,
  // Duplicate keys (the last wins), __proto__, a nested parameter value, an engine stamp.
  `{"cell":903,"cell":904,"replicate":0,"params":{"groups[0].weight":0.1,"curation.K":16,"groups[1].weight":0.9,"__proto__":{"x":1}},"status":"ok","final":{"basinMass":[0.1,0.2],"basinMass":[0.3,0.7]}}`,
  `{"cell":905,"replicate":0,"params":{"groups[0].weight":0.1,"curation.K":16,"groups[1].weight":0.9,"groups[0].reward":{"center":[-1,"Infinity"]}},"status":"ok","engine":{"version":"1.0.0","wasmSha256":"ab"},"final":{"basinMass":[0.3,0.7]}}`,
  // Numbers at the edges of the fast reading: 17 digits, exponents, -0, 2^53 + 1, huge and tiny.
  `{"cell":906,"replicate":0,"params":{"groups[0].weight":0.30000000000000004,"curation.K":4,"groups[1].weight":0.7},"status":"ok","final":{"basinMass":[9007199254740993e-16,-0,1E+2,123456789012345678901234567890,5e-324,1.7976931348623157e308,0.000000000000000000000001]}}`,
  `{"cell":907,"replicate":2,"params":{"groups[0].weight":1e-1,"curation.K":4.0,"groups[1].weight":9E-1},"status":"ok","final":{"basinMass":[],"nashGap":null}}`,
  `{"cell":908,"replicate":0,"params":{"groups[0].weight":0.1,"curation.K":4,"groups[1].weight":0.9},"status":"ok","final":null}`,
  `{"cell":909,"replicate":0,"params":{"groups[0].weight":0.1,"curation.K":4,"groups[1].weight":0.9},"status":"ok"}`,
  `{"cell":910,"replicate":0,"params":{"groups[0].weight":0.1,"curation.K":"Infinity","groups[1].weight":0.9},"status":"error","error":"\\ud83d\\ude00 \\n\\t","errorCode":"ERROR","extra":[true,false,null,{"a":[[[]]]}]}`,
  "",
  "   ",
];

function write(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

async function both(path: string, finalFields: string[], scanFrom = 0) {
  const fast = await readSweepRows(path, { finalFields, whole: false, scanFrom });
  const full = await readSweepRows(path, { finalFields, whole: false, scanFrom: Infinity });
  return { fast, full };
}

describe("rows read from their bytes", () => {
  it("keeps the rows JSON.parse keeps: errors, non-finite strings, K = inf, replicates, odd lines", async () => {
    const path = write("grid.jsonl", [...gridLines(), ...ODD]);
    for (const fields of [["basinMass"], ["basinMass", "nashGap"], ["nashGap", "basinMass", "entropy"], ["generation"], []]) {
      const { fast, full } = await both(path, fields);
      expect(fast).toStrictEqual(full);
    }
    // The scanner taking over part way through the file.
    const { fast, full } = await both(path, ["basinMass"], 17);
    expect(fast).toStrictEqual(full);
  });

  it("draws the same figures and data as the full parse", async () => {
    const path = write("figure.jsonl", gridLines());
    const cases: PlotOptions[] = [
      { x: "groups[0].weight", y: "curation.K", aggregate: "mean" },
      { x: "groups[0].weight", y: "curation.K", aggregate: "median", metric: "basinMass[1]" },
      { chart: "line", x: "groups[0].weight", series: "curation.K", aggregate: "mean", metric: "nashGap" },
      { x: "groups[0].weight", y: "curation.K", where: [{ path: "curation.K", value: "inf" }], aggregate: "sd", metric: "entropy" },
      { chart: "line", x: "curation.K", facet: "groups[0].weight", aggregate: "max" },
    ];
    for (const options of cases) {
      const finalFields = [options.metric ?? "basinMass"];
      const fast = await readPlotInput(path, { finalFields, whole: false, scanFrom: 0 });
      const full = await readPlotInput(path, { finalFields, whole: false, scanFrom: Infinity });
      expect(specFor(fast, options)).toStrictEqual(specFor(full, options));
      const read = metricReader(options.metric ?? "basinMass[0]");
      const rows = (input: typeof fast) => (input.kind === "sweep" ? input.rows : []);
      const { chart, ...rest } = options;
      const figureOptions = { ...rest, chart: chart === "line" ? ("line" as const) : undefined, read };
      const a = sweepFigureData(rows(fast), figureOptions);
      const b = sweepFigureData(rows(full), figureOptions);
      expect({ ...a, cells: a.cells }).toStrictEqual({ ...b, cells: b.cells });
    }
  });

  it("refuses an unplotted varying parameter exactly as the full parse does", async () => {
    const path = write("refuse.jsonl", gridLines());
    const fast = await readPlotInput(path, { finalFields: ["basinMass"], whole: false, scanFrom: 0 });
    const full = await readPlotInput(path, { finalFields: ["basinMass"], whole: false, scanFrom: Infinity });
    const message = (input: typeof fast) => {
      try {
        specFor(input, { chart: "line", x: "groups[0].weight" });
      } catch (err) {
        return (err as Error).message;
      }
      return "drawn";
    };
    expect(message(fast)).toMatch(/^curation\.K varies within the cells/);
    expect(message(fast)).toBe(message(full));
  });

  it("names the same line and field as the full parse for damaged lines", async () => {
    const good = gridLines().slice(0, 3);
    const damaged = [
      `{"cell":1,"params":{"a":1},"status":"ok","final":{"basinMass":[0.1,]}}`,
      `{"cell":1,"params":{"a":1},"status":"ok","final":{"basinMass":[0.1,0.2]}`,
      `{"cell":1,"params":{"a":1},"status":"ok","final":{"nashGap":01}}`,
      `{"cell":1,"params":{"a":1},"status":"ok","final":{"x":"a\u0001b"}}`,
      `{"cell":1,"params":{"a":1},"status":"ok","final":{"x":"\\x"}}`,
      `{"cell":1,"params":{"a":1},"status":"ok","final":{"x":tru}}`,
      `{"cell":1,"params":{"a":1},"status":"ok"} x`,
      `{"cell":-1,"params":{"a":1},"status":"ok"}`,
      `{"cell":1.5,"params":{"a":1},"status":"ok"}`,
      `{"cell":"Infinity","params":{"a":1},"status":"ok"}`,
      `{"cell":1,"params":[1],"status":"ok"}`,
      `{"cell":1,"params":{"a":1},"status":"done"}`,
      `{"cell":1,"params":{"a":1},"status":"ok","final":[1]}`,
      `{"cell":1,"replicate":"0","params":{"a":1},"status":"ok"}`,
      `{"cell":1,"params":{"a":1},"status":"ok","engine":{"version":1}}`,
      `[1,2]`,
      `{}`,
      `\u00a0{"cell":1,"params":{"a":1},"status":"ok"}`,
    ];
    for (const [i, line] of damaged.entries()) {
      const path = write(`damaged-${i}.jsonl`, [...good, line, ...good]);
      const outcome = async (scanFrom: number) =>
        readSweepRows(path, { finalFields: ["basinMass"], whole: false, scanFrom }).then(
          (rows) => ({ rows }),
          (err: Error & { field?: string }) => ({ message: err.message, field: err.field }),
        );
      expect(await outcome(0), line).toStrictEqual(await outcome(Infinity));
    }
  });

  it("hands back the lines it is not sure of", () => {
    const scanner = rowScanner(["basinMass"], parseJson);
    const at = (line: string) => scanner.scan(Buffer.from(line), 0, Buffer.byteLength(line));
    expect(at(ODD[1])).toBeUndefined(); // an escaped key
    expect(at(ODD[3])).toBeUndefined(); // __proto__
    expect(at("")).toBeUndefined();
    expect(at(`{"cell":1,"params":{"a":${"[".repeat(40)}${"]".repeat(40)}},"status":"ok"}`)).toBeUndefined(); // deep nesting
    expect(at(gridLines()[0])).toStrictEqual({ cell: 0, replicate: 0, params: { "groups[0].weight": 0.05, "curation.K": 2, "groups[1].weight": 0.95 }, seed: 3793791033, durationMs: 29.162024000000088, status: "ok", final: { basinMass: ["NaN", 0.95].map((v) => (v === "NaN" ? NaN : v)) } });
  });
});
