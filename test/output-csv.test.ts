// The one CSV writer: RFC 4180 quoting, formula-looking strings neutralised, numbers left alone.
import { describe, expect, it } from "vitest";
import { csvCell, csvLine, toCsv } from "../src/core/csv.js";

/** A small RFC 4180 reader, to check that what is written reads back as the same cells. */
function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else cell += line[i++];
      }
    } else while (i < line.length && line[i] !== ",") cell += line[i++];
    cells.push(cell);
    if (i >= line.length) return cells;
    i++; // the comma
  }
}

describe("CSV cells", () => {
  it("quotes commas, quotes and line breaks (RFC 4180) and reads back the same text", () => {
    const texts = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", "é ü 中"];
    const line = csvLine(texts);
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(parseCsvLine(line)).toEqual(texts);
  });

  it("neutralises strings a spreadsheet would run as formulas", () => {
    for (const s of ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']) {
      const cell = csvCell(s);
      const read = parseCsvLine(cell)[0];
      expect(read, s).toBe(`'${s}`);
    }
  });

  it("leaves numbers numeric, including negative ones and the non-finite strings of plurisim's JSON", () => {
    expect(csvCell(-0.5)).toBe("-0.5");
    expect(csvCell(1e-300)).toBe("1e-300");
    expect(csvCell(-Infinity)).toBe("-Infinity");
    expect(csvCell("-Infinity")).toBe("-Infinity");
    expect(csvCell("NaN")).toBe("NaN");
    expect(csvCell(true)).toBe("true");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });

  it("objects become their JSON, quoted", () => {
    expect(csvCell({ a: [1, 2] })).toBe('"{""a"":[1,2]}"');
  });

  it("a whole document: header and rows, LF line ends", () => {
    expect(toCsv(["name", "x"], [["=cmd", 1], ["b,c", -2]])).toBe("name,x\n'=cmd,1\n\"b,c\",-2\n");
  });
});
