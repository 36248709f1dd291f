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
