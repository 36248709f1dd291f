// The package's Node entry: the engine core plus how Node obtains the .wasm (from disk).
import { compileWasm, createEngineFrom, type Engine, type WasmSource } from "../core/engine.js";
import { loadWasmBytes } from "./wasm.js";

let source: Promise<WasmSource> | undefined;

/** The compiled kernel module and its SHA-256, read and compiled once per process. */
export function loadWasmSource(): Promise<WasmSource> {
  source ??= loadWasmBytes().then(compileWasm);
  return source;
}

/** An engine on a fresh Wasm instance (the module itself is compiled once per process). */
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
