// An exclusive lock per output file: `<target>.lock` beside it, holding the owner's pid, host,
// process start time and a random token.
//
// Taking it: the record is written whole to a private temporary file, then hard-linked to the lock
// name; link(2) fails with EEXIST when the name exists, so exactly one taker wins and a reader
// never sees a half-written record.
//
// A stale lock (same host, holder no longer alive) is taken over without a race: the taker first
// links the lock to `<target>.lock.stale-<token>`, a name derived from the record it judged stale.
// Only one taker can create that name; the winner then reads it back (a link points at an inode,
// so this is exactly the record the lock held at that instant) and only if it is the stale record
// removes the lock name and links its own. A taker that loses any step starts again from a fresh
// read, so two takers never both hold the lock.
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { PlurisimError } from "../core/errors.js";
import { fileError } from "./files.js";

/** What a lock file records about its holder. */
export interface LockRecord {
  pid: number;
  host: string;
  /** The holder's start time (Linux /proc/<pid>/stat field 22), so a reused pid is not taken for the holder. */
  start: string | null;
  token: string;
  since: string;
}

/** A held lock; release() is idempotent and also runs when the process exits or is stopped by a signal. */
export interface OutputLock {
  readonly path: string;
  readonly record: LockRecord;
  release(): void;
}

/** The lock file that guards `target`. */
export function lockPath(target: string): string {
  return `${target}.lock`;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** True when the recorded holder is certainly gone: same host, and no such process (or another process reusing its pid). */
function holderIsDead(r: LockRecord): boolean {
  if (r.host !== hostname()) return false;
  if (r.pid === process.pid) return false;
  try {
    process.kill(r.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return true;
    // EPERM: a live process of another user holds that pid.
  }
  if (r.start !== null) {
    const now = processStart(r.pid);
    if (now !== null && now !== r.start) return true;
  }
  return false;
}

function readRecord(path: string): LockRecord | null | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const r = JSON.parse(text) as LockRecord;
    if (typeof r.pid === "number" && typeof r.host === "string" && typeof r.token === "string") return r;
  } catch {
    // reported below
  }
  return "unreadable";
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

function lockedError(target: string, path: string, r: LockRecord, dead: boolean): PlurisimError {
  const where = r.host === hostname() ? `process ${r.pid}` : `process ${r.pid} on ${r.host}`;
  const message = dead
    ? `${target} is locked by ${path}, left by ${where} (no longer running) and being taken over by another process; retry, or remove ${path} and ${path}.stale-${r.token}`
    : `${target} is being written by ${where} (lock ${path}, since ${r.since}); wait for it to finish, or stop it (if that process is gone, remove ${path})`;
  return new PlurisimError("FILE", message, { field: "--out", value: target });
}

const held = new Set<OutputLock>();
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function releaseAll(): void {
  for (const l of [...held]) l.release();
}

// A stop signal that nothing else in the process handles would end it without an "exit" event:
// then release the locks and exit as the signal would (128 + its number). A command that handles
// the signal itself (a sweep stops after whole lines) releases its lock on the way out.
function onStopSignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  releaseAll();
  process.exit(sig === "SIGINT" ? 130 : sig === "SIGHUP" ? 129 : 143);
}

function watchExit(on: boolean): void {
  if (on) {
    process.on("exit", releaseAll);
    for (const sig of STOP_SIGNALS) process.on(sig, onStopSignal);
  } else {
    process.off("exit", releaseAll);
    for (const sig of STOP_SIGNALS) process.off(sig, onStopSignal);
  }
}

/**
 * Takes the exclusive lock on `target` (an output file) for this process, or throws a FILE error
 * naming the file and the holder's pid. Released by release(), or when the process exits.
 */
export function lockOutput(target: string): OutputLock {
  const path = lockPath(target);
  const record: LockRecord = { pid: process.pid, host: hostname(), start: processStart(process.pid), token: randomBytes(12).toString("hex"), since: new Date().toISOString() };
  const mine = `${path}.${process.pid}.${record.token}.tmp`;
  try {
    const fd = openSync(mine, "wx", 0o644);
    try {
      writeSync(fd, JSON.stringify(record) + "\n");
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    tryUnlink(mine);
    throw fileError(e, target, "--out", "lock");
  }
  try {
    for (let attempt = 0; ; attempt++) {
      if (tryLink(mine, path)) break;
      const current = readRecord(path);
      if (current === null) {
        // Released between our link and our read: try again (a lock that keeps flapping is reported).
        if (attempt < 1000) continue;
        throw new PlurisimError("FILE", `${target}: its lock ${path} keeps appearing and disappearing; is another program using it?`, { field: "--out", value: target });
      }
      if (current === "unreadable") {
        throw new PlurisimError("FILE", `${target} is locked by ${path}, which is not a plurisim lock record; remove it if no plurisim process is writing ${target}`, {
          field: "--out",
          value: target,
        });
      }
      const dead = holderIsDead(current);
      if (!dead || attempt >= 20) throw lockedError(target, path, current, dead);
      const stale = `${path}.stale-${current.token}`;
      let claimed: boolean;
      try {
        claimed = tryLink(path, stale);
      } catch (e) {
        // The lock name vanished since we read it (another taker removed it): start again.
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      if (!claimed) {
        // Another taker is replacing this stale lock; read again shortly.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      const linked = readRecord(stale);
      if (linked !== null && linked !== "unreadable" && linked.token === current.token) tryUnlink(path);
      tryUnlink(stale);
    }
  } finally {
    tryUnlink(mine);
  }
  let released = false;
  const lock: OutputLock = {
    path,
    record,
    release() {
      if (released) return;
      released = true;
      held.delete(lock);
      if (held.size === 0) watchExit(false);
      const r = readRecord(path);
      if (r !== null && r !== "unreadable" && r.token === record.token) tryUnlink(path);
    },
  };
  if (held.size === 0) watchExit(true);
  held.add(lock);
  return lock;
}
