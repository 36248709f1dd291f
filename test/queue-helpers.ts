// Shared pieces of the queue tests: a private redis-server on a free loopback port (so a test may
// FLUSHDB or kill it without touching anyone else's data), a "silent" server that accepts TCP
// connections and never answers, and a runner for `node bin/plurisim.js` that records the exit
// code, the signal, stderr and the time of exit. Needs dist/ (npm run build:ts).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { probe } from "../src/node/queue/connection.js";
import { parseQueueUrl } from "../src/node/queue/target.js";

/** True when redis-server is on the PATH. */
export const hasRedisServer = spawnSync("redis-server", ["--version"]).status === 0;

/** A port nothing listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGSTOP (freeze: connections stay open, nothing answers) or SIGCONT the server. */
  freeze(frozen: boolean): void;
  stop(): void;
}

/** Starts redis-server on a free loopback port, without persistence; resolves once it answers. */
export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}/0`;
  for (let i = 0; ; i++) {
    try {
      await probe(parseQueueUrl(url));
      break;
    } catch (e) {
      if (i > 100) {
        server.kill("SIGKILL");
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, port, freeze: (frozen) => void server.kill(frozen ? "SIGSTOP" : "SIGCONT"), stop: () => void server.kill("SIGKILL") };
}

export interface SilentServer {
  port: number;
  /** Resolves at the next TCP connection (a client that is now waiting for an answer). */
  nextConnection(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that accepts every connection, reads what it is sent and never answers. */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let waiters: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    nextConnection: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Date.now() when the process exited. */
  exitedAt: number;
}

const children = new Set<ChildProcess>();

/** Runs `node bin/plurisim.js ...args`; a process still running after killAfterMs is SIGKILLed (so a hang fails the test instead of stalling it). */
export function cli(args: string[], o: { env?: NodeJS.ProcessEnv; onStart?: (p: ChildProcess) => void; killAfterMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["bin/plurisim.js", ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...o.env } });
    children.add(p);
    let stderr = "";
    p.stderr!.on("data", (d) => (stderr += d));
    const killer = setTimeout(() => p.kill("SIGKILL"), o.killAfterMs ?? 45_000);
    o.onStart?.(p);
    p.on("exit", (code, signal) => {
      const exitedAt = Date.now();
      clearTimeout(killer);
      children.delete(p);
      // stderr may still hold buffered bytes: wait for the pipe to close.
      if (p.stderr!.readableEnded) resolve({ code, signal, stderr, exitedAt });
      else p.stderr!.on("close", () => resolve({ code, signal, stderr, exitedAt }));
    });
  });
}

/** SIGKILLs every process cli() started that is still running (for afterAll). */
export function killChildren(): void {
  for (const p of children) p.kill("SIGKILL");
}

/** Resolves once `test` is true (polled every 20 ms), or rejects after `ms`. */
export async function until(test: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
