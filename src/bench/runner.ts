// Runs the user-facing benchmark suites and formats their result: one object with the machine
// record and each suite's cases, ratios measured in the same run.
import { kernelsSuite } from "./kernels.js";
import { machineRecord, type MachineRecord } from "./machine.js";
import { sweepSuite } from "./sweep.js";
import { table5Suite } from "./table5.js";

/** What every suite returns: named cases of numbers (or notes), free-form notes and metadata. */
export interface SuiteResult {
  cases: Record<string, object>;
  notes: string[];
  meta?: Record<string, unknown>;
}

/** The suites `plurisim bench` runs, in order. */
export const BENCH_SUITES: Record<string, (opts: { quick?: boolean }) => Promise<SuiteResult>> = {
  kernels: kernelsSuite,
  sweep: sweepSuite,
  table5: table5Suite,
};

/** The result of a benchmark run. */
export interface BenchResult {
  date: string;
  quick: boolean;
  machine: MachineRecord;
  suites: Record<string, SuiteResult>;
}

/** Runs the named suites (all when not given); progress lines go to `log`. */
export async function runBench(opts: { suites?: string[]; quick?: boolean; log?: (line: string) => void } = {}): Promise<BenchResult> {
  const names = opts.suites ?? Object.keys(BENCH_SUITES);
  const log = opts.log ?? ((line: string) => console.error(line));
  const result: BenchResult = { date: new Date().toISOString(), quick: opts.quick ?? false, machine: await machineRecord(), suites: {} };
  // The suites print progress with console.log; route it to `log` so stdout carries only the result.
  const original = console.log;
  console.log = (...args: unknown[]) => log(args.map(String).join(" "));
  try {
    for (const name of names) result.suites[name] = await BENCH_SUITES[name]({ quick: opts.quick });
  } finally {
    console.log = original;
  }
  return result;
}

const cell = (v: unknown): string => (typeof v === "number" ? String(Number(v.toPrecision(4))) : v === null || v === undefined ? "-" : String(v));

/** A readable text table per suite, with the machine record and the notes. */
export function formatBench(r: BenchResult): string {
  const m = r.machine;
  const lines = [`plurisim ${m.plurisim} on ${m.cpuModel} (${m.cores} cores, ${m.platform}), Node ${m.node}, wasm sha256 ${m.wasmSha256.slice(0, 16)}${r.quick ? ", quick sizes" : ""}`];
  for (const [name, suite] of Object.entries(r.suites)) {
    const rows = Object.entries(suite.cases);
    const cols = [...new Set(rows.flatMap(([, c]) => Object.keys(c)))];
    const body = rows.map(([c, v]) => [c, ...cols.map((k) => cell((v as Record<string, unknown>)[k]))]);
    const head = ["case", ...cols];
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const fmt = (row: string[]) => row.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join("  ");
    lines.push("", name, fmt(head), ...body.map(fmt));
    for (const note of suite.notes) lines.push(`note: ${note}`);
  }
  return lines.join("\n") + "\n";
}
