// Writes the scenario JSON Schema, generated from the zod validator, to schema/scenario.schema.json
// and the sweep file's to schema/sweep.schema.json (npm run build:schema).
// Usage: node dist/src/node/write-schema.js [scenario schema path]
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { toJson } from "../core/json.js";
import { scenarioJsonSchema } from "../core/scenario.js";
import { sweepJsonSchema } from "../sweep/spec.js";
import { ensureParentDir, writeFileAtomic } from "./files.js";

/** The package root: two levels above src/node, three above dist/src/node. */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const parts = here.split(/[\\/]/);
  const distAt = parts.lastIndexOf("dist");
  return distAt >= 0 ? parts.slice(0, distAt).join("/") || "/" : resolve(here, "..", "..");
}

/** Writes the schema to `path` (default schema/scenario.schema.json in the package) and returns the path. */
export async function writeSchema(path = resolve(packageRoot(), "schema", "scenario.schema.json")): Promise<string> {
  ensureParentDir(path, "schema");
  // The same text as `plurisim schema` prints.
  await writeFileAtomic(path, toJson(scenarioJsonSchema(), 2) + "\n", "schema");
  return path;
}

/** Writes the sweep file's schema to `path` (default schema/sweep.schema.json in the package) and returns the path. */
export async function writeSweepSchema(path = resolve(packageRoot(), "schema", "sweep.schema.json")): Promise<string> {
  await writeFileAtomic(path, toJson(sweepJsonSchema(), 2) + "\n", "schema");
  return path;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const written = process.argv[2] ? writeSchema(resolve(process.argv[2])).then((p) => [p]) : writeSchema().then(async (p) => [p, await writeSweepSchema()]);
  written.then(
    (paths) => process.stderr.write(paths.map((p) => `wrote ${p}\n`).join("")),
    (e: unknown) => {
      process.stderr.write(`write-schema: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
