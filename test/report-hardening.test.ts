// Reports and figures of hostile or damaged inputs: every string from an input reaches the HTML
// escaped under a Content-Security-Policy that lets nothing run, and a damaged file given to
// plot, report, compare or summarize is exit 2 with a message naming the file and the field.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJson } from "../src/core/json.js";
import { presetScenario } from "../src/core/presets.js";
import { createEngine } from "../src/node/index.js";
import { isPlurisimError } from "../src/core/errors.js";
import { readPlotInput, readSweepRows } from "../src/node/plot-input.js";
import { buildReportHtml, REPORT_CSP, writeReportFromFiles } from "../src/node/report.js";
import { runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args);

const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`;
const ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;";

let result: Record<string, unknown>;
beforeAll(async () => {
  const engine = await createEngine();
  const scenario = presetScenario("two-groups") as Record<string, unknown> & { groups: { name?: string }[] };
  scenario.generations = 20;
  scenario.groups[0].name = HOSTILE;
  scenario.description = HOSTILE;
  result = JSON.parse(toJson(engine.run(scenario, { final: true, nash: true })));
  (result.engine as Record<string, unknown>).version = HOSTILE;
  (result.engine as Record<string, unknown>).wasmSha256 = HOSTILE;
});

/** Real tags (not escaped text) that would run or load something: script, img, iframe, object, on* attributes, javascript: URLs. */
function injected(html: string): string[] {
  const found: string[] = [];
  for (const [raw] of html.matchAll(/<[a-zA-Z][^>]*>/g)) {
    // Quoted attribute values are text (a quote inside one would end it early and show up here).
    const tag = raw.replace(/"[^"]*"/g, '""');
    if (/^<(script|img|iframe|object|embed)\b/i.test(tag) || /\son\w+\s*=/i.test(tag) || /javascript:/i.test(tag)) found.push(tag.slice(0, 80));
  }
  return found;
}

describe("every input string reaches the report escaped, under a CSP that runs nothing", () => {
  it("escapes a hostile engine.version, group name and description", async () => {
    const path = join(dir, "hostile.json");
    writeFileSync(path, JSON.stringify(result));
    const out = join(dir, "hostile.html");
    await writeReportFromFiles([path], out, { title: HOSTILE });
    const html = readFileSync(out, "utf8");
    expect(html).toContain(`plurisim ${ESCAPED}, Wasm SHA-256 <code>${ESCAPED}</code>`);
    expect(html).toContain(`<h1>${ESCAPED}</h1>`);
    expect(html).toContain(`<p>${ESCAPED}</p>`);
    expect(injected(html)).toEqual([]);
  });

  it("escapes sweep parameter values and error messages, and carries the CSP", async () => {
    const rows = [0, 1].map((cell) => ({ cell, params: { "groups[0].name": `${HOSTILE}${cell}`, q: cell }, seed: 1, status: cell ? "error" : "ok", final: cell ? undefined : { basinMass: [0.5, 0.5] }, error: HOSTILE, engine: { version: HOSTILE, wasmSha256: HOSTILE } }));
    const html = await buildReportHtml([{ kind: "sweep", title: HOSTILE, rows }], { title: "t", intro: HOSTILE });
    expect(injected(html)).toEqual([]);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toMatch(/default-src 'none'/);
    expect(REPORT_CSP).not.toMatch(/script-src|unsafe-eval/);
  });
});

describe("damaged inputs are exit 2 naming the file and the field, never a stack trace", () => {
  const inputs = join(dir, "inputs");
  const outDir = join(dir, "out");
  mkdirSync(inputs);
  mkdirSync(outDir);
  const write = (name: string, text: string) => {
    const p = join(inputs, name);
    writeFileSync(p, text);
    return p;
  };
  const mutate = (f: (r: Record<string, any>) => void) => {
    const r = structuredClone(result) as Record<string, any>;
    f(r);
    return JSON.stringify(r);
  };
  const cases: { name: string; file: () => string; message: RegExp; commands?: true }[] = [
    { name: "truncated JSON", file: () => write("torn.json", JSON.stringify(result).slice(0, 200)), message: /torn\.json is not valid JSON/ },
    { name: "final.basinMass not a list", file: () => write("bm.json", mutate((r) => (r.final.basinMass = "x"))), message: /bm\.json: final\.basinMass must be a list of numbers/ },
    { name: "a trajectory entry without generation", file: () => write("gen.json", mutate((r) => delete r.trajectory[1].generation)), message: /gen\.json: trajectory\[1\]\.generation must be a number/ },
    { name: "a trajectory entry with the wrong number of groups", file: () => write("groups.json", mutate((r) => r.trajectory[0].basinMass.push(0.1))), message: /groups\.json: trajectory\[0\]\.basinMass must have 2 entries/ },
    { name: "nash.p not numbers", file: () => write("nash.json", mutate((r) => (r.nash.p = [{}]))), message: /nash\.json: nash\.p must be a list of numbers/ },
    { name: "engine.version not text", file: () => write("engine.json", mutate((r) => (r.engine.version = { a: 1 }))), message: /engine\.json: engine must be/ },
    { name: "JSON nested 100,000 deep", file: () => write("deep.json", "[".repeat(100_000) + "]".repeat(100_000)), message: /deep\.json is not valid JSON: nested more than 64 levels/ },
    { name: "an empty file", file: () => write("empty.json", ""), message: /empty\.json is not valid JSON/ },
    { name: "a folder", file: () => inputs, message: /not a regular file|is a folder/ },
    { name: "a rows line that is not JSON", file: () => write("rows.jsonl", '{"cell":0,"params":{"q":1},"status":"ok","final":{"basinMass":[1]}}\n{"cell":1,"par\n'), message: /rows\.jsonl: line 2 is not valid JSON/, commands: true },
    { name: "a rows line whose params is not an object", file: () => write("params.jsonl", '{"cell":0,"params":3,"status":"ok"}\n'), message: /params\.jsonl: line 1: params must be an object/, commands: true },
    { name: "a rows line without a cell", file: () => write("cell.jsonl", '{"params":{},"status":"ok"}\n'), message: /cell\.jsonl: line 1: cell must be a non-negative integer/, commands: true },
  ];
  for (const c of cases) {
    it(`${c.name}: the reader refuses it naming the file and field`, async () => {
      const file = c.file();
      const read = c.commands ? readSweepRows(file) : readPlotInput(file);
      const err = await read.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isPlurisimError(err), String(err)).toBe(true);
      expect((err as Error).message).toMatch(c.message);
    });
  }

  // The commands themselves, once each: exit 2, one line, nothing written.
  const commands: { name: string; args: (out: string) => string[]; message: RegExp }[] = [
    { name: "plot, a torn result", args: (out) => ["plot", cases[0].file(), "--out", join(out, "f.svg")], message: cases[0].message },
    { name: "report, a bad field", args: (out) => ["report", cases[1].file(), "--out", join(out, "r.html")], message: cases[1].message },
    { name: "compare, deep JSON", args: (out) => ["compare", cases[6].file(), cases[6].file(), "--out", join(out, "c.svg")], message: cases[6].message },
    { name: "summarize, a torn rows line", args: () => ["summarize", cases[9].file()], message: cases[9].message },
  ];
  for (const c of commands) {
    it(`${c.name}: exit 2, no stack trace, nothing written`, () => {
      const r = cli(...c.args(outDir));
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.stderr).toMatch(c.message);
      expect(r.code, r.stderr).toBe(2);
      expect(readdirSync(outDir)).toEqual([]);
    });
  }
});

describe("summaries refuse rows they cannot read", () => {
  const ok = (cell: number, params: Record<string, unknown>) => ({ cell, replicate: 0, params, seed: 1, status: "ok" as const, final: { basinMass: [0.5, 0.5] }, durationMs: 1 });
  it("names a swept parameter that some row lacks, and a row without params or final", async () => {
    const { summarize } = await import("../src/sweep/summary.js");
    const full = { "groups[0].reward.center": -1, "groups[1].reward.center": 1, "groups[0].weight": 0.5 };
    expect(() => summarize("table5", [ok(0, full), ok(1, { "groups[0].weight": 0.5 })])).toThrow(expect.objectContaining({ code: "INVALID_SWEEP", field: "summary" }));
    expect(() => summarize("table5", [ok(0, full), { ...ok(1, full), params: null }])).toThrow(expect.objectContaining({ code: "INVALID_SWEEP", field: "params" }));
    expect(() => summarize("table5", [ok(0, full), { ...ok(1, full), final: "x" }])).toThrow(/row 2 \(cell 1\) is "ok" but has no final metrics object/);
    expect(summarize("table5", [ok(0, full)]).text).not.toMatch(/NaN/);
  });
});
