// cli-progress is required on first use (it is CommonJS, so synchronously): the CLI starts without it.
import { createRequire } from "node:module";
import type { SingleBar as Bar } from "cli-progress";
import { sanitizeForTerminal } from "../core/text.js";

const require = createRequire(import.meta.url);

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * A progress display on stderr: a bar with the rate and time left when stderr is a terminal;
 * otherwise a plain line every few seconds (`lines`), or nothing at all.
 */
export function createProgress(total: number, label: string, opts: { lines?: boolean; force?: boolean } = {}): Progress {
  const stream = process.stderr;
  const unit = sanitizeForTerminal(label);
  if (stream.isTTY || opts.force) {
    const { SingleBar } = require("cli-progress") as { SingleBar: typeof Bar };
    // The bar's own ETA is NaN until it has two samples; the rate and time left are ours.
    const bar = new SingleBar({
      stream,
      format: `{bar} {value}/{total} ${unit} | {rate} ${unit}/s | {left} left`,
      barsize: 30,
      hideCursor: true,
      fps: 5,
      // Forced onto a stream that is not a terminal (tests): draw anyway.
      noTTYOutput: !stream.isTTY,
    });
    const started = performance.now();
    bar.start(total, 0, { rate: "-", left: "-" });
    let last = 0;
    return {
      update(done) {
        const t = performance.now();
        if (done < total && t - last < 100) return;
        last = t;
        bar.update(done, paceOf(done, total, (t - started) / 1000));
      },
      stop() {
        bar.stop();
      },
    };
  }
  if (!opts.lines) return { update() {}, stop() {} };
  const started = performance.now();
  let last = started;
  return {
    update(done) {
      const t = performance.now();
      if (done < total && t - last < 5000) return;
      last = t;
      const pace = paceOf(done, total, (t - started) / 1000);
      stream.write(`progress: ${done}/${total} ${unit}, ${pace.rate} ${unit}/s, ${pace.left} left\n`);
    },
    stop() {},
  };
}

/** The rate and the time left as text; "-" until there is something to measure (never NaN or Infinity). */
export function paceOf(done: number, total: number, seconds: number): { rate: string; left: string } {
  if (!(done > 0) || !(seconds > 0)) return { rate: "-", left: done >= total ? "0s" : "-" };
  const rate = done / seconds;
  return { rate: rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3), left: duration(Math.max(total - done, 0) / rate) };
}

/** Seconds as "42s", "3m05s" or "2h07m". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
