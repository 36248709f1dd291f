// `plurisim bench`: runs the benchmark suites on this machine and prints a table or JSON.
// The suites (and their NumPy, native-C and thread-pool baselines) load when the command runs.
import { Argument, type Command } from "commander";
import { sanitizeForTerminal } from "../core/text.js";
import { checkOutputTarget, writeFileAtomic } from "./files.js";

/** The suites `plurisim bench` offers, in the order they run: the keys of BENCH_SUITES (src/bench/runner.ts). */
export const BENCH_SUITE_NAMES = ["kernels", "sweep", "table5"] as const;

/** Registers `plurisim bench [--quick] [--json] [--out f.json] [suite...]`. */
export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description("benchmark the kernels and sweeps on this machine against NumPy and native C (when present)")
    .addArgument(new Argument("[suite...]", "suites to run (all when none)").choices(BENCH_SUITE_NAMES))
    .option("--quick", "small sizes (about 20 s)")
    .option("--json", "print the result as JSON")
    .option("--out <file>", "also write the result (JSON) to a file")
    .action(async (suites: string[], flags: { quick?: boolean; json?: boolean; out?: string }) => {
      if (flags.out) checkOutputTarget(flags.out);
      const [{ formatBench, runBench }, { toJson }] = await Promise.all([import("../bench/runner.js"), import("../core/json.js")]);
      const result = await runBench({ suites: suites.length ? suites : undefined, quick: flags.quick });
      const json = toJson(result, 2) + "\n";
      if (flags.out) {
        await writeFileAtomic(flags.out, json);
        process.stderr.write(`wrote ${sanitizeForTerminal(flags.out)}\n`);
      }
      process.stdout.write(flags.json ? json : formatBench(result));
    });
}
