// What a benchmark ran on, so results from different machines can be told apart.
import { createHash } from "node:crypto";
import { availableParallelism, cpus, platform, arch } from "node:os";
import { VERSION } from "../core/version.js";
import { loadWasmBytes } from "../node/wasm.js";

/** The machine record of a benchmark run. */
export interface MachineRecord {
  cores: number;
  cpuModel: string;
  platform: string;
  node: string;
  plurisim: string;
  wasmSha256: string;
}

/** Describes this machine, Node and the plurisim build (the SHA-256 of the engine's Wasm). */
export async function machineRecord(): Promise<MachineRecord> {
  const wasm = await loadWasmBytes();
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    platform: `${platform()}-${arch()}`,
    node: process.version,
    plurisim: VERSION,
    wasmSha256: createHash("sha256").update(wasm).digest("hex"),
  };
}
