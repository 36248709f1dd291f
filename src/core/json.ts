/**
 * JSON text of a result. JSON has no Infinity or NaN, and an infinite KL is a real answer
 * (docs/model.md, section 7), so non-finite numbers are written as the strings "Infinity",
 * "-Infinity" and "NaN" instead of JSON.stringify's silent null.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), indent);
}
