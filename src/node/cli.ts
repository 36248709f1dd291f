// The `plurisim` command line. Exit codes: 0 ok, 2 bad input (a PlurisimError: the message
// names the field and the value), 1 anything else.
import { existsSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { isPlurisimError, PlurisimError } from "../core/errors.js";
import { toJson } from "../core/json.js";
import { presets, presetScenario } from "../core/presets.js";
import { parseScenario, scenarioJsonSchema, type Scenario } from "../core/scenario.js";
import type { RunResult } from "../core/types.js";
import { VERSION } from "../core/version.js";
import { runDemo } from "./demo.js";
import { readJsonFile, writeFileAtomic } from "./files.js";
import { trajectoryTable, num, table } from "./format.js";
import { createEngine } from "./index.js";
import { createProgress } from "./progress.js";
import { registerSweepCommands } from "./sweep-cli.js";
import { registerPlotCommands } from "./plot.js";

/** A scenario argument: a JSON file if one exists at that path (or it ends in .json), else a preset name. */
export async function loadScenarioArg(arg: string): Promise<unknown> {
  if (existsSync(arg) || arg.endsWith(".json")) return readJsonFile(arg, "scenario");
  return presetScenario(arg);
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out) await writeFileAtomic(out, text.endsWith("\n") ? text : `${text}\n`);
  else process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

interface RunFlags {
  json?: boolean;
  out?: string;
  final?: boolean;
  nash?: boolean;
  audit?: boolean;
  replicates?: number;
}

async function replicatesCommand(arg: string, scenario: Scenario, flags: RunFlags): Promise<void> {
  const engine = await createEngine();
  const R = flags.replicates!;
  const progress = createProgress(R, "replicates");
  const result = engine.runReplicates(scenario, R, { final: flags.final, nash: flags.nash });
  progress.update(R);
  progress.stop();
  if (flags.json || flags.out) return emit(toJson(result, 2), flags.out);
  const names = scenario.groups.map((g, i) => g.name ?? `g${i}`);
  const pm = (key: string, j?: number) => {
    const mu = result.mean[key];
    const sd = result.std[key];
    if (mu === undefined) return "-";
    return j === undefined ? `${num(mu as number)} ± ${num(sd as number, 2)}` : `${num((mu as number[])[j])} ± ${num((sd as number[])[j], 2)}`;
  };
  const rows = [
    ["group", "basin mass", "survived", "expectedReward"],
    ...names.map((g, i) => [g, pm("basinMass", i), `${num(result.basinSurvival[i] * 100, 3)}%`, pm("expectedReward", i)]),
  ];
  process.stdout.write(
    [
      `plurisim ${result.engine.version}  ${arg}: ${R} replicates (seeds ${result.seeds.slice(0, 4).join(", ")}${R > 4 ? ", ..." : ""}), final generation, mean ± sd`,
      "",
      table(rows),
      "",
      `outsideMass ${pm("outsideMass")}   entropy ${pm("entropy")}   nashGap ${pm("nashGap")}${result.mean.supportSize !== undefined ? `   supportSize ${pm("supportSize")}` : ""}`,
    ].join("\n") + "\n",
  );
}

async function runCommand(arg: string, flags: RunFlags): Promise<void> {
  const scenario = parseScenario(await loadScenarioArg(arg));
  if (flags.replicates !== undefined) return replicatesCommand(arg, scenario, flags);
  const engine = await createEngine();
  const progress = createProgress(scenario.generations, "generations");
  let result: RunResult;
  try {
    result = engine.run(scenario, {
      final: flags.final,
      nash: flags.nash,
      audit: flags.audit,
      onProgress: (done) => progress.update(done),
    });
  } finally {
    progress.stop();
  }
  if (flags.json || flags.out) {
    await emit(toJson(result, 2), flags.out);
    if (flags.out && !flags.json) process.stderr.write(`wrote ${flags.out}\n`);
    return;
  }
  const names = scenario.groups.map((g, i) => g.name ?? `g${i}`);
  const lines = [
    `plurisim ${result.engine.version} (wasm ${result.engine.wasmSha256.slice(0, 12)})  ${arg}`,
    `${result.generationsRun} generations${result.stoppedEarly ? " (stopped early)" : ""} in ${num(result.elapsedMs, 3)} ms; largest mass defect ${num(result.maxMassDefect)}`,
    "",
    trajectoryTable(result, names),
  ];
  if (result.nash) {
    lines.push("", `Nash solution: F* = ${num(result.nash.welfare, 8)}, nashGap(p*) = ${num(result.nash.gap)} (${result.nash.method}, ${result.nash.iterations} iterations)`);
  }
  if (result.audit) lines.push("", "audit:", toJson(result.audit, 2));
  process.stdout.write(lines.join("\n") + "\n");
}

async function nashCommand(arg: string, flags: { json?: boolean; out?: string }): Promise<void> {
  const engine = await createEngine();
  const nash = engine.nash(await loadScenarioArg(arg));
  if (flags.json || flags.out) return emit(toJson({ engine: engine.info, nash }, 2), flags.out);
  const top = nash.p
    .map((mass, x) => ({ x, mass }))
    .filter((a) => a.mass > 1e-12)
    .sort((a, b) => b.mass - a.mass)
    .slice(0, 10);
  process.stdout.write(
    [
      `Nash bargaining solution (${nash.method}, ${nash.iterations} iterations)`,
      `F(p*) = ${num(nash.welfare, 10)}   nashGap(p*) = ${num(nash.gap)} (certificate: F* - F(p*) <= nashGap)`,
      "",
      table([["atom", "mass"], ...top.map((a) => [String(a.x), num(a.mass, 8)])]),
    ].join("\n") + "\n",
  );
}

async function auditCommand(arg: string, flags: { out?: string }): Promise<void> {
  const engine = await createEngine();
  await emit(toJson({ engine: engine.info, audit: engine.audit(await loadScenarioArg(arg)) }, 2), flags.out);
}

function presetsCommand(): void {
  const width = Math.max(...Object.keys(presets).map((k) => k.length));
  const lines = Object.entries(presets).map(([name, p]) => `${name.padEnd(width)}  ${p.description}`);
  process.stdout.write(lines.join("\n") + "\n");
}

/** Builds the command tree; each action resolves when its output is written. */
export function buildProgram(): Command {
  const program = new Command("plurisim")
    .description("Curated recursive retraining under pluralistic preferences: exact dynamics, Nash certificate, audit, sweeps.")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("run")
    .description("run a scenario (a JSON file or a preset name) and print its trajectory")
    .argument("<scenario>", "scenario.json or a preset name (see `plurisim presets`)")
    .option("--json", "print the whole result object as JSON")
    .option("--out <file>", "write the result object (JSON) to a file")
    .option("--final", "include the final distribution p")
    .option("--nash", "solve the Nash bargaining problem; adds tvToNash, klToNash, w1ToNash")
    .option("--audit", "run the paper's two-group audit and check it against the run")
    .addOption(
      new Option("--replicates <R>", "run R seeds; report mean and sd per metric and each basin's survival").argParser((v) => {
        const R = Number(v);
        if (!Number.isInteger(R) || R < 1) throw new PlurisimError("INVALID_SCENARIO", `--replicates must be an integer >= 1 (got ${v})`, { field: "replicates", value: v });
        return R;
      }),
    )
    .action(runCommand);

  program
    .command("nash")
    .description("solve the weighted Nash bargaining problem of a scenario (no dynamics)")
    .argument("<scenario>", "scenario.json or a preset name")
    .option("--json", "print JSON")
    .option("--out <file>", "write JSON to a file")
    .action(nashCommand);

  program
    .command("audit")
    .description("audit the paper's assumptions (two groups) on a scenario's landscape")
    .argument("<scenario>", "scenario.json or a preset name")
    .option("--out <file>", "write JSON to a file")
    .action(auditCommand);

  program.command("presets").description("list the built-in scenarios, one line each").action(presetsCommand);

  program
    .command("schema")
    .description("print the JSON Schema of scenario files")
    .action(() => void process.stdout.write(toJson(scenarioJsonSchema(), 2) + "\n"));

  program
    .command("demo", { isDefault: true })
    .description("the headline demonstration: one reward collapses, two groups stay diverse, the Nash certificate")
    .addOption(new Option("--generations <T>", "generations per run").argParser((v) => parseInt(v, 10)))
    .option("--report <file>", "where to write the HTML report", "out/demo-report.html")
    .option("--no-report", "do not write the HTML report")
    .action((flags) => runDemo(flags));

  registerSweepCommands(program);
  registerPlotCommands(program);
  return program;
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file or folder",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a part of the path is not a folder",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
};

/** A file-system failure (a path given on the command line) as an input error naming the path. */
function fileError(err: unknown): PlurisimError | null {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== "string" || !(e.code in FILE_ERRORS)) return null;
  const path = (e.path ?? "").replace(/\.\d+\.tmp$/, "");
  return new PlurisimError("FILE", `cannot ${e.syscall ?? "use"} ${path || "a file"}: ${FILE_ERRORS[e.code]} (${e.code})`, { field: "file", value: path });
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const known = isPlurisimError(err) ? err : fileError(err);
    if (known) {
      process.stderr.write(`plurisim: error [${known.code}]: ${known.message}\n`);
      return 2;
    }
    throw err;
  }
}
