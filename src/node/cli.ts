// The `plurisim` command line. Exit codes: 0 ok, 2 bad input (a PlurisimError: the message
// names the field and the value), 1 a server's failure (SERVER_ERROR_CODES) or anything else.
import { existsSync } from "node:fs";
import { Argument, Command, CommanderError, Option } from "commander";
import type { Audit, AuditCheck } from "../core/audit.js";
import { atomCoords } from "../core/compile.js";
import { isPlurisimError, PlurisimError, SERVER_ERROR_CODES } from "../core/errors.js";
import { toJson } from "../core/json.js";
import { presets, presetScenario } from "../core/presets.js";
import { parseScenario, scenarioJsonSchema, type Scenario } from "../core/scenario.js";
import type { RunResult } from "../core/types.js";
import { VERSION } from "../core/version.js";
import { runDemo } from "./demo.js";
import { readJsonFile, writeFileAtomic } from "./files.js";
import { completionScript, COMPLETION_SHELLS } from "./completion.js";
import { auditTable, trajectoryTable, num, table } from "./format.js";
import { createEngine } from "./index.js";
import { applySets, intOption, setOption, type SetOverride } from "./options.js";
import { createProgress } from "./progress.js";
import { registerSweepCommands } from "./sweep-cli.js";
import { registerPlotCommands } from "./plot.js";
import { registerBenchCommand } from "./bench-cli.js";

/**
 * A scenario argument: `-` (standard input), a JSON file if one exists at that path (or it ends
 * in .json), else a preset name; `--set` overrides are applied to the document before validation.
 */
export async function loadScenarioArg(arg: string, sets?: readonly SetOverride[]): Promise<unknown> {
  const doc = arg === "-" || existsSync(arg) || arg.endsWith(".json") ? await readJsonFile(arg, "scenario") : presetScenario(arg);
  return applySets(doc, sets);
}

/** Writes `text` to `out` (atomically, then says so on stderr) or to stdout. */
async function emit(text: string, out: string | undefined): Promise<void> {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  if (out) {
    await writeFileAtomic(out, body);
    process.stderr.write(`wrote ${out}\n`);
  } else process.stdout.write(body);
}

interface RunFlags {
  set?: SetOverride[];
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
  const scenario = parseScenario(await loadScenarioArg(arg, flags.set));
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
  if (flags.json || flags.out) return emit(toJson(result, 2), flags.out);
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
  if (result.audit) {
    const audit = result.audit as Audit & { check?: AuditCheck };
    lines.push("", auditTable(audit, audit.check));
  }
  process.stdout.write(lines.join("\n") + "\n");
}

async function nashCommand(arg: string, flags: { set?: SetOverride[]; json?: boolean; out?: string }): Promise<void> {
  const scenario = parseScenario(await loadScenarioArg(arg, flags.set));
  const engine = await createEngine();
  const nash = engine.nash(scenario);
  if (flags.json || flags.out) return emit(toJson({ engine: engine.info, nash }, 2), flags.out);
  const coords = atomCoords(scenario.space);
  const dim = coords.length / nash.p.length;
  const where = (x: number) => (dim === 1 ? num(coords[x], 6) : dim === 2 ? `(${num(coords[2 * x], 6)}, ${num(coords[2 * x + 1], 6)})` : "-");
  const top = nash.p
    .map((mass, x) => ({ x, mass }))
    .filter((a) => a.mass > 1e-12)
    .sort((a, b) => b.mass - a.mass)
    .slice(0, 10);
  const shown = top.reduce((acc, a) => acc + a.mass, 0);
  const support = nash.p.filter((mass) => mass > 1e-12).length;
  process.stdout.write(
    [
      `Nash bargaining solution (${nash.method}, ${nash.iterations} iterations)`,
      `F(p*) = ${num(nash.welfare, 10)}   nashGap(p*) = ${num(nash.gap)} (certificate: F* - F(p*) <= nashGap; docs/model.md, section 4)`,
      `basin mass ${nash.basinMass.map((b) => num(b)).join(" / ")}, outside ${num(nash.outsideMass)}`,
      "",
      table([["atom", dim === 2 ? "(x, y)" : "x", "mass"], ...top.map((a) => [String(a.x), where(a.x), num(a.mass, 8)])]),
      ...(support > top.length ? [`(${support - top.length} more atoms with mass > 1e-12 hold ${num(1 - shown)}; --json prints all of p*)`] : []),
    ].join("\n") + "\n",
  );
}

async function auditCommand(arg: string, flags: { set?: SetOverride[]; json?: boolean; out?: string }): Promise<void> {
  const scenario = await loadScenarioArg(arg, flags.set);
  const engine = await createEngine();
  const audit = engine.audit(scenario) as Audit;
  if (flags.json || flags.out) return emit(toJson({ engine: engine.info, audit }, 2), flags.out);
  process.stdout.write(`plurisim ${engine.info.version}  ${arg}: the two-basin audit (docs/model.md, section 5)\n\n${auditTable(audit)}\n`);
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
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true)
    .addHelpText("after", "\nIn the package: docs/cli.md (every command, exit codes), docs/model.md (the mathematics), docs/scenario.md (the scenario format).")
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Parsing errors (unknown command or flag, missing argument) read like every other input error.
      outputError: (s, write) => write(`plurisim: error [USAGE]: ${s.replace(/^error: /, "")}`),
    });

  program
    .command("run")
    .description("run a scenario (a JSON file or a preset name) and print its trajectory")
    .argument("<scenario>", "scenario.json, - for standard input, or a preset name (see `plurisim presets`)")
    .addOption(setOption())
    .option("--json", "print the whole result object as JSON")
    .option("--out <file>", "write the result object (JSON) to a file")
    .option("--final", "include the final distribution p")
    .option("--nash", "solve the Nash bargaining problem; adds tvToNash, klToNash, w1ToNash")
    .option("--audit", "run the paper's two-group audit and check it against the run")
    .addOption(
      new Option("--replicates <R>", "run R seeds; report mean and sd per metric and each basin's survival").argParser(intOption("--replicates")),
    )
    .action(runCommand);

  program
    .command("nash")
    .description("solve the weighted Nash bargaining problem of a scenario (no dynamics)")
    .argument("<scenario>", "scenario.json, - for standard input, or a preset name")
    .addOption(setOption())
    .option("--json", "print JSON (all of p*)")
    .option("--out <file>", "write JSON to a file")
    .action(nashCommand);

  program
    .command("audit")
    .description("audit the paper's assumptions (two groups) on a scenario's landscape: a held/failed table")
    .argument("<scenario>", "scenario.json, - for standard input, or a preset name")
    .addOption(setOption())
    .option("--json", "print the audit as JSON")
    .option("--out <file>", "write the audit (JSON) to a file")
    .action(auditCommand);

  program.command("presets").description("list the built-in scenarios, one line each").action(presetsCommand);

  program
    .command("schema")
    .description("print the JSON Schema of scenario files")
    .action(() => void process.stdout.write(toJson(scenarioJsonSchema(), 2) + "\n"));

  program
    .command("demo")
    .description("the headline demonstration (also `plurisim` alone): one reward collapses, two groups stay diverse, the Nash certificate")
    .addOption(new Option("--generations <T>", "generations per run").argParser(intOption("--generations")))
    .option("--report <file>", "where to write the HTML report", "out/demo-report.html")
    .option("--no-report", "do not write the HTML report")
    .action((flags) => runDemo(flags));

  registerSweepCommands(program);
  registerPlotCommands(program);
  registerBenchCommand(program);

  program
    .command("completion")
    .description("print a shell completion script: eval \"$(plurisim completion bash)\"")
    .addArgument(new Argument("<shell>", "the shell").choices(COMPLETION_SHELLS))
    .action((shell: (typeof COMPLETION_SHELLS)[number]) => void process.stdout.write(completionScript(shell, program)));
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

/** `plurisim` alone, or with only the demo's own flags, runs the demo. */
function withDefaultCommand(argv: string[]): string[] {
  if (argv.length === 0) return ["demo"];
  const first = argv[0];
  const programFlags = ["-h", "--help", "-V", "--version"];
  return first.startsWith("-") && !programFlags.includes(first) ? ["demo", ...argv] : argv;
}

/** A reader that closed the pipe (`plurisim run x --json | head`) ends the command quietly, with exit code 0. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
  }
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    await buildProgram().parseAsync(withDefaultCommand(argv), { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const known = isPlurisimError(err) ? err : fileError(err);
    if (known) {
      process.stderr.write(`plurisim: error [${known.code}]: ${known.message}\n`);
      return SERVER_ERROR_CODES.has(known.code) ? 1 : 2;
    }
    throw err;
  }
}
