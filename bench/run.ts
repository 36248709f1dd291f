// Runs the benchmark suites, merges each suite's output into bench/results.json under the
// suite's name, and prints a table of ratios. Add a suite by importing it into SUITES.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { flowSuite } from "./flow.js";
import { kernelsSuite } from "../src/bench/kernels.js";
import { queueSuite } from "./queue.js";
import { samplingSuite } from "./sampling.js";
import { sweepSuite } from "../src/bench/sweep.js";
import { throughputSuite } from "./throughput.js";

/** What every suite returns: named cases of numbers (or notes), free-form notes and metadata. */
interface Suite {
  cases: Record<string, object>;
  notes: string[];
}

const SUITES: Record<string, () => Promise<Suite>> = {
  kernels: kernelsSuite,
  sampling: samplingSuite,
  sweep: sweepSuite,
  queue: queueSuite,
  flow: flowSuite,
  throughput: throughputSuite,
};

// dist/bench/run.js writes to the source tree's bench/results.json.
const here = fileURLToPath(new URL(".", import.meta.url));
const resultsPath = existsSync(`${here}../../bench`) ? `${here}../../bench/results.json` : `${here}results.json`;

const only = process.argv.slice(2);
const results: Record<string, unknown> = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, "utf8")) : {};
for (const [name, suite] of Object.entries(SUITES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const out = await suite();
  results[name] = { ...out, date: new Date().toISOString() };
  console.log(`\n${name}`);
  console.table(
    Object.fromEntries(
      Object.entries(out.cases).map(([c, r]) => [
        c,
        Object.fromEntries(Object.entries(r as Record<string, unknown>).map(([k, v]) => [k, typeof v === "number" ? Number(v.toPrecision(4)) : v])),
      ]),
    ),
  );
  for (const note of out.notes) console.log(`note: ${note}`);
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
}
console.log(`results: ${resultsPath}`);
