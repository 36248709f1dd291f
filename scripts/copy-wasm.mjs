// tsc does not copy the asc outputs: put the .wasm and its generated bindings beside the compiled core.
import { cpSync } from "node:fs";
cpSync("src/core/wasm", "dist/src/core/wasm", { recursive: true });
