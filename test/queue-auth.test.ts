// A Redis server with a password: the probe says QUEUE_AUTH (no password, or a wrong one) and
// succeeds with the right one. Runs its own redis-server on a free port.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probe } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";

const haveRedis = spawnSync("redis-server", ["--version"]).status === 0;
let server: ChildProcess | undefined;
let port = 0;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

beforeAll(async () => {
  if (!haveRedis) return;
  port = await freePort();
  server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", "s3cret"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if (spawnSync("redis-cli", ["-p", String(port), "-a", "s3cret", "--no-auth-warning", "ping"], { encoding: "utf8" }).stdout.trim() === "PONG") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("redis-server with a password did not start");
});

afterAll(() => {
  server?.kill("SIGKILL");
});

describe.skipIf(!haveRedis)("a Redis server that wants a password (apt-get install -y redis-server)", () => {
  it("without a password: QUEUE_AUTH naming where the password goes", async () => {
    await expect(probe(parseQueueUrl(`redis://127.0.0.1:${port}/0`, {}))).rejects.toMatchObject({
      code: "QUEUE_AUTH",
      message: expect.stringMatching(/PLURISIM_REDIS_PASSWORD/),
    });
  });

  it("with a wrong password: QUEUE_AUTH", async () => {
    await expect(probe(parseQueueUrl(`redis://:wrong@127.0.0.1:${port}/0`, {}))).rejects.toMatchObject({ code: "QUEUE_AUTH" });
  });

  it("with the right password (URL or environment): the server's version", async () => {
    expect((await probe(parseQueueUrl(`redis://:s3cret@127.0.0.1:${port}/0`, {}))).version).toMatch(/^\d+\./);
    expect((await probe(parseQueueUrl(`redis://127.0.0.1:${port}/0`, { PLURISIM_REDIS_PASSWORD: "s3cret" }))).version).toMatch(/^\d+\./);
  });
});
