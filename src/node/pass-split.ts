// Threads for the memory passes of one large run (src/core/passes.ts): each takes a contiguous
// run of whole chunks of the grid, the engine's thread the first run. The engine
// calls them synchronously: a command goes through a shared block and the engine's thread
// waits on it with Atomics.wait (allowed on Node's main thread), so a pass costs two wake-ups.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { PlurisimError } from "../core/errors.js";
import { passRanges, type PassRange } from "../core/passes.js";
import { Command, splitBytes, splitViews, type SplitWorkerData } from "./pass-split-protocol.js";

/** How long the engine waits for one command before it calls the thread lost (default). */
const ANSWER_MS = 60_000;

/** The threads of one run: their ranges for RunOptions.passRanges, and close() when the run is over. */
export interface PassSplit {
  ranges: PassRange[];
  close(): Promise<void>;
}

function workerFile(): string {
  const here = fileURLToPath(new URL("./pass-split-worker.js", import.meta.url));
  if (existsSync(here)) return here;
  const dist = fileURLToPath(new URL("../../dist/src/node/pass-split-worker.js", import.meta.url));
  if (existsSync(dist)) return dist;
  throw new Error(`pass-split worker not found at ${here} or ${dist}: run npm run build:ts`);
}

/**
 * Starts threads - 1 threads for the passes of an n-atom run (none when the grid has fewer
 * chunks than that allows); resolves once every one has its Wasm instance.
 */
export async function startPassSplit(module: WebAssembly.Module, n: number, threads: number, options: { answerMs?: number } = {}): Promise<PassSplit> {
  const answerMs = options.answerMs ?? ANSWER_MS;
  const runs = passRanges(n, threads).slice(1);
  const workers: Worker[] = [];
  const ranges = await Promise.all(
    runs.map(async ([from, to]) => {
      const atoms = to - from;
      const buffer = new SharedArrayBuffer(splitBytes(atoms));
      const views = splitViews(buffer, atoms);
      const data: SplitWorkerData = { module, buffer, atoms };
      const worker = new Worker(workerFile(), { workerData: data });
      workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const fail = (err: Error) => {
          settled = true;
          reject(new PlurisimError("THREAD_LOST", `a pass-split thread (atoms ${from} to ${to}) did not start: ${err.message}`, { cause: err }));
        };
        worker.once("error", fail);
        worker.once("exit", (code) => fail(new Error(`it exited with code ${code}`)));
        const poll = () => {
          if (settled) return;
          if (Atomics.load(views.ctrl, 4) === 1) {
            settled = true;
            resolve();
          } else setTimeout(poll, 1);
        };
        poll();
      });
      worker.removeAllListeners("exit");
      worker.removeAllListeners("error");
      worker.on("error", () => {});
      return rangeOf(from, to, views, answerMs);
    }),
  );
  return {
    ranges,
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function rangeOf(from: number, to: number, views: ReturnType<typeof splitViews>, answerMs: number): PassRange {
  const { ctrl } = views;
  let seq = 0;
  const send = (command: Command) => {
    ctrl[1] = command;
    seq++;
    Atomics.store(ctrl, 0, seq);
    Atomics.notify(ctrl, 0);
  };
  const wait = () => {
    const until = Date.now() + answerMs;
    for (;;) {
      const done = Atomics.load(ctrl, 2);
      if (done === seq) break;
      if (Date.now() > until) throw new PlurisimError("THREAD_LOST", `a pass-split thread (atoms ${from} to ${to}) did not answer within ${answerMs / 1000} s`);
      Atomics.wait(ctrl, 2, done, Math.min(100, answerMs));
    }
    if (views.error[0] !== 0) throw new PlurisimError("THREAD_LOST", `a pass-split thread (atoms ${from} to ${to}) failed; its error is on standard error`);
  };
  const call = (command: Command) => {
    send(command);
    wait();
  };
  // An array of the thread's atoms with its zero-block flags (null: dense), for LoadP or LoadData.
  const load = (command: Command, values: Float64Array, flags: Uint8Array | null) => {
    views.data.set(values);
    ctrl[3] = flags ? 1 : 0;
    if (flags) views.flags.set(flags);
    call(command);
  };
  return {
    from,
    to,
    loadWeights(rows) {
      ctrl[6] = rows.length;
      rows.forEach((row, i) => {
        views.data.set(row);
        ctrl[5] = i;
        call(Command.LoadW);
      });
    },
    loadP(p, flags) {
      load(Command.LoadP, p, flags);
    },
    start(c, d) {
      views.cd.set(c, 0);
      views.cd.set(d, 2);
      send(Command.Pass);
    },
    loadData(pData, flags) {
      load(Command.LoadData, pData, flags);
    },
    step(c, lambda) {
      views.cd.set(c, 0);
      views.cd[views.cd.length - 1] = lambda;
      send(Command.Step);
    },
    finish(parts) {
      wait();
      parts.set(views.parts.subarray(0, parts.length));
    },
    readP(p, flags) {
      call(Command.ReadP);
      p.set(views.data);
      if (flags) flags.set(views.flags);
    },
  };
}
