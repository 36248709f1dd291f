/** The engine's version, stamped on every result beside the SHA-256 of the .wasm (kept equal to package.json's). */
export const VERSION = "0.1.0";
