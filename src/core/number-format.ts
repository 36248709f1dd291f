// The one number formatter of plurisim's tables, labels and messages (terminal, report, page):
// a number in a few significant digits, in exponent form outside a range of magnitudes. Each
// caller states its precision; the rules (non-finite numbers, zero, rounding) are the same.

/** How formatNumber writes a number; every field has a default. */
export interface NumberFormat {
  /** Significant digits (default 4). */
  digits?: number;
  /** Magnitudes below this (and above 0) are written in exponent form (default 1e-3; 0: never). */
  small?: number;
  /** Magnitudes at or above this are written in exponent form (default 1e6; Infinity: never). */
  large?: number;
  /** Digits after the point in exponent form (default digits - 2). */
  exponentDigits?: number;
  /** Keep trailing zeros ("0.500" rather than "0.5"), so a column's numbers line up (default false). */
  trailingZeros?: boolean;
}

/** `v` in `digits` significant digits, exponent form when tiny or huge; "NaN", "Infinity", "-Infinity" and "0" as such. */
export function formatNumber(v: number, format: NumberFormat = {}): string {
  const { digits = 4, small = 1e-3, large = 1e6, exponentDigits = digits - 2, trailingZeros = false } = format;
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < small || a >= large) return v.toExponential(exponentDigits);
  return trailingZeros ? v.toPrecision(digits) : String(Number(v.toPrecision(digits)));
}
