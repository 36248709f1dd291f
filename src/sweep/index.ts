// The sweep room (runs anywhere): spec parsing and validation, cell expansion and seeds, the
// batch task shared by Node's Piscina workers and the browser's Web Workers, merge and presets.
export { parseSweep, sweepJsonSchema, cellAt, parsedCellAt, cellIndices, canonicalJson, shardCells, MAX_CELLS, MAX_CELLS_FORCED, METRIC_NAMES } from "./spec.js";
export type { SweepPlan, Keep, Dim, Cell, ParsedCell, ParseSweepOptions } from "./spec.js";
export { cellSeed } from "./seed.js";
export { expandAxis } from "./axes.js";
export type { AxisSpec } from "./axes.js";
export { parsePath, getPath, setPath } from "./paths.js";
export { runBatch, runBatchLines, runCell, runOrder, errorRow } from "./task.js";
export type { Row, OkRow, ErrorRow, CellResult, BatchHooks, BatchLines } from "./task.js";
export { mergeOrdered } from "./merge.js";
export type { CellLine, MergeSource } from "./merge.js";
export { sweepPresets, sweepPresetDocument } from "./presets.js";
export { checkSummaryRows, summarize, summaries } from "./summary.js";
export type { Summary } from "./summary.js";
