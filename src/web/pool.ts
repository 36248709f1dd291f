// A pool of Web Workers, each with its own engine on the module the page compiled once. Tasks
// queue and go to the first worker with room: a run needs an idle worker, while sweep batches
// are posted two deep so a worker starts its next batch without waiting for the page to answer
// its last. cancel() terminates the busy workers (a run in Wasm cannot be interrupted from
// outside) and starts fresh ones, so the page never waits on them.
import type { WasmSource } from "../core/engine.js";
import type { FromWorker, ToWorker, WireError } from "./protocol.js";

type Task = Exclude<ToWorker, { type: "init" }>;
/** A task before the pool gives it an id. */
export type TaskInput = Task extends infer T ? (T extends Task ? Omit<T, "id"> : never) : never;
type Reply = Extract<FromWorker, { type: "result" | "rows" | "bench" }>;

interface Job {
  task: Task;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  onEvent?: (event: RunEvent) => void;
}

/** What a running task reports before its reply: progress, frames of p_t, finished benchmark cases. */
export type RunEvent = Extract<FromWorker, { type: "progress" | "frame" | "bench-case" }>;

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** Posted and not yet answered, oldest first. */
  jobs: Job[];
}

/** Sweep batches a worker holds at once: one running, one waiting in its message queue. */
const BATCH_DEPTH = 2;

function fits(slot: Slot, job: Job): boolean {
  if (slot.jobs.length === 0) return true;
  return job.task.type === "batch" && slot.jobs.length < BATCH_DEPTH && slot.jobs.every((j) => j.task.type === "batch");
}

/** An error from a worker, with the PlurisimError code and field when it was one. */
export class WorkerError extends Error {
  code?: string;
  field?: string;
  constructor(e: WireError) {
    super(e.message);
    this.name = "WorkerError";
    this.code = e.code;
    this.field = e.field;
  }
}

/** Thrown to pending tasks by cancel(). */
export class CancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "CancelledError";
  }
}

export class WorkerPool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;

  constructor(
    private readonly source: WasmSource,
    readonly size: number,
    private readonly makeWorker: () => Worker,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = this.makeWorker();
    let ready!: () => void;
    const slot: Slot = { worker, ready: new Promise<void>((r) => (ready = r)), jobs: [] };
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const msg = event.data;
      if (msg.type === "ready") return ready();
      const at = slot.jobs.findIndex((j) => j.task.id === msg.id);
      if (at < 0) return;
      const job = slot.jobs[at];
      if (msg.type === "progress" || msg.type === "frame" || msg.type === "bench-case") return job.onEvent?.(msg);
      slot.jobs.splice(at, 1);
      if (msg.type === "error") job.reject(new WorkerError(msg.error));
      else job.resolve(msg);
      this.pump();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const jobs = slot.jobs.splice(0);
      this.replace(slot);
      for (const job of jobs) job.reject(new Error(`a worker died: ${event.message || "unknown error"}`));
      this.pump();
    };
    const init: ToWorker = { type: "init", module: this.source.module, wasmSha256: this.source.wasmSha256 };
    worker.postMessage(init);
    return slot;
  }

  private replace(slot: Slot): void {
    slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots[i] = this.spawn();
  }

  private pump(): void {
    // Idle workers first, then a second batch to each busy one.
    for (let pass = 0; pass < BATCH_DEPTH; pass++) {
      for (const slot of this.slots) {
        const job = this.queue[0];
        if (!job) return;
        if (slot.jobs.length > pass || !fits(slot, job)) continue;
        this.queue.shift();
        slot.jobs.push(job);
        void slot.ready.then(() => {
          if (slot.jobs.includes(job)) slot.worker.postMessage(job.task);
        });
      }
    }
  }

  /** Runs a task on the first worker with room; resolves with its reply. */
  submit(task: TaskInput, onEvent?: (event: RunEvent) => void): Promise<Reply> {
    const full = { ...task, id: this.nextId++ } as Task;
    return new Promise<Reply>((resolve, reject) => {
      this.queue.push({ task: full, resolve, reject, onEvent });
      this.pump();
    });
  }

  /** Drops queued tasks and terminates busy workers (replaced by fresh ones); their promises reject with CancelledError. */
  cancel(): void {
    const dropped = this.queue.splice(0);
    for (const job of dropped) job.reject(new CancelledError());
    for (const slot of [...this.slots]) {
      if (slot.jobs.length === 0) continue;
      const jobs = slot.jobs.splice(0);
      this.replace(slot);
      for (const job of jobs) job.reject(new CancelledError());
    }
  }

  /** Terminates every worker. */
  destroy(): void {
    this.cancel();
    for (const slot of this.slots) slot.worker.terminate();
    this.slots = [];
  }
}
