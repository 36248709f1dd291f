// Connections to the queue's Redis: the options BullMQ gets, our own client, and a fail-fast probe
// for the CLI. The driver is ioredis, BullMQ's own default (it loads it lazily from these options).
import type { RedisOptions } from "bullmq";
import { Redis, ReplyError } from "ioredis";
import { QueueError, type QueueTarget } from "./target.js";

/** Back-off before reconnection attempt `times`: 0.5 s, 1 s, ... capped at 5 s. */
function backoff(times: number): number {
  return Math.min(500 * times, 5000);
}

/** ioredis options for a connection (ours or BullMQ's); `giveUpMs` bounds reconnection (undefined: forever). */
export function connectionOptions(t: QueueTarget, giveUpMs?: number): RedisOptions {
  // maxRetriesPerRequest: null is what BullMQ workers require (blocking commands wait out reconnects).
  const opts: RedisOptions = { host: t.host, port: t.port, db: t.db, connectTimeout: 5000, maxRetriesPerRequest: null };
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
      return "no answer within 3 s (ETIMEDOUT): a firewall, or the wrong host";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `no route to the host (${err.code})`;
    default:
      return err?.message ?? String(e);
  }
}

/**
 * Connects once, without retries, and checks the server: reachable, credentials accepted, the
 * database exists, Redis >= 5 (BullMQ's minimum). Throws QueueError naming host, port and what failed.
 */
export async function probe(t: QueueTarget): Promise<{ version: string }> {
  // Without `db`: ioredis sends its own SELECT without waiting for the answer, so a database that
  // does not exist would only surface as an error event later. We SELECT ourselves, below.
  const { db: _db, ...options } = connectionOptions(t);
  const client = new Redis({ ...options, connectTimeout: 3000, retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: true });
  let lastError: unknown;
  client.on("error", (e) => (lastError = e));
  const where = `Redis at ${t.host}:${t.port} (db ${t.db})`;
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    const err = (lastError ?? e) as Error;
    if (err instanceof ReplyError) {
      if (/WRONGPASS|NOAUTH|invalid password|AUTH/i.test(err.message)) {
        throw new QueueError("QUEUE_AUTH", `cannot use ${where}: authentication failed (${err.message}); pass the password in the URL or in PLURISIM_REDIS_PASSWORD`, { cause: err });
      }
      throw new QueueError("QUEUE_UNREACHABLE", `cannot use ${where}: the handshake failed (${err.message})`, { cause: err });
    }
    throw new QueueError("QUEUE_UNREACHABLE", `cannot reach ${where}: ${reason(err)}; start a server (redis-server --port ${t.port} --bind 127.0.0.1) or fix --queue`, { cause: err });
  }
  try {
    if (t.db !== 0) {
      try {
        await client.select(t.db);
      } catch (e) {
        if (e instanceof ReplyError && /DB index|invalid DB/i.test((e as Error).message)) {
          throw new QueueError("QUEUE_URL", `cannot use ${where}: database ${t.db} does not exist on that server (SELECT ${t.db}: ${(e as Error).message}); use a smaller number in --queue, e.g. redis://${t.host}:${t.port}/0`, { cause: e });
        }
        throw e;
      }
    }
    const info = String(await client.call("INFO", "server"));
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
    if (Number(version.split(".")[0]) < 5) throw new QueueError("QUEUE_UNREACHABLE", `${where} runs Redis ${version}; BullMQ needs 5.0 or later`);
    return { version };
  } catch (e) {
    if (e instanceof QueueError) throw e;
    if (e instanceof ReplyError && /NOAUTH/.test((e as Error).message)) {
      throw new QueueError("QUEUE_AUTH", `cannot use ${where}: the server wants a password (${(e as Error).message}); pass it in the URL or in PLURISIM_REDIS_PASSWORD`, { cause: e });
    }
    throw new QueueError("QUEUE_UNREACHABLE", `cannot use ${where}: ${(e as Error).message}`, { cause: e });
  } finally {
    client.disconnect();
  }
}
