// The package's browser entry (package.json "exports" -> "browser"): the engine core plus how
// a browser obtains the .wasm (fetch). Mirrors src/node/index.ts, which reads it from disk.
import { compileWasm, createEngineFrom, type Engine, type WasmSource } from "../core/engine.js";

/** Where the compiled kernels live, beside the core (bundlers such as Vite turn this into an asset URL). */
export const wasmUrl = new URL("../core/wasm/plurisim.wasm", import.meta.url);

/** The .wasm bytes, fetched: the only browser-specific step of creating an engine. */
export async function loadWasmBytes(url: URL | string = wasmUrl): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch the plurisim kernels from ${String(url)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

let source: Promise<WasmSource> | undefined;

/** The compiled kernel module and its SHA-256, fetched and compiled once per page (or worker). */
export function loadWasmSource(): Promise<WasmSource> {
  source ??= loadWasmBytes().then(compileWasm);
  return source;
}

/** An engine on a fresh Wasm instance (the module itself is compiled once). */
export async function createEngine(wasm?: WasmSource): Promise<Engine> {
  return createEngineFrom(wasm ?? (await loadWasmSource()));
}

export { compileWasm, createEngineFrom } from "../core/engine.js";
export type { Engine, RunOptions, WasmSource } from "../core/engine.js";
export { parseScenario, scenarioJsonSchema } from "../core/scenario.js";
export type { Scenario } from "../core/scenario.js";
export { compileScenario } from "../core/compile.js";
export { presets, presetScenario } from "../core/presets.js";
export { PlurisimError, isPlurisimError } from "../core/errors.js";
export { toJson } from "../core/json.js";
export type * from "../core/types.js";
