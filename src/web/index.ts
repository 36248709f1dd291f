// The package's browser entry (package.json "exports" -> "browser"): the engine core plus how
// a browser obtains the .wasm (fetch). Mirrors src/node/index.ts, which reads it from disk.
import { engineEntry } from "../core/api.js";

export * from "../core/api.js";

/** Where the compiled kernels live, beside the core (bundlers such as Vite turn this into an asset URL). */
export const wasmUrl = new URL("../core/wasm/plurisim.wasm", import.meta.url);

/** The .wasm bytes, fetched: the only browser-specific step of creating an engine. */
export async function loadWasmBytes(url: URL | string = wasmUrl): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch the plurisim kernels from ${String(url)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The compiled kernel module and its SHA-256 (fetched and compiled once per page or worker), and an engine on a fresh instance. */
export const { loadWasmSource, createEngine } = engineEntry(() => loadWasmBytes());
