// Where the queue lives: a redis:// URL (or REDIS_URL), credentials from the URL or the
// environment (PLURISIM_REDIS_PASSWORD), a fail-fast probe for the CLI, and the connection options
// BullMQ gets. The driver is ioredis, BullMQ's own default (it loads it lazily from these options).
import type { RedisOptions } from "bullmq";
import { Redis, ReplyError } from "ioredis";

export type QueueErrorCode = "QUEUE_URL" | "QUEUE_UNREACHABLE" | "QUEUE_AUTH" | "QUEUE_LOST" | "QUEUE_CONFLICT";

/** A queue problem with a stable code; `exitCode` is 2 for bad input (a URL), 1 for a server problem. */
export class QueueError extends Error {
  readonly code: QueueErrorCode;
  readonly exitCode: 1 | 2;
  constructor(code: QueueErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QueueError";
    this.code = code;
    this.exitCode = code === "QUEUE_URL" || code === "QUEUE_CONFLICT" ? 2 : 1;
  }
}

/** A parsed --queue URL. */
export interface QueueTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** The target without its password, for messages and manifests. */
export function describeTarget(t: QueueTarget): string {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `redis://${t.username ? `${t.username}@` : ""}${host}:${t.port}/${t.db}`;
}

/**
 * Parses redis://[[user]:password@]host[:port][/db]; the URL falls back to REDIS_URL and the
 * password to PLURISIM_REDIS_PASSWORD. Throws QueueError QUEUE_URL naming the part that is wrong.
 */
export function parseQueueUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  const text = url === undefined || url === "" || url === "env" ? env.REDIS_URL : url;
  if (!text) throw new QueueError("QUEUE_URL", "--queue needs a URL such as redis://127.0.0.1:6379/0 (or set REDIS_URL)");
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))} is not a URL; expected redis://host:port[/db]`);
  }
  if (u.protocol === "rediss:") throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))}: rediss:// (TLS) is not supported; use redis:// on a trusted network or an SSH/stunnel tunnel`);
  if (u.protocol !== "redis:") throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))}: the scheme must be redis:// (got ${u.protocol}//)`);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))} has no host`);
  const port = u.port === "" ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))}: port must be 1..65535 (got ${u.port})`);
  const path = u.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d+$/.test(path)) throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))}: the path must be a database number such as /0 (got /${path})`);
  if (u.search || u.hash) throw new QueueError("QUEUE_URL", `--queue ${JSON.stringify(redact(text))}: query strings and fragments are not supported`);
  const target: QueueTarget = { host, port, db: path === "" ? 0 : Number(path) };
  if (u.username) target.username = decodeURIComponent(u.username);
  const password = u.password ? decodeURIComponent(u.password) : env.PLURISIM_REDIS_PASSWORD;
  if (password) target.password = password;
  return target;
}

function redact(text: string): string {
  return text.replace(/\/\/([^/@]*):[^/@]*@/, "//$1:***@");
}

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
