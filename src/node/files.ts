import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { PlurisimError } from "../core/errors.js";

/** Writes a file whole or not at all: a temporary beside it, then a rename. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Parses a JSON file, with errors that name the file. */
export async function readJsonFile(path: string, field = "file"): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PlurisimError("INVALID_SCENARIO", `cannot read ${path}: ${(err as Error).message}`, { field, value: path });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PlurisimError("INVALID_SCENARIO", `${path} is not valid JSON: ${(err as Error).message}`, { field, value: path });
  }
}
