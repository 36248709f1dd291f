// The --queue target: a redis:// URL (or REDIS_URL), credentials from the URL or the environment
// (PLURISIM_REDIS_PASSWORD), and the errors of the queue path. No driver here: the CLI loads
// ioredis and BullMQ (connection.ts, submit.ts, worker.ts) only when a queue is used.
import { formatValue, PlurisimError, type ErrorCode } from "../../core/errors.js";
import { sanitizeForTerminal } from "../../core/text.js";

export type QueueErrorCode = Extract<ErrorCode, `QUEUE_${string}`>;

/**
 * A queue problem as a PlurisimError naming the --queue flag and the URL without its password.
 * The CLI exits 2 for QUEUE_URL and QUEUE_CONFLICT (the input), 1 for the server's failures.
 */
export function queueError(code: QueueErrorCode, message: string, where?: QueueTarget | string, cause?: unknown): PlurisimError {
  const value = where === undefined ? undefined : typeof where === "string" ? redact(where) : describeTarget(where);
  return new PlurisimError(code, message, { field: "--queue", value, cause });
}

/** A parsed --queue URL. */
export interface QueueTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** The target without its password, for messages and manifests (a user name's control characters escaped: it is printed). */
export function describeTarget(t: QueueTarget): string {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `redis://${t.username ? `${sanitizeForTerminal(t.username)}@` : ""}${host}:${t.port}/${t.db}`;
}

/**
 * Parses redis://[[user]:password@]host[:port][/db]; the URL falls back to REDIS_URL and the
 * password to PLURISIM_REDIS_PASSWORD. Throws a QUEUE_URL PlurisimError naming the part that is wrong.
 */
export function parseQueueUrl(url: string | undefined, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  const text = url === undefined || url === "" || url === "env" ? env.REDIS_URL : url;
  if (!text) throw queueError("QUEUE_URL", "--queue needs a URL such as redis://127.0.0.1:6379/0 (or set REDIS_URL)");
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))} is not a URL; expected redis://host:port[/db]`, text);
  }
  if (u.protocol === "rediss:") throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))}: rediss:// (TLS) is not supported; use redis:// on a trusted network or an SSH/stunnel tunnel`, text);
  if (u.protocol !== "redis:") throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))}: the scheme must be redis:// (got ${u.protocol}//)`, text);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "") throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))} has no host`, text);
  const port = u.port === "" ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))}: port must be 1..65535 (got ${u.port})`, text);
  const path = u.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d+$/.test(path)) throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))}: the path must be a database number such as /0 (got /${path})`, text);
  if (u.search || u.hash) throw queueError("QUEUE_URL", `--queue ${formatValue(redact(text))}: query strings and fragments are not supported`, text);
  const target: QueueTarget = { host, port, db: path === "" ? 0 : Number(path) };
  if (u.username) target.username = decodeURIComponent(u.username);
  const password = u.password ? decodeURIComponent(u.password) : env.PLURISIM_REDIS_PASSWORD;
  if (password) target.password = password;
  return target;
}

function redact(text: string): string {
  return text.replace(/\/\/([^/@]*):[^/@]*@/, "//$1:***@");
}
