// A checksum of the numbers of a run or a sweep, computed identically in Node and in the
// browser: SHA-256 over a canonical byte stream in which every number is its 8 Float64 bytes
// (little-endian), so "equal" means equal bit for bit. Timing fields are left out.
import { sha256Hex } from "../core/sha256.js";
import type { RunResult } from "../core/types.js";

/** Fields that measure time, not results; they differ run to run. */
const TIMING = new Set(["elapsedMs", "durationMs"]);

class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  tag(t: number): void {
    this.ensure(1);
    this.buf[this.length++] = t;
  }
  f64(v: number): void {
    this.tag(1);
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  text(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.tag(2);
    this.f64(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Walks a value in a canonical order: object keys sorted, timing fields and undefined skipped. */
function walk(v: unknown, sink: ByteSink): void {
  if (typeof v === "number") sink.f64(v);
  else if (typeof v === "string") sink.text(v);
  else if (typeof v === "boolean") sink.tag(v ? 3 : 4);
  else if (v === null || v === undefined) sink.tag(5);
  else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    sink.tag(6);
    const a = v as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) sink.f64(a[i]);
    sink.tag(7);
  } else if (Array.isArray(v)) {
    sink.tag(6);
    for (const x of v) walk(x, sink);
    sink.tag(7);
  } else if (typeof v === "object") {
    sink.tag(8);
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || TIMING.has(k)) continue;
      sink.text(k);
      walk(x, sink);
    }
    sink.tag(9);
  }
}

/** SHA-256 (hex) of a value's canonical bytes. */
export async function checksumOf(value: unknown): Promise<string> {
  const sink = new ByteSink();
  walk(value, sink);
  return sha256Hex(sink.bytes());
}

/** Checksum of a run's numbers: final metrics and p, the trajectory, the Nash solution and the run's counters. */
export function runChecksum(result: RunResult): Promise<string> {
  const { final, trajectory, nash, maxMassDefect, generationsRun, stoppedEarly, snapshots } = result;
  return checksumOf({ final, trajectory, nash, maxMassDefect, generationsRun, stoppedEarly, snapshots });
}

/** Checksum of sweep rows, ordered by cell (durationMs left out). */
export function rowsChecksum(rows: readonly { cell: number }[]): Promise<string> {
  return checksumOf([...rows].sort((a, b) => a.cell - b.cell));
}
