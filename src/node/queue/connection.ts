// Connections to the queue's Redis: the options BullMQ gets, our own client, and a fail-fast probe
// for the CLI. The driver is ioredis, BullMQ's own default (it loads it lazily from these options).
import type { RedisOptions } from "bullmq";
import { Redis, ReplyError } from "ioredis";
import { PlurisimError } from "../../core/errors.js";
import { queueError, type QueueTarget } from "./target.js";

/** Back-off before reconnection attempt `times`: 0.5 s, 1 s, ... capped at 5 s. */
function backoff(times: number): number {
  return Math.min(500 * times, 5000);
}

/** ioredis options for a connection (ours or BullMQ's); `giveUpMs` bounds reconnection (undefined: forever). */
export function connectionOptions(t: QueueTarget, giveUpMs?: number): RedisOptions {
  // maxRetriesPerRequest: null is what BullMQ workers require (blocking commands wait out reconnects).
  // disconnectTimeout: a closed connection's socket is destroyed after 500 ms even if the server
  // never acknowledges the close (ioredis waits 2 s by default), so a stuck server cannot keep the
  // process alive after the work is done.
  const opts: RedisOptions = { host: t.host, port: t.port, db: t.db, connectTimeout: 5000, disconnectTimeout: 500, maxRetriesPerRequest: null };
  if (t.username) opts.username = t.username;
  if (t.password) opts.password = t.password;
  // Stop reconnecting once the back-off delays add up to giveUpMs. The submitter does not rely on
  // this to notice a lost server (submit.ts times its calls from the first failure); it only
  // keeps a dead connection from retrying long after QUEUE_LOST.
  opts.retryStrategy = (times: number) => {
    if (giveUpMs !== undefined) {
      let waited = 0;
      for (let i = 1; i <= times; i++) waited += backoff(i);
      if (waited > giveUpMs) return null;
    }
    return backoff(times);
  };
  return opts;
}

/**
 * A plain connection of our own (plan records). Its errors go to `onError` (default: dropped):
 * without a listener ioredis prints "Unhandled error event" with a stack on every failed reconnect,
 * and callers see the failure anyway as a rejected command.
 */
export function openClient(t: QueueTarget, giveUpMs?: number, onError: (e: Error) => void = () => {}): Redis {
  const client = new Redis(connectionOptions(t, giveUpMs));
  client.on("error", onError);
  return client;
}

/** The probe's whole budget (connect, handshake, SELECT, INFO): a server that accepts and never answers fails within it. */
export const PROBE_TIMEOUT_MS = 3000;

/** Why a connection failed, in words (and the errno code). */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case "ECONNREFUSED":
      return "connection refused (ECONNREFUSED): nothing listens on that port";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host name not found (${err.code})`;
    case "ETIMEDOUT":
      return `no answer within ${PROBE_TIMEOUT_MS / 1000} s (ETIMEDOUT): a firewall, or the wrong host`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `no route to the host (${err.code})`;
    default:
      return err?.message ?? String(e);
  }
}

/** Raised by `until` when its time is up, so the probe can tell a silent server from a failed command. */
class Deadline extends Error {}

/** Thrown by probe() when its signal aborts (SIGINT/SIGTERM while connecting): the caller exits, it is not a queue error. */
export class ProbeAborted extends Error {
  constructor() {
    super("stopped by a signal while connecting to the queue");
    this.name = "ProbeAborted";
  }
}

/**
 * Connects once, without retries, and checks the server: reachable, credentials accepted, the
 * database exists, Redis >= 5 (BullMQ's minimum). The whole check takes at most PROBE_TIMEOUT_MS:
 * a port that accepts the connection and never answers is QUEUE_UNREACHABLE, not a hang. Throws a
 * PlurisimError naming host, port and what failed, or ProbeAborted as soon as `signal` aborts.
 */

/**
 * What a Redis failure means. Redis replies carry an error code word first (RESP: `WRONGPASS ...`,
 * `NOAUTH ...`), but older servers answer a bad password or database with the generic `ERR` and
 * a sentence, and ioredis rejects a command that outlives commandTimeout with a plain
 * `Error("Command timed out")`; none of them has a structured code, so this is the one place that
 * reads their text.
 */
type RedisFailure = "auth" | "no-such-db" | "timeout" | "other";
function redisFailure(e: unknown): RedisFailure {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ReplyError) {
    const code = message.split(" ", 1)[0];
    if (code === "WRONGPASS" || code === "NOAUTH" || /invalid password|AUTH/i.test(message)) return "auth";
    if (/DB index|invalid DB/i.test(message)) return "no-such-db";
    return "other";
  }
  return /command timed out/i.test(message) ? "timeout" : "other";
}

export async function probe(t: QueueTarget, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<{ version: string }> {
  const budget = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const deadline = Date.now() + budget;
  const where = `Redis at ${t.host}:${t.port} (db ${t.db})`;
  // Without `db`: ioredis sends its own SELECT without waiting for the answer, so a database that
  // does not exist would only surface as an error event later. We SELECT ourselves, below.
  // connectTimeout covers only the TCP connect; commandTimeout and the deadline below cover a
  // server that accepts and then stays silent. No offline queue, no retries: one attempt.
  const { db: _db, ...base } = connectionOptions(t);
  const client = new Redis({
    ...base,
    connectTimeout: budget,
    commandTimeout: budget,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    disconnectTimeout: 100,
    lazyConnect: true,
  });
  let lastError: unknown;
  client.on("error", (e) => (lastError = e));
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ProbeAborted());
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  // Every step races the time left and the signal; a step abandoned here is cut by disconnect().
  const until = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Deadline()), Math.max(0, deadline - Date.now()));
    });
    return Promise.race([p, late, aborted]).finally(() => clearTimeout(timer));
  };
  const silent = () =>
    queueError(
      "QUEUE_UNREACHABLE",
      `cannot use ${where}: no answer within ${budget / 1000} s (the port accepts connections but nothing answers as Redis: a stuck server, or another service on that port); check --queue`,
      t,
    );
  try {
    try {
      await until(client.connect());
    } catch (e) {
      if (e instanceof ProbeAborted) throw e;
      if (e instanceof Deadline) throw silent();
      const err = (lastError ?? e) as Error;
      if (err instanceof ReplyError) {
        if (redisFailure(err) === "auth") {
          throw queueError("QUEUE_AUTH", `cannot use ${where}: authentication failed (${err.message}); pass the password in the URL or in PLURISIM_REDIS_PASSWORD`, t, err);
        }
        throw queueError("QUEUE_UNREACHABLE", `cannot use ${where}: the handshake failed (${err.message})`, t, err);
      }
      if (redisFailure(err) === "timeout") throw silent();
      throw queueError("QUEUE_UNREACHABLE", `cannot reach ${where}: ${reason(err)}; start a server (redis-server --port ${t.port} --bind 127.0.0.1) or fix --queue`, t, err);
    }
    try {
      if (t.db !== 0) {
        try {
          await until(client.select(t.db));
        } catch (e) {
          if (redisFailure(e) === "no-such-db") {
            throw queueError("QUEUE_URL", `cannot use ${where}: database ${t.db} does not exist on that server (SELECT ${t.db}: ${(e as Error).message}); use a smaller number in --queue, e.g. redis://${t.host}:${t.port}/0`, t, e);
          }
          throw e;
        }
      }
      const info = String(await until(client.call("INFO", "server")));
      const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
      if (Number(version.split(".")[0]) < 5) throw queueError("QUEUE_UNREACHABLE", `${where} runs Redis ${version}; BullMQ needs 5.0 or later`, t);
      return { version };
    } catch (e) {
      if (e instanceof PlurisimError || e instanceof ProbeAborted) throw e;
      if (e instanceof Deadline || redisFailure(e) === "timeout") throw silent();
      if (redisFailure(e) === "auth") {
        throw queueError("QUEUE_AUTH", `cannot use ${where}: the server wants a password (${(e as Error).message}); pass it in the URL or in PLURISIM_REDIS_PASSWORD`, t, e);
      }
      throw queueError("QUEUE_UNREACHABLE", `cannot use ${where}: ${(e as Error).message}`, t, e);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    client.disconnect();
  }
}

/** Settles as `p`, or rejects once `ms` have passed without an answer (every queue call is bounded by one). */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  p.catch(() => {}); // a call abandoned here may still fail later
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
