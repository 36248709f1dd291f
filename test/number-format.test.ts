// One number formatter (src/core/number-format.ts) serves the terminal tables, the report, the
// page's heat map, the sweep summaries, the audit's reasons and the axis labels; each keeps the
// precision it had. Values pinned here are what those formatters wrote before they became one.
import { describe, expect, it } from "vitest";
import { paramLabel } from "../src/core/charts.js";
import { formatNumber } from "../src/core/number-format.js";
import { num } from "../src/node/format.js";
import { formatValue } from "../src/web/heatmap.js";

describe("formatNumber", () => {
  it("writes non-finite numbers and zero as such", () => {
    for (const f of [{}, { digits: 6, small: 0, large: Infinity }, { trailingZeros: true }]) {
      expect([NaN, Infinity, -Infinity, 0, -0].map((v) => formatNumber(v, f))).toEqual(["NaN", "Infinity", "-Infinity", "0", "0"]);
    }
  });

  it("rounds to the significant digits, in exponent form outside [small, large)", () => {
    expect(formatNumber(1234.5678)).toBe("1235");
    expect(formatNumber(0.00125)).toBe("0.00125");
    expect(formatNumber(9.99e-4)).toBe("9.99e-4");
    expect(formatNumber(1e6)).toBe("1.00e+6");
    expect(formatNumber(-2.5e-7, { exponentDigits: 4 })).toBe("-2.5000e-7");
    expect(formatNumber(0.5, { digits: 3, trailingZeros: true })).toBe("0.500");
    expect(formatNumber(1e-7, { digits: 6, small: 0, large: Infinity })).toBe("1e-7");
    expect(formatNumber(123456789, { digits: 6, small: 0, large: Infinity })).toBe("123457000");
  });
});

describe("its callers keep their precision", () => {
  it("terminal tables: 4 digits, exponent below 1e-3 and from 1e6, '-' for none", () => {
    expect([num(0.3), num(0.70000001), num(18.3291), num(1e-4), num(2e7), num(undefined), num(-1.23456789, 6)]).toEqual(["0.3", "0.7", "18.33", "1.00e-4", "2.00e+7", "-", "-1.23457"]);
  });

  it("the heat map: 4 digits, exponent from 1e5 with 2 decimals", () => {
    expect([formatValue(12345.6), formatValue(123456), formatValue(0.000999), formatValue(0)]).toEqual(["12350", "1.23e+5", "9.99e-4", "0"]);
  });

  it("sweep axis labels: integers whole, others 4 digits, never exponent", () => {
    expect([paramLabel(123456), paramLabel(0.123456), paramLabel(1e-5 / 3), paramLabel("inf")]).toEqual(["123456", "0.1235", "0.000003333", "inf"]);
  });
});
