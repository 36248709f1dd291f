// The package's Node entry: the engine core plus how Node obtains the .wasm (from disk).
import { engineEntry } from "../core/api.js";
import { loadWasmBytes } from "./wasm.js";

export * from "../core/api.js";
export { loadWasmBytes };
export { startPassSplit, type PassSplit } from "./pass-split.js";

/** The compiled kernel module and its SHA-256 (read and compiled once per process), and an engine on a fresh instance. */
export const { loadWasmSource, createEngine } = engineEntry(loadWasmBytes);
