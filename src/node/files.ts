// Every file plurisim reads from or writes to a path it was given goes through here.
//
// Writes are whole or nothing: a temporary file beside the target (its name holds the pid and a
// random part), every byte written (a short write is retried, a full disk is an error), the file
// fsynced, renamed over the target, the folder fsynced. Targets that are not regular files are
// refused: a symbolic link is refused rather than followed or replaced, and FIFOs, devices,
// sockets and folders are refused (docs/sweep.md, "Output files").
//
// Reads are bounded: an input larger than its limit is refused as soon as the limit is passed,
// whatever the file claims its size is (/dev/zero claims 0).
import { accessSync, closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import { PlurisimError } from "../core/errors.js";

/** Largest spec file (scenario, sweep) read: 16 MiB. */
export const MAX_SPEC_BYTES = 16 * 2 ** 20;

/** Largest result file (run result, sweep rows, manifest) read whole: 256 MiB, half of V8's longest string. */
export const MAX_RESULT_BYTES = 256 * 2 ** 20;

/** Longest line a JSONL reader accepts: 64 MiB (a row or a trajectory is far smaller; /dev/zero has no newline). */
export const MAX_LINE_BYTES = 64 * 2 ** 20;

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file or folder",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a part of the path is not a folder",
  EEXIST: "a file is in the way",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EIO: "input/output error",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
};

/** True when `err` is a file-system error this file names in words (ENOENT, EACCES, ENOSPC, ...). */
export function isKnownFileError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && Object.hasOwn(FILE_ERRORS, code);
}

/** A file-system error as a FILE error naming `path` (the path the user gave, never a temporary). */
export function fileError(err: unknown, path: string, field = "file", doing = "write"): PlurisimError {
  if (err instanceof PlurisimError) return err;
  const e = err as NodeJS.ErrnoException;
  const why = (e && typeof e.code === "string" && FILE_ERRORS[e.code]) || (e as Error)?.message || String(err);
  return new PlurisimError("FILE", `cannot ${doing} ${path}: ${why}${e?.code ? ` (${e.code})` : ""}`, { field, value: path, cause: err });
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    if (code === "ENOTDIR") throw notBelowFile(path, "file");
    throw e;
  }
}

/** The first ancestor of `path` that exists but is not a folder, as a FILE error. */
function notBelowFile(path: string, field: string): PlurisimError {
  let p = resolve(path);
  for (let up = dirname(p); up !== p; p = up, up = dirname(p)) {
    try {
      if (!statSync(up).isDirectory()) {
        return new PlurisimError("FILE", `cannot write ${path}: ${up} is a file, not a folder`, { field, value: path });
      }
    } catch {
      // not there: keep climbing
    }
  }
  return new PlurisimError("FILE", `cannot write ${path}: a part of the path is not a folder`, { field, value: path });
}

/** Creates the folder that will hold `path` (a clean FILE error when a file is in the way). */
export function ensureParentDir(path: string, field = "file"): void {
  const dir = dirname(path) || ".";
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") throw notBelowFile(path, field);
    throw fileError(e, path, field);
  }
}

/** Identity (device and inode) of every input file read in this process, so no output replaces one. */
const inputsRead = new Map<string, string>();

function identity(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

/** True when the input read from `path` is still the file `st` (an inode number is reused once a file is deleted). */
function stillIs(path: string, st: Stats): boolean {
  try {
    if (identity(statSync(path)) === identity(st)) return true;
  } catch {
    // gone
  }
  inputsRead.delete(identity(st));
  return false;
}

/**
 * Throws a FILE error unless `path` can be replaced by a regular file: its folder must exist and be
 * writable, and it must be absent or a regular file, and not an input this process has read.
 */
export function checkOutputTarget(path: string, field = "--out"): void {
  const dir = dirname(path) || ".";
  try {
    if (!statSync(dir).isDirectory()) throw notBelowFile(path, field);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof PlurisimError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw notBelowFile(path, field);
    if (code === "ENOENT") throw new PlurisimError("FILE", `cannot write ${path}: the folder ${dir} does not exist`, { field, value: path });
    throw new PlurisimError("FILE", `cannot write ${path}: the folder ${dir} is not writable (${code ?? (e as Error).message})`, { field, value: path });
  }
  const st = lstatOrNull(path);
  if (st === null) return;
  if (!st.isFile()) {
    const hint = st.isSymbolicLink() ? "; plurisim neither follows nor replaces links: give the path it points to" : "";
    throw new PlurisimError("FILE", `refusing to write ${path}: it is ${kindOf(st)}, not a regular file${hint}`, { field, value: path });
  }
  const input = inputsRead.get(identity(st));
  if (input !== undefined && stillIs(input, st)) {
    throw new PlurisimError("FILE", `refusing to write ${path}: it is the input ${input}; write the output to another file`, { field, value: path });
  }
}

/** The shape of fs.writeSync that writeAll uses (tests pass one that writes a few bytes at a time, or fails). */
export type WriteFn = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

/** Writes every byte of `data` at the file position of `fd`, retrying short writes; a failed write (ENOSPC, EIO) throws. */
export function writeAll(fd: number, data: string | Uint8Array, write: WriteFn = writeSync): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < bytes.length) {
    const n = write(fd, bytes, off, bytes.length - off);
    // A write that makes no progress would loop for ever; the kernel reports a full disk as ENOSPC.
    if (n <= 0) throw Object.assign(new Error("write made no progress"), { code: "EIO" });
    off += n;
  }
}

/** fsync of a folder, so a rename in it survives a crash; file systems that refuse it are skipped. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms and file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const TEMP_RE = /^(.*)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

function pidIsDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Removes temporaries of `target` left by processes that no longer exist (a kill before the rename). */
function removeStaleTemps(target: string): void {
  const dir = dirname(target) || ".";
  const base = basename(target);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || m[1] !== base || Number(m[2]) === process.pid || !pidIsDead(Number(m[2]))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // another process removed it first
    }
  }
}

/** An output being written: chunks go to a temporary file, commit() puts it in place whole. */
export interface AtomicFile {
  readonly target: string;
  write(chunk: string | Uint8Array): void;
  /** fsync, rename over the target, fsync the folder. */
  commit(): void;
  /** Removes the temporary file; the target is untouched. */
  abort(): void;
}

/** Opens an output for streaming: checks the target (its folder must exist), opens a temporary beside it. */
export function openAtomic(target: string, field = "--out"): AtomicFile {
  checkOutputTarget(target, field);
  removeStaleTemps(target);
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o644);
  } catch (e) {
    throw fileError(e, target, field);
  }
  let open = true;
  const abort = () => {
    if (open) closeSync(fd);
    open = false;
    try {
      unlinkSync(tmp);
    } catch {
      // never created or already gone
    }
  };
  return {
    target,
    write(chunk) {
      try {
        writeAll(fd, chunk);
      } catch (e) {
        abort();
        throw fileError(e, target, field);
      }
    },
    commit() {
      try {
        fsyncSync(fd);
        closeSync(fd);
        open = false;
        // The target may have changed while we wrote (another tool made it a link or a FIFO).
        checkOutputTarget(target, field);
        renameSync(tmp, target);
      } catch (e) {
        abort();
        throw fileError(e, target, field);
      }
      fsyncDir(dirname(target) || ".");
    },
    abort,
  };
}

/** Writes a file whole or not at all (see the top of this file). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, field = "--out"): Promise<void> {
  const file = openAtomic(path, field);
  file.write(data);
  file.commit();
}

/** Options of the bounded readers. */
export interface ReadOptions {
  /** Field named in errors (default "file"). */
  field?: string;
  /** Largest size accepted, in bytes (default MAX_SPEC_BYTES). */
  maxBytes?: number;
  /** Error code for a file that cannot be read or is too large (default FILE). */
  code?: PlurisimError["code"];
  /** Record the file as an input, so no output of this process replaces it (default true). */
  asInput?: boolean;
}

function mib(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/** Reads a file (or standard input for "-") as bytes, refusing it past `maxBytes`. */
export function readBytes(path: string, options: ReadOptions = {}): Buffer {
  const field = options.field ?? "file";
  const max = options.maxBytes ?? MAX_SPEC_BYTES;
  const code = options.code ?? "FILE";
  const stdin = path === "-";
  let fd: number;
  try {
    fd = stdin ? 0 : openSync(path, "r");
  } catch (e) {
    throw new PlurisimError(code, fileError(e, path, field, "read").message, { field, value: path });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new PlurisimError(code, `cannot read ${path}: is a folder, not a file`, { field, value: path });
    if (st.isFile() && st.size > max) throw tooBig(path, field, code, max);
    if (!stdin && st.isFile() && options.asInput !== false) inputsRead.set(identity(st), path);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, max + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if ((e as NodeJS.ErrnoException).code === "EOF") break;
        throw new PlurisimError(code, fileError(e, path, field, "read").message, { field, value: path });
      }
      if (n === 0) break;
      total += n;
      if (total > max) throw tooBig(path, field, code, max);
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (!stdin) closeSync(fd);
  }
}

function tooBig(path: string, field: string, code: PlurisimError["code"], max: number): PlurisimError {
  return new PlurisimError(code, `${path === "-" ? "standard input" : path} is larger than the ${mib(max)} limit for this input (${max} bytes)`, { field, value: path });
}

/** Reads a UTF-8 text file (or standard input for "-"), refusing it past `maxBytes`. */
export function readTextFile(path: string, options: ReadOptions = {}): string {
  return readBytes(path, options).toString("utf8");
}

/** Parses a JSON file (or standard input for "-"), with a size limit and errors that name the file. */
export async function readJsonFile(path: string, field = "file", options: Omit<ReadOptions, "field"> = {}): Promise<unknown> {
  const code = options.code ?? "INVALID_SCENARIO";
  // A file that cannot be read is a FILE error; one that reads but is not JSON, the caller's code.
  const text = readTextFile(path, { ...options, field, code: options.code ?? "FILE" });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PlurisimError(code, `${path === "-" ? "standard input" : path} is not valid JSON: ${(err as Error).message}`, { field, value: path });
  }
}

/** Refuses more than one `-` among a command's inputs: standard input can be read once. */
export function checkOneStdin(paths: readonly string[], field: string): void {
  if (paths.filter((p) => p === "-").length > 1) {
    throw new PlurisimError("USAGE", `${field}: "-" (standard input) can be given once per command`, { field, value: paths });
  }
}

let stdinCache: { bytes: Buffer; file?: string } | null = null;

/** Standard input's bytes, read once (bounded by `maxBytes`) and kept for every later reader. */
export function readStdinOnce(options: ReadOptions = {}): Buffer {
  if (!stdinCache) stdinCache = { bytes: readBytes("-", options) };
  return stdinCache.bytes;
}

/**
 * The path of a private copy of standard input (read once, bounded by `maxBytes`), for readers
 * that stream a file or read it twice (rows, Parquet export). The copy lives in a fresh folder
 * of the system's temporary folder and is removed when the process exits.
 */
export function stdinAsFile(name: string, options: ReadOptions = {}): string {
  const bytes = readStdinOnce(options);
  if (stdinCache?.file) return stdinCache.file;
  const dir = mkdtempSync(join(tmpdir(), "plurisim-stdin-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, basename(name));
  writeFileSync(file, bytes, { mode: 0o600 });
  stdinCache!.file = file;
  return file;
}
