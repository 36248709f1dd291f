// A small Redis client (RESP2 over one TCP socket) implementing BullMQ's IRedisClient interface
// (node_modules/bullmq/dist/esm/interfaces/redis-client.d.ts), which BullMQ 6 documents as the
// way to run on a driver other than ioredis (it ships adapters for node-redis and Bun in the same
// shape). We need it because no Redis driver is installed in this project; swapping in ioredis
// later is a change to connection.ts only (RedisConnection.clientFactory).
//
// Semantics follow ioredis where BullMQ relies on them: bulk strings come back as UTF-8 strings,
// `status` moves wait -> connecting -> connect -> ready (-> reconnecting) -> end, commands issued
// before `ready` wait in an offline queue, scripts are registered with defineCommand and run with
// EVALSHA (EVAL on NOSCRIPT), and reconnection follows `retryStrategy(times)` (a delay in ms, or
// null to give up, as in ioredis).
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { connect as netConnect, type Socket } from "node:net";
import { Readable } from "node:stream";

export interface RespOptions {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  connectionName?: string;
  /** Milliseconds to wait for the TCP connection and the handshake (default 5000). */
  connectTimeout?: number;
  /** Delay before reconnection attempt `times` (1, 2, ...), or null/undefined to give up. */
  retryStrategy?: (times: number) => number | void | null;
  [key: string]: unknown;
}

type Arg = string | number | Buffer;
type Transform = (v: any) => any;

/** An error reply from the server (`-ERR ...`). */
export class ReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplyError";
  }
}

interface Pending {
  resolve: (v: any) => void;
  reject: (e: Error) => void;
}

const CRLF = "\r\n";

function encode(args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}${CRLF}`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}${CRLF}`), b, Buffer.from(CRLF));
  }
  return Buffer.concat(parts);
}

/** Parses one reply at `at`; undefined when the buffer does not yet hold all of it. */
function parse(buf: Buffer, at: number): { value: unknown; next: number } | undefined {
  if (at >= buf.length) return undefined;
  const eol = buf.indexOf(CRLF, at);
  if (eol < 0) return undefined;
  const type = buf[at];
  const line = buf.toString("utf8", at + 1, eol);
  const after = eol + 2;
  switch (type) {
    case 43: // +
      return { value: line, next: after };
    case 45: // -
      return { value: new ReplyError(line), next: after };
    case 58: // :
      return { value: Number(line), next: after };
    case 36: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      if (buf.length < after + n + 2) return undefined;
      return { value: buf.toString("utf8", after, after + n), next: after + n + 2 };
    }
    case 42: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const out: unknown[] = [];
      let next = after;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, next);
        if (!r) return undefined;
        out.push(r.value);
        next = r.next;
      }
      return { value: out, next };
    }
    default:
      throw new Error(`Redis protocol error: unexpected reply type ${JSON.stringify(String.fromCharCode(type))}`);
  }
}

const pairsToObject = (v: string[] | null): Record<string, string> => {
  const out: Record<string, string> = {};
  if (v) for (let i = 0; i + 1 < v.length; i += 2) out[v[i]] = v[i + 1];
  return out;
};

const scriptArgs = (args: any[]): any[] => (args.length === 1 && Array.isArray(args[0]) ? args[0] : args);
const argOf = (a: unknown): Arg => (Buffer.isBuffer(a) ? a : a === undefined || a === null ? "" : typeof a === "number" ? a : String(a));

interface Script {
  sha: string;
  lua: string;
  numberOfKeys: number;
}

/** Commands queued for a pipeline or a MULTI/EXEC transaction (IRedisTransaction). */
class Batch {
  private cmds: { args: Arg[]; transform?: Transform }[] = [];
  constructor(
    private readonly client: RespClient,
    private readonly atomic: boolean,
  ) {}
  private add(args: Arg[], transform?: Transform): this {
    this.cmds.push({ args, transform });
    return this;
  }
  hgetall(key: string) {
    return this.add(["HGETALL", key], pairsToObject);
  }
  hset(key: string, data: Record<string, string | number>) {
    return this.add(["HSET", key, ...Object.entries(data).flat()]);
  }
  hscan(key: string, cursor: string | number, o?: { COUNT?: number }) {
    return this.add(["HSCAN", key, cursor, ...(o?.COUNT != null ? ["COUNT", o.COUNT] : [])]);
  }
  smembers(key: string) {
    return this.add(["SMEMBERS", key]);
  }
  sscan(key: string, cursor: string | number, o?: { COUNT?: number }) {
    return this.add(["SSCAN", key, cursor, ...(o?.COUNT != null ? ["COUNT", o.COUNT] : [])]);
  }
  zrange(key: string, start: number, end: number) {
    return this.add(["ZRANGE", key, start, end]);
  }
  lrange(key: string, start: number, end: number) {
    return this.add(["LRANGE", key, start, end]);
  }
  llen(key: string) {
    return this.add(["LLEN", key]);
  }
  del(...keys: string[]) {
    return keys.length ? this.add(["DEL", ...keys]) : this;
  }
  runCommand(name: string, args: any[]) {
    return this.add(this.client.evalShaArgs(name, args));
  }
  async exec(): Promise<[Error | null, any][] | null> {
    const cmds = this.cmds;
    this.cmds = [];
    if (cmds.length === 0) return [];
    if (!this.atomic) {
      const settled = await Promise.allSettled(this.client.sendMany(cmds.map((c) => c.args)));
      return settled.map((s, i) => (s.status === "fulfilled" ? [null, cmds[i].transform ? cmds[i].transform!(s.value) : s.value] : [s.reason as Error, null]));
    }
    const replies = this.client.sendMany([["MULTI"], ...cmds.map((c) => c.args), ["EXEC"]]);
    replies.slice(0, -1).forEach((p) => p.catch(() => {}));
    const result = (await replies[replies.length - 1]) as unknown[] | null;
    if (result === null) return null;
    return result.map((v, i) => (v instanceof Error ? [v, null] : [null, cmds[i].transform ? cmds[i].transform!(v) : v]));
  }
}

/** One connection to a Redis server, in the shape BullMQ's IRedisClient expects. */
export class RespClient extends EventEmitter {
  status = "wait";
  readonly isCluster = false;
  options: RespOptions;
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private inFlight: Pending[] = [];
  private offline: { args: Arg[]; pending: Pending }[] = [];
  private scripts = new Map<string, Script>();
  private manualClose = false;
  private attempts = 0;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The last socket or handshake error, for messages. */
  lastError: Error | null = null;
  [name: string]: any;

  constructor(options: RespOptions) {
    super();
    this.options = { ...options };
  }

  /** Connects (and authenticates, selects the db, names the connection); resolves when ready, rejects when given up. */
  connect(): Promise<void> {
    if (this.status === "ready") return Promise.resolve();
    if (this.connecting) return this.connecting;
    this.manualClose = false;
    this.connecting = new Promise<void>((resolve, reject) => {
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onEnd = () => {
        cleanup();
        reject(this.lastError ?? new Error("Connection is closed."));
      };
      const cleanup = () => {
        this.off("ready", onReady);
        this.off("end", onEnd);
        this.connecting = null;
      };
      this.on("ready", onReady);
      this.on("end", onEnd);
    });
    this.openSocket();
    return this.connecting;
  }

  private openSocket(): void {
    this.status = "connecting";
    const { host, port } = this.options;
    const socket = netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const timeout = this.options.connectTimeout ?? 5000;
    const timer = setTimeout(() => {
      const e = new Error(`connect ETIMEDOUT ${host}:${port} (no answer within ${timeout} ms)`) as NodeJS.ErrnoException;
      e.code = "ETIMEDOUT";
      socket.destroy(e);
    }, timeout);
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (e) => {
      this.lastError = e;
      if (this.listenerCount("error") > 0) this.emit("error", e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      this.onClose(socket);
    });
    socket.once("connect", () => {
      this.status = "connect";
      this.emit("connect");
      this.handshake().then(
        () => {
          clearTimeout(timer);
          this.attempts = 0;
          this.status = "ready";
          const queued = this.offline;
          this.offline = [];
          for (const q of queued) this.write(q.args, q.pending);
          this.emit("ready");
        },
        (e: Error) => {
          this.lastError = e;
          socket.destroy();
        },
      );
    });
  }

  private async handshake(): Promise<void> {
    const o = this.options;
    const first: Arg[][] = [];
    if (o.password) first.push(o.username ? ["AUTH", o.username, o.password] : ["AUTH", o.password]);
    if (o.db) first.push(["SELECT", o.db]);
    if (o.connectionName) first.push(["CLIENT", "SETNAME", o.connectionName]);
    for (const s of this.scripts.values()) first.push(["SCRIPT", "LOAD", s.lua]);
    first.push(["PING"]);
    await Promise.all(first.map((args) => new Promise((resolve, reject) => this.write(args, { resolve, reject }))));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const r = parse(this.buffer, at);
      if (!r) break;
      at = r.next;
      const p = this.inFlight.shift();
      if (!p) continue;
      if (r.value instanceof ReplyError) p.reject(r.value);
      else p.resolve(r.value);
    }
    this.buffer = at >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(at);
  }

  private onClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.buffer = Buffer.alloc(0);
    const lost = this.inFlight;
    this.inFlight = [];
    const err = new Error("Connection is closed.");
    for (const p of lost) p.reject(err);
    this.emit("close");
    const delay = this.manualClose ? null : this.options.retryStrategy?.(++this.attempts);
    if (typeof delay === "number" && delay >= 0) {
      this.status = "reconnecting";
      this.emit("reconnecting", delay);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.manualClose) this.openSocket();
      }, delay);
      return;
    }
    this.end();
  }

  private end(): void {
    this.status = "end";
    const queued = this.offline;
    this.offline = [];
    const err = this.lastError && !this.manualClose ? this.lastError : new Error("Connection is closed.");
    for (const q of queued) q.pending.reject(err);
    this.emit("end");
  }

  private write(args: Arg[], pending: Pending): void {
    if (!this.socket || this.socket.destroyed) {
      pending.reject(new Error("Connection is closed."));
      return;
    }
    this.inFlight.push(pending);
    this.socket.write(encode(args));
  }

  /** Sends one command; resolves with its reply (rejects with a ReplyError for an error reply). */
  call(...args: Arg[]): Promise<any> {
    return this.sendMany([args])[0];
  }

  /** Sends commands back to back (one socket write when connected); one promise per reply. */
  sendMany(cmds: Arg[][]): Promise<any>[] {
    const promises: Promise<any>[] = [];
    const pendings: Pending[] = [];
    for (let i = 0; i < cmds.length; i++) {
      promises.push(new Promise((resolve, reject) => pendings.push({ resolve, reject })));
    }
    if (this.status === "end") {
      for (const p of pendings) p.reject(new Error("Connection is closed."));
    } else if (this.status !== "ready") {
      cmds.forEach((args, i) => this.offline.push({ args, pending: pendings[i] }));
      if (this.status === "wait") this.connect().catch(() => {});
    } else if (this.socket && !this.socket.destroyed) {
      this.inFlight.push(...pendings);
      this.socket.write(Buffer.concat(cmds.map(encode)));
    } else for (const p of pendings) p.reject(new Error("Connection is closed."));
    return promises;
  }

  disconnect(reconnect = false): void {
    this.manualClose = !reconnect;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.socket) this.socket.destroy();
    else if (!reconnect && this.status !== "end") this.end();
  }

  async quit(): Promise<string> {
    if (this.status === "ready") {
      this.manualClose = true;
      const ended = new Promise((r) => this.once("end", r));
      await this.call("QUIT").catch(() => {});
      this.socket?.end();
      await ended;
    } else this.disconnect();
    return "OK";
  }

  duplicate(overrides?: Partial<RespOptions>): RespClient {
    const dup = new RespClient({ ...this.options, ...(overrides ?? {}) });
    for (const [name, s] of this.scripts) dup.defineCommand(name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
    return dup;
  }

  defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void {
    const sha = createHash("sha1").update(def.lua).digest("hex");
    this.scripts.set(name, { sha, lua: def.lua, numberOfKeys: def.numberOfKeys });
    this[name] = (...args: any[]) => this.runCommand(name, args);
    if (this.status === "ready") this.call("SCRIPT", "LOAD", def.lua).catch(() => {});
  }

  /** EVALSHA arguments of a defined script. */
  evalShaArgs(name: string, args: any[]): Arg[] {
    const s = this.scripts.get(name);
    if (!s) throw new Error(`unknown script command ${JSON.stringify(name)}`);
    const a = scriptArgs(args);
    return ["EVALSHA", s.sha, s.numberOfKeys, ...a.map(argOf)];
  }

  async runCommand(name: string, args: any[]): Promise<any> {
    const evalsha = this.evalShaArgs(name, args);
    try {
      return await this.call(...evalsha);
    } catch (e) {
      if (!(e instanceof ReplyError) || !e.message.startsWith("NOSCRIPT")) throw e;
      return this.call("EVAL", this.scripts.get(name)!.lua, ...evalsha.slice(2));
    }
  }

  multi(): Batch {
    return new Batch(this, true);
  }
  pipeline(): Batch {
    return new Batch(this, false);
  }

  hgetall(key: string) {
    return this.call("HGETALL", key).then(pairsToObject);
  }
  hget(key: string, field: string) {
    return this.call("HGET", key, field);
  }
  hmget(key: string, ...fields: string[]) {
    return this.call("HMGET", key, ...fields);
  }
  hset(key: string, data: Record<string, string | number>) {
    return this.call("HSET", key, ...Object.entries(data).flat());
  }
  hdel(key: string, ...fields: string[]) {
    return this.call("HDEL", key, ...fields);
  }
  hexists(key: string, field: string) {
    return this.call("HEXISTS", key, field);
  }
  get(key: string) {
    return this.call("GET", key);
  }
  set(key: string, value: string | number, o?: { PX?: number; EX?: number }) {
    return this.call("SET", key, value, ...(o?.PX != null ? ["PX", o.PX] : o?.EX != null ? ["EX", o.EX] : []));
  }
  del(...keys: string[]) {
    return keys.length ? this.call("DEL", ...keys) : Promise.resolve(0);
  }
  zrange(key: string, start: number, end: number, o?: { WITHSCORES?: boolean }) {
    return this.call("ZRANGE", key, start, end, ...(o?.WITHSCORES ? ["WITHSCORES"] : []));
  }
  zrevrange(key: string, start: number, end: number, o?: { WITHSCORES?: boolean }) {
    return this.call("ZREVRANGE", key, start, end, ...(o?.WITHSCORES ? ["WITHSCORES"] : []));
  }
  zcard(key: string) {
    return this.call("ZCARD", key);
  }
  zscore(key: string, member: string) {
    return this.call("ZSCORE", key, member);
  }
  lrange(key: string, start: number, end: number) {
    return this.call("LRANGE", key, start, end);
  }
  llen(key: string) {
    return this.call("LLEN", key);
  }
  ltrim(key: string, start: number, end: number) {
    return this.call("LTRIM", key, start, end);
  }
  lpos(key: string, value: string) {
    return this.call("LPOS", key, value);
  }
  smembers(key: string) {
    return this.call("SMEMBERS", key);
  }
  xadd(key: string, id: string, fields: Record<string, string | number>, o?: { MAXLEN?: number; approximate?: boolean }) {
    const trim: Arg[] = o?.MAXLEN != null ? ["MAXLEN", ...(o.approximate !== false ? ["~"] : []), o.MAXLEN] : [];
    return this.call("XADD", key, ...trim, id, ...Object.entries(fields).flat());
  }
  xread(streams: { key: string; id: string }[], o?: { BLOCK?: number; COUNT?: number }) {
    const opts: Arg[] = [...(o?.BLOCK != null ? ["BLOCK", o.BLOCK] : []), ...(o?.COUNT != null ? ["COUNT", o.COUNT] : [])];
    return this.call("XREAD", ...opts, "STREAMS", ...streams.map((s) => s.key), ...streams.map((s) => s.id));
  }
  xtrim(key: string, strategy: "MAXLEN", threshold: number, o?: { approximate?: boolean }) {
    return this.call("XTRIM", key, strategy, ...(o?.approximate !== false ? ["~"] : []), threshold);
  }
  bzpopmin(key: string, timeout: number) {
    return this.call("BZPOPMIN", key, timeout);
  }
  info() {
    return this.call("INFO");
  }
  client(...args: Arg[]) {
    return this.call("CLIENT", ...args);
  }
  clientSetName(name: string) {
    return this.call("CLIENT", "SETNAME", name);
  }
  clientList() {
    return this.call("CLIENT", "LIST");
  }
  clientInfo() {
    return this.call("CLIENT", "INFO");
  }
  scan(cursor: string | number, o: { MATCH?: string; COUNT?: number }) {
    return this.call("SCAN", cursor, ...(o?.MATCH != null ? ["MATCH", o.MATCH] : []), ...(o?.COUNT != null ? ["COUNT", o.COUNT] : []));
  }
  /** Keys matching `match`, as a stream of arrays (like ioredis' scanStream). */
  scanStream(o: { match: string; count?: number }): Readable {
    let cursor = "0";
    let started = false;
    const stream = new Readable({
      objectMode: true,
      read: () => {
        if (started && cursor === "0") return;
        started = true;
        this.scan(cursor, { MATCH: o.match, COUNT: o.count }).then(
          ([next, keys]: [string, string[]]) => {
            cursor = next;
            stream.push(keys);
            if (next === "0") stream.push(null);
          },
          (e: Error) => stream.destroy(e),
        );
      },
    });
    return stream;
  }
}
