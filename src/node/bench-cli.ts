// `plurisim bench`: runs the benchmark suites on this machine and prints a table or JSON.
import { Argument, type Command } from "commander";
import { BENCH_SUITES, formatBench, runBench } from "../bench/runner.js";
import { toJson } from "../core/json.js";
import { checkOutputTarget, writeFileAtomic } from "./files.js";

/** Registers `plurisim bench [--quick] [--json] [--out f.json] [suite...]`. */
export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description("benchmark the kernels and sweeps on this machine against NumPy and native C (when present)")
    .addArgument(new Argument("[suite...]", "suites to run (all when none)").choices(Object.keys(BENCH_SUITES)))
    .option("--quick", "small sizes (about 20 s)")
    .option("--json", "print the result as JSON")
    .option("--out <file>", "also write the result (JSON) to a file")
    .action(async (suites: string[], flags: { quick?: boolean; json?: boolean; out?: string }) => {
      if (flags.out) checkOutputTarget(flags.out);
      const result = await runBench({ suites: suites.length ? suites : undefined, quick: flags.quick });
      const json = toJson(result, 2) + "\n";
      if (flags.out) await writeFileAtomic(flags.out, json);
      process.stdout.write(flags.json ? json : formatBench(result));
    });
}
