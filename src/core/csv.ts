// CSV cells and lines, written one way everywhere (the sweep CSV; the browser page can use the
// same functions). Quoting follows RFC 4180: a cell holding a comma, a double quote, CR or LF is
// put in double quotes, with each double quote doubled. Lines end with LF.
//
// A spreadsheet runs a cell that starts with =, +, - or @ (or a tab or CR, which some strip
// first) as a formula, so such a cell coming from a string (a group name, an error message) gets a
// leading apostrophe: the spreadsheet shows the text and runs nothing. Numbers stay numbers,
// including the "Infinity", "-Infinity" and "NaN" strings that plurisim's JSON writes for them.

const FORMULA_START = /^[=+\-@\t\r]/;
const NON_FINITE = new Set(["Infinity", "-Infinity", "NaN"]);

/** One CSV cell: empty for null/undefined, JSON for objects, quoted when needed, formulas neutralised. */
export function csvCell(v: unknown): string {
  if (v === undefined || v === null) return "";
  let s: string;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") s = String(v);
  else if (typeof v === "object") s = JSON.stringify(v);
  else {
    s = String(v);
    if (FORMULA_START.test(s) && !NON_FINITE.has(s)) s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (without its line end). */
export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(",");
}

/** A whole CSV document: a header line and one line per row, each ending in LF. */
export function toCsv(columns: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [csvLine(columns)];
  for (const row of rows) lines.push(csvLine(row));
  return lines.join("\n") + "\n";
}

/** Flattens a sweep row into dotted columns: params.<path>, final.basinMass[0], at.100.entropy, ... (the sweep CSV's and Parquet's column names). */
export function flattenRow(row: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, key: string, depth: number) => {
    if (v !== null && typeof v === "object" && depth < 6) {
      if (Array.isArray(v)) v.forEach((e, i) => walk(e, `${key}[${i}]`, depth + 1));
      else for (const [k, e] of Object.entries(v)) walk(e, key === "" ? k : key === "params" ? `params.${k}` : `${key}.${k}`, depth + 1);
    } else out.set(key, v);
  };
  walk(row, "", 0);
  return out;
}
