// The Wasm module's entry: every kernel file re-exported here. Kernels work on raw
// pointers into linear memory that the TypeScript engine lays out (see src/core/memory.ts).
export { heapBase } from "./memory";
export * from "./update";
export { markBlocks, zeroBlockCount, liveBlocks } from "./blocks";
export * from "./finitek";
export { exactSteps } from "./steps";
export * from "./reduce";
export { uniformAt, fillUniforms, philoxBlock } from "./prng";
export * from "./sampling";
export * from "./fit";
export * from "./math";
export * from "./flow";
