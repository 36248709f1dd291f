// The public API shared by the Node and browser entries (src/node/index.ts, src/web/index.ts),
// which differ only in how the .wasm bytes arrive.
import { compileWasm, createEngineFrom, type Engine, type WasmSource } from "./engine.js";

export { compileWasm, createEngineFrom, runsSplitPasses, runsTwoSteps } from "./engine.js";
export { PASS_CHUNK, passRanges, type PassRange } from "./passes.js";
export type { Engine, ReplicatesResult, RunOptions, WasmSource } from "./engine.js";
export { atomCount, parseScenario, scenarioJsonSchema } from "./scenario.js";
export type { Scenario } from "./scenario.js";
export { compileScenario } from "./compile.js";
export { presets, presetScenario } from "./presets.js";
export { PlurisimError, isPlurisimError } from "./errors.js";
export { toJson } from "./json.js";
export { csvCell, csvLine, toCsv } from "./csv.js";
export type * from "./types.js";

/**
 * `loadWasmSource` (the module compiled once, with its SHA-256) and `createEngine` (a fresh
 * Wasm instance of it) for a way of obtaining the .wasm bytes.
 */
export function engineEntry(loadBytes: () => Promise<Uint8Array>) {
  let source: Promise<WasmSource> | undefined;
  const loadWasmSource = (): Promise<WasmSource> => (source ??= loadBytes().then(compileWasm));
  const createEngine = async (wasm?: WasmSource): Promise<Engine> => createEngineFrom(wasm ?? (await loadWasmSource()));
  return { loadWasmSource, createEngine };
}
