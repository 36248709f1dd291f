// Connections to the queue's Redis: the options BullMQ gets, our own client, and a fail-fast probe
// for the CLI. The driver is ioredis, BullMQ's own default (it loads it lazily from these options).
import type { RedisOptions } from "bullmq";
import { Redis, ReplyError } from "ioredis";
import { QueueError, type QueueTarget } from "./target.js";

/** ioredis options for a connection (ours or BullMQ's); `giveUpMs` bounds reconnection (undefined: forever). */
export function connectionOptions(t: QueueTarget, giveUpMs?: number): RedisOptions {
  // maxRetriesPerRequest: null is what BullMQ workers require (blocking commands wait out reconnects).
  const opts: RedisOptions = { host: t.host, port: t.port, db: t.db, connectTimeout: 5000, maxRetriesPerRequest: null };
  if (t.username) opts.username = t.username;
  if (t.password) opts.password = t.password;
  // Back off 0.5 s, 1 s, ... capped at 5 s; a submitter gives up after giveUpMs in all.
  opts.retryStrategy = (times: number) => {
    if (giveUpMs !== undefined && times * 1000 > giveUpMs) return null;
    return Math.min(500 * times, 5000);
  };
  return opts;
}

/** A plain connection of our own (plan records). */
export function openClient(t: QueueTarget, giveUpMs?: number): Redis {
  return new Redis(connectionOptions(t, giveUpMs));
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
  const client = new Redis({ ...connectionOptions(t), connectTimeout: 3000, retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: true });
  let lastError: unknown;
  client.on("error", (e) => (lastError = e));
  const where = `Redis at ${t.host}:${t.port} (db ${t.db})`;
  try {
    await client.connect();
  } catch (e) {
    const err = (lastError ?? e) as Error;
    if (err instanceof ReplyError) {
      if (/WRONGPASS|NOAUTH|invalid password|AUTH/i.test(err.message)) {
        throw new QueueError("QUEUE_AUTH", `cannot use ${where}: authentication failed (${err.message}); pass the password in the URL or in PLURISIM_REDIS_PASSWORD`, { cause: err });
      }
      if (/DB index/i.test(err.message)) throw new QueueError("QUEUE_URL", `cannot use ${where}: SELECT ${t.db} failed (${err.message})`, { cause: err });
      throw new QueueError("QUEUE_UNREACHABLE", `cannot use ${where}: the handshake failed (${err.message})`, { cause: err });
    }
    throw new QueueError("QUEUE_UNREACHABLE", `cannot reach ${where}: ${reason(err)}; start a server (redis-server --port ${t.port} --bind 127.0.0.1) or fix --queue`, { cause: err });
  }
  try {
    const info = String(await client.call("INFO", "server"));
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
    if (Number(version.split(".")[0]) < 5) throw new QueueError("QUEUE_UNREACHABLE", `${where} runs Redis ${version}; BullMQ needs 5.0 or later`);
    return { version };
  } catch (e) {
    if (e instanceof QueueError) throw e;
    if (e instanceof ReplyError && /NOAUTH/.test((e as Error).message)) {
      throw new QueueError("QUEUE_AUTH", `cannot use ${where}: the server wants a password (${(e as Error).message}); pass it in the URL or in PLURISIM_REDIS_PASSWORD`, { cause: e });
    }
    throw new QueueError("QUEUE_UNREACHABLE", `cannot use ${where}: INFO failed (${(e as Error).message})`, { cause: e });
  } finally {
    client.disconnect();
  }
}
