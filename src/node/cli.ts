// The `plurisim` command line. Exit codes: 0 ok, 2 bad input (a PlurisimError: the message
// names the field and the value), 1 a server's failure (SERVER_ERROR_CODES) or anything else.
//
// Start-up stays short: this file imports only what every command needs (commander, the error
// type, the option parsers). The validator (zod), the engine and its Wasm, and each command
// family defined elsewhere (sweeps, plots, bench: Piscina, vega, Parquet, Redis clients) are
// loaded by the command that uses them, so `plurisim --version` loads none of them and
// `plurisim run` only the validator and the engine.
import { once } from "node:events";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Argument, Command, CommanderError, Option } from "commander";
import type { Audit, AuditCheck } from "../core/audit.js";
import { isPlurisimError, PlurisimError, SERVER_ERROR_CODES } from "../core/errors.js";
import { toJsonChunks } from "../core/json.js";
import { splitPays } from "../core/passes.js";
import { presets, presetScenario } from "../core/presets.js";
import type { Scenario } from "../core/scenario.js";
import { sanitizeForTerminal } from "../core/text.js";
import type { RunResult } from "../core/types.js";
import { VERSION } from "../core/version.js";
import { completionScript, COMPLETION_SHELLS, type CompletionShell } from "./completion.js";
import { fileError, isKnownFileError, openAtomic, readJsonFile } from "./files.js";
import { auditTable, trajectoryTable, num, table } from "./format.js";
import { applySets, intOption, setOption, type SetOverride } from "./options.js";

/**
 * The engine's entry point (the validator, the engine, its kernels and the .wasm), loaded on
 * first use, while the command reads its scenario; `parseScenario` and `createEngine` come from it.
 */
function loadEngine() {
  return import("./index.js");
}

/** Whether sharing this run's passes with threads pays (src/core/passes.ts splitPays). */
function splitPaysFor(s: Scenario, twoSteps: boolean, atoms: number): boolean {
  const stops = Math.floor(s.generations / s.record.every) + 1 + (s.record.snapshots?.length ?? 0);
  return splitPays({ twoSteps, atoms, groups: s.groups.length, generations: s.generations, stops });
}

/** Threads for the passes of an n-atom run (src/node/pass-split.ts), on the engine's compiled module. */
async function startSplit(threads: number, atoms: number) {
  const [{ loadWasmSource }, { startPassSplit }] = await Promise.all([loadEngine(), import("./pass-split.js")]);
  return startPassSplit((await loadWasmSource()).module, atoms, threads);
}

/**
 * A scenario argument: `-` (standard input), a JSON file if one exists at that path (or it ends
 * in .json), else a preset name; `--set` overrides are applied to the document before validation.
 */
export async function loadScenarioArg(arg: string, sets?: readonly SetOverride[]): Promise<unknown> {
  const doc = arg === "-" || existsSync(arg) || arg.endsWith(".json") ? await readJsonFile(arg, "scenario") : presetScenario(arg);
  return applySets(doc, sets);
}

/** Text from input (a path, a preset name, a message quoting either) made safe for a terminal, line by line. */
function forTerminal(text: string): string {
  return text.split("\n").map(sanitizeForTerminal).join("\n");
}

/** Writes every chunk to `stream`, waiting for it to drain whenever its buffer is full. */
async function writeChunks(stream: NodeJS.WriteStream, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, "drain");
  }
}

/**
 * Writes `value` as JSON (indented, toJson's text, then a newline) to `out` atomically, and
 * says so on stderr, or to stdout. The text is streamed in pieces (toJsonChunks): the result of
 * a run on tens of millions of atoms is longer than the longest string V8 can hold.
 */
async function emitJson(value: unknown, out: string | undefined): Promise<void> {
  if (!out) {
    await writeChunks(process.stdout, toJsonChunks(value, 2));
    process.stdout.write("\n");
    return;
  }
  const file = openAtomic(out);
  try {
    for (const chunk of toJsonChunks(value, 2)) file.write(chunk);
    file.write("\n");
  } catch (e) {
    file.abort();
    throw e;
  }
  file.commit();
  process.stderr.write(`wrote ${forTerminal(out)}\n`);
}

interface RunFlags {
  set?: SetOverride[];
  json?: boolean;
  out?: string;
  final?: boolean;
  nash?: boolean;
  audit?: boolean;
  tvExact?: boolean;
  replicates?: number;
  threads?: number;
}

async function replicatesCommand(arg: string, scenario: Scenario, flags: RunFlags): Promise<void> {
  const [{ createEngine }, { createProgress }] = await Promise.all([loadEngine(), import("./progress.js")]);
  const engine = await createEngine();
  const R = flags.replicates!;
  const progress = createProgress(R, "replicates");
  const result = engine.runReplicates(scenario, R, { final: flags.final, nash: flags.nash });
  progress.update(R);
  progress.stop();
  if (flags.json || flags.out) return emitJson(result, flags.out);
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
      `plurisim ${result.engine.version}  ${forTerminal(arg)}: ${R} replicates (seeds ${result.seeds.slice(0, 4).join(", ")}${R > 4 ? ", ..." : ""}), final generation, mean ± sd`,
      "",
      table(rows),
      "",
      `outsideMass ${pm("outsideMass")}   entropy ${pm("entropy")}   nashGap ${pm("nashGap")}${result.mean.supportSize !== undefined ? `   supportSize ${pm("supportSize")}` : ""}`,
    ].join("\n") + "\n",
  );
}

async function runCommand(arg: string, flags: RunFlags): Promise<void> {
  const [{ parseScenario, createEngine, runsSplitPasses, runsTwoSteps, atomCount }, { createProgress }, doc] = await Promise.all([loadEngine(), import("./progress.js"), loadScenarioArg(arg, flags.set)]);
  const scenario = parseScenario(doc);
  if (flags.replicates !== undefined) return replicatesCommand(arg, scenario, flags);
  // A large K = infinity run shares its passes with threads, started while the scenario compiles.
  const threads = flags.threads ?? availableParallelism();
  const atoms = atomCount(scenario.space);
  const splitting = threads > 1 && runsSplitPasses(scenario) && splitPaysFor(scenario, runsTwoSteps(scenario), atoms) ? startSplit(threads, atoms) : null;
  const engine = await createEngine();
  const problem = engine.compile(scenario);
  const split = await splitting;
  const progress = createProgress(scenario.generations, "generations");
  let result: RunResult;
  try {
    result = engine.runProblem(
      problem,
      {
        final: flags.final,
        nash: flags.nash,
        audit: flags.audit,
        tvToExact: flags.tvExact,
        onProgress: (done) => progress.update(done),
        passRanges: split?.ranges,
      },
      scenario,
    );
  } finally {
    progress.stop();
    await split?.close();
  }
  if (flags.json || flags.out) return emitJson(result, flags.out);
  const names = scenario.groups.map((g, i) => g.name ?? `g${i}`);
  const lines = [
    `plurisim ${result.engine.version} (wasm ${result.engine.wasmSha256.slice(0, 12)})  ${forTerminal(arg)}`,
    `${result.generationsRun} generations${result.stoppedEarly ? " (stopped early)" : ""} in ${num(result.elapsedMs, 3)} ms${result.threads ? ` on ${result.threads} threads` : ""}; largest mass defect ${num(result.maxMassDefect)}`,
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
  const [{ parseScenario, createEngine }, { atomCoords }, doc] = await Promise.all([loadEngine(), import("../core/compile.js"), loadScenarioArg(arg, flags.set)]);
  const scenario = parseScenario(doc);
  const engine = await createEngine();
  const nash = engine.nash(scenario);
  if (flags.json || flags.out) return emitJson({ engine: engine.info, nash }, flags.out);
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
  const [{ createEngine }, scenario] = await Promise.all([loadEngine(), loadScenarioArg(arg, flags.set)]);
  const engine = await createEngine();
  const audit = engine.audit(scenario) as Audit;
  if (flags.json || flags.out) return emitJson({ engine: engine.info, audit }, flags.out);
  process.stdout.write(`plurisim ${engine.info.version}  ${forTerminal(arg)}: the two-basin audit (docs/model.md, section 5)\n\n${auditTable(audit)}\n`);
}

function presetsCommand(): void {
  const width = Math.max(...Object.keys(presets).map((k) => k.length));
  const lines = Object.entries(presets).map(([name, p]) => `${name.padEnd(width)}  ${p.description}`);
  process.stdout.write(lines.join("\n") + "\n");
}

/** Command families defined in other modules: the commands each adds, and how to load and add them. */
const FAMILIES: { commands: readonly string[]; register: (program: Command) => Promise<void> }[] = [
  { commands: ["sweep", "merge", "summarize", "worker"], register: async (p) => (await import("./sweep-cli.js")).registerSweepCommands(p) },
  { commands: ["plot", "compare", "report", "export"], register: async (p) => (await import("./plot.js")).registerPlotCommands(p) },
  { commands: ["bench"], register: async (p) => (await import("./bench-cli.js")).registerBenchCommand(p) },
];

/** The commands this file defines. */
const OWN_COMMANDS = ["run", "nash", "audit", "presets", "schema", "demo"];

/**
 * The command families `argv` needs: none for one of this file's commands or --version, the one
 * that defines its command, else all of them (help, completion, and an unknown command, whose
 * error suggests the nearest name).
 */
function familiesFor(argv: readonly string[]): typeof FAMILIES {
  const first = argv[0];
  if (first === undefined || first === "-V" || first === "--version" || OWN_COMMANDS.includes(first)) return [];
  const family = FAMILIES.find((f) => f.commands.includes(first));
  return family ? [family] : FAMILIES;
}

/**
 * Builds the command tree for `argv` (all of it by default); each action resolves when its
 * output is written. Only the command families `argv` can reach are loaded.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
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
      outputError: (s, write) => write(`plurisim: error [USAGE]: ${forTerminal(s.replace(/^error: /, ""))}`),
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
    .option("--tv-exact", "finite-sample models: add tvToExact, the TV distance to the exact update's p_t on the same scenario")
    .addOption(
      new Option("--replicates <R>", "run R seeds; report mean and sd per metric and each basin's survival").argParser(intOption("--replicates")),
    )
    .addOption(
      new Option("--threads <n>", "threads for a large K = inf run with 2 to 8 groups (default: the available cores; 1 = this thread only; the same result either way)").argParser(
        intOption("--threads", 1, 256),
      ),
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
    .description("print the JSON Schema of scenario files (--sweep: of sweep files)")
    .option("--sweep", "the JSON Schema of sweep files instead")
    .action(async (flags: { sweep?: boolean }) =>
      emitJson(flags.sweep ? (await import("../sweep/spec.js")).sweepJsonSchema() : (await loadEngine()).scenarioJsonSchema(), undefined),
    );

  program
    .command("demo")
    .description("the headline demonstration (also `plurisim` alone): one reward collapses, two groups stay diverse, the Nash certificate")
    .addOption(new Option("--generations <T>", "generations per run").argParser(intOption("--generations")))
    .option("--report <file>", "where to write the HTML report", "out/demo-report.html")
    .option("--no-report", "do not write the HTML report")
    .action(async (flags) => (await import("./demo.js")).runDemo(flags));

  for (const family of argv === undefined ? FAMILIES : familiesFor(argv)) await family.register(program);

  program
    .command("completion")
    .description("print a shell completion script: eval \"$(plurisim completion bash)\"")
    .addArgument(new Argument("<shell>", "the shell").choices(COMPLETION_SHELLS))
    .action((shell: CompletionShell) => void process.stdout.write(completionScript(shell, program)));
  return program;
}

/**
 * A file-system failure not already turned into a PlurisimError (ENOENT, EACCES, ... on a path
 * the error names) as a FILE error naming that path; null for anything else.
 */
function pathError(err: unknown): PlurisimError | null {
  if (!isKnownFileError(err) || typeof err.path !== "string") return null;
  return fileError(err, err.path, "file", err.syscall ?? "use");
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
    const args = withDefaultCommand(argv);
    await (await buildProgram(args)).parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const known = isPlurisimError(err) ? err : pathError(err);
    if (known) {
      process.stderr.write(`plurisim: error [${known.code}]: ${forTerminal(known.message)}\n`);
      return SERVER_ERROR_CODES.has(known.code) ? 1 : 2;
    }
    throw err;
  }
}
