// The page's state in its URL fragment, so a link reproduces a view:
// `#scenario=<base64url of the scenario JSON>` or `#sweep=<base64url of the sweep JSON>`, and
// `&run=1` to start it on load, `&workers=N` for the size of the worker pool. base64url
// (RFC 4648 section 5, no padding) of the UTF-8 bytes.
import { PlurisimError } from "../core/errors.js";

/** What a fragment asks for. */
export interface FragmentState {
  scenario?: unknown;
  sweep?: unknown;
  run: boolean;
  /** Web Workers to run on (a positive integer), when the link sets it. */
  workers?: number;
}

/** base64url of a string's UTF-8 bytes, without padding. */
export function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The string whose UTF-8 bytes a base64url text encodes (padding optional). */
export function fromBase64Url(b64: string): string {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(b64)) throw new Error("not base64url");
  const bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "").padEnd(Math.ceil(b64.replace(/=+$/, "").length / 4) * 4, "="));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** The fragment for a scenario or a sweep document (JSON without whitespace). */
export function encodeFragment(kind: "scenario" | "sweep", doc: unknown, run = false): string {
  return `#${kind}=${toBase64Url(JSON.stringify(doc))}${run ? "&run=1" : ""}`;
}

/** Reads a location hash; throws INVALID_SCENARIO / INVALID_SWEEP (field "scenario" or "sweep") when its payload does not decode to JSON. */
export function decodeFragment(hash: string): FragmentState {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state: FragmentState = { run: params.get("run") === "1" };
  const workers = params.get("workers");
  if (workers !== null) {
    const n = Number(workers);
    if (!Number.isSafeInteger(n) || n < 1 || n > 64) {
      throw new PlurisimError("INVALID_SWEEP", `the link's &workers= must be an integer from 1 to 64 (got ${JSON.stringify(workers)})`, { field: "workers", value: workers });
    }
    state.workers = n;
  }
  for (const kind of ["scenario", "sweep"] as const) {
    const raw = params.get(kind);
    if (raw === null) continue;
    // URLSearchParams reads "+" as a space; base64url has no "+" but a hand-edited link might.
    const b64 = raw.replace(/ /g, "+");
    try {
      state[kind] = JSON.parse(fromBase64Url(b64));
    } catch (e) {
      throw new PlurisimError(kind === "scenario" ? "INVALID_SCENARIO" : "INVALID_SWEEP", `the link's #${kind}= is not base64url of a JSON document: ${(e as Error).message}`, {
        field: kind,
        value: raw.length > 40 ? `${raw.slice(0, 40)}...` : raw,
      });
    }
  }
  return state;
}
