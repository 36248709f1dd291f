import { SingleBar } from "cli-progress";

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/**
 * A progress display on stderr: a bar with the rate and time left when stderr is a terminal;
 * otherwise a plain line every few seconds (`lines`), or nothing at all.
 */
export function createProgress(total: number, unit: string, opts: { lines?: boolean; force?: boolean } = {}): Progress {
  const stream = process.stderr;
  if (stream.isTTY || opts.force) {
    const bar = new SingleBar({
      stream,
      format: `{bar} {value}/{total} ${unit} | {rate} ${unit}/s | {eta_formatted} left`,
      barsize: 30,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    });
    const started = performance.now();
    bar.start(total, 0, { rate: "0" });
    let last = 0;
    return {
      update(done) {
        const t = performance.now();
        if (done < total && t - last < 100) return;
        last = t;
        const rate = done / Math.max((t - started) / 1000, 1e-9);
        bar.update(done, { rate: rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3) });
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
      const rate = done / Math.max((t - started) / 1000, 1e-9);
      const left = rate > 0 ? (total - done) / rate : Infinity;
      stream.write(`progress: ${done}/${total} ${unit}, ${rate.toPrecision(3)} ${unit}/s, ${Number.isFinite(left) ? left.toFixed(0) : "?"} s left\n`);
    },
    stop() {},
  };
}
