// What the CLI echoes from its input (a scenario path or preset name, an --out path, an unknown
// flag) reaches the terminal with control characters shown as visible escapes: an ESC or BEL
// in a file name cannot recolour the terminal, move its cursor or ring it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli as cli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "plurisim-text-"));

// Every C0 control but newline, DEL and the C1 controls.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const small = JSON.stringify({
  space: { kind: "grid1d", min: -4, max: 4, cells: 41 },
  groups: [
    { name: "left", weight: 0.5, reward: { kind: "quadratic", center: -2, scale: 1 } },
    { name: "right", weight: 0.5, reward: { kind: "quadratic", center: 2, scale: 1 } },
  ],
  generations: 5,
});

describe("terminal text from input", () => {
  it("a scenario file whose name holds ESC and BEL is echoed with visible escapes", () => {
    const file = join(dir, "two\u001b[31mred\u0007.json");
    writeFileSync(file, small);
    const r = cli(["run", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(CONTROL);
    expect(r.stdout).toContain("two\\x1b[31mred\\x07.json");
  });

  it("an --out path with ESC and BEL is announced with visible escapes", () => {
    const out = join(dir, "out\u001b]0;title\u0007.json");
    const r = cli(["run", "two-groups", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(CONTROL);
    expect(r.stderr).toContain("out\\x1b]0;title\\x07.json");
  });

  it("a missing file, an unknown preset and an unknown flag are reported with visible escapes", () => {
    for (const args of [
      ["run", join(dir, "missing\u001b[2J.json")],
      ["run", "two-groups\u001b[2J\u0007"],
      ["run", "two-groups", "--fin\u001bal"],
      ["no\u0007such-command"],
    ]) {
      const r = cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^plurisim: error \[/);
      expect(r.stderr, args.join(" ")).not.toMatch(CONTROL);
      expect(r.stderr).toMatch(/\\x1b|\\x07/);
    }
  });
});
