// The CLI as a Unix tool: suggestions for mistyped commands and flags, a quiet exit when the
// reader closes the pipe, `-` for standard input, repeatable `--set path=value`, integer flags
// refused with USAGE, shell completion, readable audit and nash output, and every written file
// announced on stderr.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { duration, paceOf } from "../src/node/progress.js";
import { cliBin as bin, runCli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-unix-"));

const cli = (args: string[], input?: string) => runCli(args, { input });

function sh(script: string) {
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const small = {
  space: { kind: "grid1d", min: -4, max: 4, cells: 81 },
  groups: [
    { name: "left", weight: 0.4, reward: { kind: "quadratic", center: -2, scale: 1 } },
    { name: "right", weight: 0.6, reward: { kind: "quadratic", center: 2, scale: 1 } },
  ],
  curation: { K: "inf", temperature: 1 },
  generations: 30,
};
const smallFile = join(dir, "small.json");
writeFileSync(smallFile, JSON.stringify(small));

describe("did you mean", () => {
  it("a mistyped command is named and the closest command suggested, not passed to the demo", () => {
    const r = cli(["rnu", "two-groups"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("plurisim: error [USAGE]: unknown command 'rnu'");
    expect(r.stderr).toContain("Did you mean run?");
    expect(r.stderr).not.toContain("too many arguments");
  });

  it("a mistyped flag gets the closest flag", () => {
    const r = cli(["run", smallFile, "--jsn"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("plurisim: error [USAGE]: unknown option '--jsn'");
    expect(r.stderr).toContain("Did you mean --json?");
  });

  it("plurisim with only the demo's flags still runs the demo", () => {
    const r = cli(["--generations", "3", "--no-report"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("3 generations");
  });
});

describe("a closed pipe ends the command quietly", () => {
  // --final adds 3001 masses, far more than a pipe buffer, so the writer meets EPIPE.
  it.each([
    ["run two-groups --json --final --set generations=20", 3],
    ["schema", 1],
  ])("plurisim %s | head -%i: exit 0, no stack trace", (args, lines) => {
    const r = sh(`set -o pipefail; node ${bin} ${args} | head -${lines}`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(lines);
  });
});

describe("- reads standard input", () => {
  it("run - runs the scenario piped in", () => {
    const r = cli(["run", "-", "--json"], JSON.stringify(small));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).generationsRun).toBe(30);
  });

  it("plot - draws a run result piped from run --json", () => {
    const result = cli(["run", smallFile, "--json"]).stdout;
    const out = join(dir, "piped.svg");
    const r = cli(["plot", "-", "--out", out], result);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(readFileSync(out, "utf8")).toContain("<svg");
  });

  it("bad JSON on standard input is named as standard input", () => {
    const r = cli(["nash", "-"], "{ not json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("standard input");
  });
});

describe("--set path=value", () => {
  it("is repeatable and uses the sweep path syntax; values are JSON when they parse, text otherwise", () => {
    const r = cli(["run", smallFile, "--json", "--set", "generations=7", "--set", "curation.K=inf", "--set", "groups[0].reward.center=-1.5", "--set", "groups[1].weight=0.6"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.generationsRun).toBe(7);
    expect(result.scenario.groups[0].reward.center).toBe(-1.5);
  });

  it("applies to presets and to nash and audit", () => {
    const a = cli(["nash", "two-groups", "--json", "--set", "groups[0].weight=0.5", "--set", "groups[1].weight=0.5"]);
    expect(a.code, a.stderr).toBe(0);
    const basin = JSON.parse(a.stdout).nash.basinMass;
    expect(basin[0]).toBeCloseTo(0.5, 6);
    const b = cli(["audit", "two-groups", "--json", "--set", "basinEpsilon=0.5"]);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).audit.eps).toBe(0.5);
  });

  it("a value the scenario refuses is an input error naming the field", () => {
    const r = cli(["run", smallFile, "--set", "curation.temperature=0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[INVALID_SCENARIO]");
    expect(r.stderr).toContain("curation.temperature");
  });

  it.each([
    ["no =", "generations"],
    ["a bad path", "groups[x]=1"],
    ["an index past the end", "groups[5].weight=1"],
  ])("%s is a USAGE error", (_name, set) => {
    const r = cli(["run", smallFile, "--set", set]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[USAGE]");
    expect(r.stderr).toContain(JSON.stringify(set.split("=")[0]).slice(1, -1));
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe("file errors are FILE, content errors name the content", () => {
  it.each([
    ["a missing file", join(dir, "missing.json"), "[FILE]: cannot read"],
    ["a folder", dir, "[FILE]: cannot read"],
  ])("%s: exit 2, FILE", (_name, path, text) => {
    const r = cli(["run", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it("a file that is not JSON: INVALID_SCENARIO naming the file", () => {
    const bad = join(dir, "not-json.json");
    writeFileSync(bad, "{ nope");
    const r = cli(["nash", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`[INVALID_SCENARIO]: ${bad} is not valid JSON`);
  });
});

describe("integer flags", () => {
  it.each([
    ["demo", "--generations", "abc"],
    ["demo", "--generations", "2.5"],
    ["demo", "--generations", "0"],
    ["run", "--replicates", "3x"],
  ])("%s %s %s is refused with USAGE, exit 2", (command, flag, value) => {
    const args = command === "run" ? ["run", smallFile, flag, value] : [command, flag, value, "--no-report"];
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`[USAGE]: ${flag} must be an integer`);
    expect(r.stderr).toContain(JSON.stringify(value));
  });
});

describe("readable output", () => {
  it("audit prints a held/failed table with one-line meanings, and --json the object", () => {
    const r = cli(["audit", "lemma33-counterexample"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/assumption\s+held\s+what it means/);
    expect(r.stdout).toMatch(/basins-disjoint\s+held\s+no atom is within eps/);
    // The counterexample: the outside atom takes the mass, so outside decay fails at the limit.
    expect(r.stdout).toMatch(/outside-domination-at-limit\s+FAILED/);
    expect(r.stdout).toContain("Lemma 3.5");
    expect(r.stdout).not.toMatch(/^\s*[{}"\]]/m); // a table, not a JSON dump
    const j = cli(["audit", "lemma33-counterexample", "--json"]);
    const audit = JSON.parse(j.stdout).audit;
    expect(audit.assumptions.find((a: { id: string }) => a.id === "outside-domination-at-limit").held).toBe(false);
  });

  it("run --audit adds the predictions checked after the run", () => {
    const r = cli(["run", smallFile, "--audit"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/prediction, after the run\s+held/);
    expect(r.stdout).toMatch(/a_T in \[L - c m_T, U \+ c m_T\]\s+held/);
  });

  it("nash prints each atom's x coordinate beside its mass", () => {
    const r = cli(["nash", smallFile]);
    expect(r.code, r.stderr).toBe(0);
    // 81 cells on [-4, 4]: the wells at -2 and 2 are nearest the centres of atoms 20 and 60,
    // x = -4 + (x + 1/2) 8/81 = -1.97531 and 1.97531.
    expect(r.stdout).toMatch(/atom\s+x\s+mass/);
    expect(r.stdout).toMatch(/\n60\s+1\.97531\s+0\.(6|59999)/);
    expect(r.stdout).toMatch(/\n20\s+-1\.97531\s+0\.(4|39999)/);
  });
});

describe("every command that writes says what it wrote", () => {
  it.each([["run"], ["nash"], ["audit"]])("%s --out", (command) => {
    const out = join(dir, `${command}.json`);
    const r = cli([command, smallFile, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(existsSync(out)).toBe(true);
    expect(JSON.parse(readFileSync(out, "utf8"))).toBeTypeOf("object");
  });
});

describe("shell completion", () => {
  const complete = (words: string[]) => {
    const script = `source <(node ${bin} completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _plurisim; echo "\${COMPREPLY[@]}"`;
    return sh(script).stdout.trim().split(/\s+/);
  };

  it("bash completes commands, flags and preset names", () => {
    expect(complete(["plurisim", "ru"])).toEqual(["run"]);
    expect(complete(["plurisim", "run", "--se"])).toEqual(["--set"]);
    expect(complete(["plurisim", "run", "two-g"])).toContain("two-groups");
    expect(complete(["plurisim", "sweep", "tab"])).toContain("table5");
  });

  it.each([["zsh", "compdef _plurisim plurisim"], ["fish", "complete -c plurisim"]])("%s: a script listing every command", (shell, marker) => {
    const r = cli(["completion", shell]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(marker);
    for (const c of ["run", "nash", "audit", "sweep", "merge", "plot", "report", "completion"]) expect(r.stdout).toContain(c);
  });

  it("an unknown shell is refused with the choices", () => {
    const r = cli(["completion", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bash, zsh, fish");
  });
});

describe("progress text", () => {
  it("never shows NaN or Infinity: '-' before anything is measured", () => {
    expect(paceOf(0, 100, 0)).toEqual({ rate: "-", left: "-" });
    expect(paceOf(0, 100, 2)).toEqual({ rate: "-", left: "-" });
    expect(paceOf(50, 100, 5)).toEqual({ rate: "10.0", left: "5s" });
    expect(paceOf(100, 100, 1)).toEqual({ rate: "100", left: "0s" });
    expect([duration(59.4), duration(185), duration(7620), duration(Infinity)]).toEqual(["59s", "3m05s", "2h07m", "-"]);
  });

  it("the terminal bar's first frame says '-' where cli-progress would print NaN", () => {
    const script = `import(${JSON.stringify(new URL("../dist/src/node/progress.js", import.meta.url).href)}).then(({ createProgress }) => { const p = createProgress(10, "generations", { force: true }); p.update(5); p.stop(); })`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("generations/s");
    expect(r.stderr).toContain("- left");
    expect(r.stderr).not.toMatch(/NaN|Infinity/);
  });
});
