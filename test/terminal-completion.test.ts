// The shell completion scripts list every command `plurisim --help` lists (compare, export and
// bench included) with every flag its own `--help` lists, in bash, zsh and fish alike; an
// argument with choices (bench's suites, completion's shells) completes to them. Runs the CLI
// from dist/ (npm run build).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BENCH_SUITES } from "../src/bench/runner.js";
import { BENCH_SUITE_NAMES } from "../src/node/bench-cli.js";
import { runCli } from "./helpers.js";

const cli = (...args: string[]) => runCli(args);

/** The names in the "Commands:" section of a help text, or the long flags in its "Options:" section. */
function section(help: string, heading: "Commands:" | "Options:"): string[] {
  const body = help.split(heading)[1]?.split(/\n\n/)[0] ?? "";
  const starts = body.split("\n").filter((l) => /^ {2}\S/.test(l));
  if (heading === "Commands:") return starts.map((l) => l.trim().split(/\s/)[0]);
  // An option's line is its flags, two or more spaces, then its description.
  return starts.flatMap((l) => [...l.trim().split(/\s{2,}/)[0].matchAll(/(?:^|[ ,])(--[a-z][a-z-]*)/g)].map((m) => m[1]));
}

const commands = section(cli("--help").stdout, "Commands:");
const flags = new Map(commands.filter((c) => c !== "help").map((c) => [c, section(cli(c, "--help").stdout, "Options:")]));
const scripts = { bash: cli("completion", "bash").stdout, zsh: cli("completion", "zsh").stdout, fish: cli("completion", "fish").stdout };

/** The flags a script offers for `command`, read the way each shell's script lays them out. */
function offered(shell: keyof typeof scripts, command: string): string[] {
  const s = scripts[shell];
  if (shell === "bash") return (new RegExp(`^ {4}${command}\\) flags='([^']*)'`, "m").exec(s)?.[1] ?? "").split(" ");
  if (shell === "zsh") return [...(new RegExp(`^ {4}${command}\\) _arguments (.*) ;;$`, "m").exec(s)?.[1] ?? "").matchAll(/'(--[^[']+)\[\]'/g)].map((m) => m[1]);
  return [...s.matchAll(new RegExp(`'__fish_seen_subcommand_from ${command}' -l (\\S+)`, "g"))].map((m) => `--${m[1]}`);
}

describe("shell completion lists every command and flag", () => {
  it("reads the command list from --help", () => {
    for (const c of ["run", "sweep", "merge", "plot", "compare", "report", "export", "bench", "completion", "help"]) expect(commands).toContain(c);
    expect(flags.get("export")).toEqual(["--out", "--help"]);
  });

  for (const shell of ["bash", "zsh", "fish"] as const) {
    it(`${shell}: every command, and each command's flags`, () => {
      const s = scripts[shell];
      for (const c of commands) {
        const listed = shell === "bash" ? new RegExp(`compgen -W '[^']*\\b${c}\\b`) : shell === "zsh" ? new RegExp(`^ {4}'${c}:`, "m") : new RegExp(`__fish_use_subcommand -a ${c} `);
        expect(s, c).toMatch(listed);
      }
      for (const [c, f] of flags) expect(offered(shell, c).sort(), `${shell} ${c}`).toEqual([...f].sort());
      expect(s).not.toContain("--test-fail-cells");
    });
  }

  it("bash: the script parses, and completes bench suites, shells and command names for help", () => {
    expect(spawnSync("bash", ["-n"], { input: scripts.bash }).status).toBe(0);
    const complete = (words: string[]) => {
      const script = `${scripts.bash}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _plurisim; echo "\${COMPREPLY[@]}"`;
      return spawnSync("bash", ["-c", script], { encoding: "utf8", cwd: "/" }).stdout.trim().split(/\s+/);
    };
    expect(complete(["plurisim", "bench", "k"])).toContain("kernels");
    expect(complete(["plurisim", "completion", "f"])).toContain("fish");
    expect(complete(["plurisim", "help", "exp"])).toContain("export");
    expect(complete(["plurisim", "co"])).toEqual(expect.arrayContaining(["compare", "completion"]));
    expect(complete(["plurisim", "--v"])).toEqual(["--version"]);
  });

  it("bench offers exactly the suites the runner has", () => {
    expect([...BENCH_SUITE_NAMES]).toEqual(Object.keys(BENCH_SUITES));
    expect(/^ {4}bench\) flags='[^']*'; words='([^']*)'/m.exec(scripts.bash)?.[1]).toBe(Object.keys(BENCH_SUITES).join(" "));
  });
});
