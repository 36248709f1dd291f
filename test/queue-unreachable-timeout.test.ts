// A queue server that accepts the TCP connection and never answers (a stuck Redis, another
// service on the port): the probe gives up within its 3 s budget with QUEUE_UNREACHABLE, and
// `sweep --queue` and `worker` exit 1 with that one line, leaving no file behind. Before the
// budget, both commands waited forever in ioredis's ready check. No Redis needed.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { PROBE_TIMEOUT_MS, probe, ProbeAborted } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";
import { cli, killChildren, silentServer, type SilentServer } from "./queue-helpers.js";

const dir = join("test", "artifacts", `queue-unreachable-${process.pid}`);
const sweepFile = join(dir, "sweep.json");
let silent: SilentServer;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    sweepFile,
    JSON.stringify({
      base: { space: { kind: "grid1d", min: -2, max: 2, cells: 51 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0, scale: 1 } }], curation: { K: "inf", temperature: 1 }, generations: 5 },
      axes: { "curation.temperature": [1, 2] },
    }),
  );
  silent = await silentServer();
});

afterAll(async () => {
  killChildren();
  await silent?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a server that accepts and never answers", () => {
  it("fails the probe with QUEUE_UNREACHABLE once its 3 s budget is spent", async () => {
    expect(PROBE_TIMEOUT_MS).toBe(3000);
    const started = Date.now();
    const err = await probe(parseQueueUrl(`redis://127.0.0.1:${silent.port}/0`)).then(
      () => null,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    expect(isPlurisimError(err, "QUEUE_UNREACHABLE"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`Redis at 127\\.0\\.0\\.1:${silent.port} \\(db 0\\): no answer within 3 s`));
    expect((err as { field?: string }).field).toBe("--queue");
    // Not before the budget (it waited for an answer), and not long after it (a loaded machine's timers run late).
    expect(elapsed).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(PROBE_TIMEOUT_MS + 5000);
  });

  it("stops the probe as soon as its signal aborts", async () => {
    const controller = new AbortController();
    const connected = silent.nextConnection();
    const probing = probe(parseQueueUrl(`redis://127.0.0.1:${silent.port}/0`), { signal: controller.signal }).then(
      () => null,
      (e: unknown) => e,
    );
    await connected;
    const abortedAt = Date.now();
    controller.abort();
    const err = await probing;
    expect(err).toBeInstanceOf(ProbeAborted);
    expect(Date.now() - abortedAt).toBeLessThan(1000);
  });

  it("ends `sweep --queue` with exit 1 and one line, and writes no file", async () => {
    const out = join(dir, "rows.jsonl");
    const r = await cli(["sweep", sweepFile, "--queue", `redis://127.0.0.1:${silent.port}/0`, "--out", out, "--no-progress"], { killAfterMs: 40_000 });
    expect(r.signal, r.stderr).toBe(null);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^plurisim: error \[QUEUE_UNREACHABLE\]: cannot use Redis at 127\.0\.0\.1:\d+ \(db 0\): no answer within 3 s/m);
    expect(r.stderr).not.toMatch(/\n\s+at |Unhandled error event/);
    expect(readdirSync(dir).sort()).toEqual(["sweep.json"]);
    expect(existsSync(out)).toBe(false);
  });

  it("ends `worker` with exit 1 and one line", async () => {
    const r = await cli(["worker", "--queue", `redis://127.0.0.1:${silent.port}/0`, "--workers", "1"], { killAfterMs: 40_000 });
    expect(r.signal, r.stderr).toBe(null);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^plurisim: error \[QUEUE_UNREACHABLE\]: cannot use Redis at 127\.0\.0\.1:\d+ \(db 0\): no answer within 3 s/m);
    expect(r.stderr).not.toMatch(/\n\s+at |Unhandled error event/);
  });
});
