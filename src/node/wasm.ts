import { readFile } from "node:fs/promises";

/** Where the compiled kernels live, beside the core both in src/ (vitest) and dist/ (the CLI). */
export const wasmUrl = new URL("../core/wasm/plurisim.wasm", import.meta.url);

/** The .wasm bytes, read from disk: the only Node-specific step of creating an engine. */
export async function loadWasmBytes(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(wasmUrl));
}
