// `npm run bench`: the user-facing suites of src/bench (as `plurisim bench`) plus the dev-only
// suites here; merges each suite's output into bench/results.json under the suite's name.
import { existsSync, readFileSync } from "node:fs";
import { root } from "../src/bench/common.js";
import { writeFileAtomic } from "../src/node/files.js";
import { BENCH_SUITES, formatBench, runBench, type SuiteResult } from "../src/bench/runner.js";
import { flowSuite } from "./flow.js";
import { queueSuite } from "./queue.js";
import { samplingSuite } from "./sampling.js";
import { throughputSuite } from "./throughput.js";
import { wholeRunSuite } from "./whole-run.js";

const DEV_SUITES: Record<string, () => Promise<SuiteResult>> = {
  sampling: samplingSuite,
  queue: queueSuite,
  flow: flowSuite,
  throughput: throughputSuite,
  wholeRun: () => wholeRunSuite({ quick }),
};

const resultsPath = `${root}bench/results.json`;
const quick = process.argv.includes("--quick");
const only = process.argv.slice(2).filter((a) => a !== "--quick");
const pick = (names: string[]) => names.filter((n) => only.length === 0 || only.includes(n));
const results: Record<string, unknown> = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, "utf8")) : {};
const run = await runBench({ suites: pick(Object.keys(BENCH_SUITES)), quick, log: console.log });
for (const [name, out] of Object.entries(run.suites)) results[name] = { ...out, machine: run.machine, date: run.date };
const dev: Record<string, SuiteResult> = {};
for (const name of pick(Object.keys(DEV_SUITES))) {
  dev[name] = await DEV_SUITES[name]();
  results[name] = { ...dev[name], machine: run.machine, date: new Date().toISOString() };
}
await writeFileAtomic(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
console.log(formatBench({ ...run, suites: { ...run.suites, ...dev } }));
console.log(`results: ${resultsPath}`);
