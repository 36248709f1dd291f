// Strings from input files reach the terminal without control characters: a group name with an
// ESC sequence is shown as a visible escape, never interpreted.
import { describe, expect, test } from "vitest";
import { sanitizeForTerminal } from "../src/core/text.js";
import { table } from "../src/node/format.js";

describe("sanitizeForTerminal", () => {
  test("shows ESC, other C0 and C1 controls, DEL and bidi overrides as escapes", () => {
    expect(sanitizeForTerminal("a\u001b[31mred\u001b[0m")).toBe("a\\x1b[31mred\\x1b[0m");
    expect(sanitizeForTerminal("\u0000\u0007\t\n\r\u007f\u009b")).toBe("\\x00\\x07\\x09\\x0a\\x0d\\x7f\\x9b");
    expect(sanitizeForTerminal("abc\u202edef\u2066")).toBe("abc\\u202edef\\u2066");
  });

  test("leaves ordinary text, accents and symbols alone", () => {
    for (const s of ["left", "Gruppe ä", "群", "± 0.5 %", "🙂"]) expect(sanitizeForTerminal(s)).toBe(s);
  });
});

describe("table", () => {
  test("a group name with terminal escapes is printed escaped, columns still aligned", () => {
    const out = table([
      ["group", "mass"],
      ["\u001b]0;pwned\u0007\u001b[2J", "0.5"],
      ["right", "0.25"],
    ]);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(out).toContain("\\x1b]0;pwned\\x07\\x1b[2J");
    const lines = out.split("\n");
    expect(lines[2].length).toBe(lines[1].length);
  });
});

describe("error messages", () => {
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  test("a formula with terminal escapes is quoted and excerpted without them, caret still aligned", async () => {
    const { compileFormula } = await import("../src/core/formula.js");
    let message = "";
    try {
      compileFormula("x + \u001b[2J\u009b31m", ["x"], "groups[0].reward.expr");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("groups[0].reward.expr");
    expect(message).not.toMatch(RAW);
    const [, line, caret] = message.split("\n");
    expect(line.indexOf("\ufffd")).toBe(caret.indexOf("^"));
  });

  test("values and keys shown in scenario errors carry no raw C1 controls or bidi overrides", async () => {
    const { parseScenario } = await import("../src/core/scenario.js");
    const name = "evil\u009b31m\u202e";
    let message = "";
    try {
      parseScenario({
        space: { kind: "atoms", count: 2 },
        groups: [
          { name, weight: 0.5, reward: { kind: "vector", values: [0, 1] } },
          { name, weight: 0.5, reward: { kind: "vector", values: [1, 0] } },
        ],
        [`x\u009b`]: 1,
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toBe("");
    expect(message).not.toMatch(RAW);
  });
});
