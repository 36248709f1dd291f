// The one write helper (src/node/files.ts): whole or nothing, never through or over something
// that is not a regular file, never over an input, stale temporaries of dead processes removed;
// and the CLI's answer to such targets: exit 2 with one line naming the path.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPlurisimError } from "../src/core/errors.js";
import { checkOutputTarget, openAtomic, readJsonFile, writeAll, writeFileAtomic, type WriteFn } from "../src/node/files.js";
import { runCli } from "./helpers.js";

const dir = resolve("test", "artifacts", `output-atomic-${process.pid}`);
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { timeout: 60_000 });
const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isPlurisimError(e) ? `${e.code}:${e.field}` : `other:${(e as Error).message}`;
  }
  return undefined;
}

const temps = () => readdirSync(dir).filter((n) => n.endsWith(".tmp"));

describe("atomic writes", () => {
  it("replaces a file whole and leaves no temporary behind", async () => {
    const target = join(dir, "whole.json");
    writeFileSync(target, "old\n");
    await writeFileAtomic(target, "new\n");
    expect(readFileSync(target, "utf8")).toBe("new\n");
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(target)]).toEqual([1, 2, 3]);
    expect(temps()).toEqual([]);
  });

  it("the streaming variant: chunks appear only on commit; abort leaves the target as it was", () => {
    const target = join(dir, "stream.csv");
    writeFileSync(target, "before\n");
    const a = openAtomic(target);
    a.write("one\n");
    a.write(Buffer.from("two\n"));
    expect(readFileSync(target, "utf8")).toBe("before\n");
    a.commit();
    expect(readFileSync(target, "utf8")).toBe("one\ntwo\n");
    const b = openAtomic(target);
    b.write("three\n");
    b.abort();
    expect(readFileSync(target, "utf8")).toBe("one\ntwo\n");
    expect(temps()).toEqual([]);
  });

  it("refuses a symbolic link (neither follows nor replaces it) and a folder", async () => {
    const real = join(dir, "real.json");
    writeFileSync(real, "keep\n");
    const link = join(dir, "link.json");
    symlinkSync(real, link);
    await expect(writeFileAtomic(link, "x")).rejects.toThrow(/symbolic link/);
    expect(readFileSync(real, "utf8")).toBe("keep\n");
    expect(code(() => checkOutputTarget(dir))).toBe("FILE:--out");
  });

  it("refuses a device node and a FIFO, without blocking on the FIFO", async () => {
    expect(code(() => checkOutputTarget("/dev/null"))).toBe("FILE:--out");
    if (!hasMkfifo) return;
    const fifo = join(dir, "pipe.json");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    await expect(writeFileAtomic(fifo, "x")).rejects.toThrow(/FIFO/);
    const r = cli("run", "two-groups", "--out", fifo);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[FILE\].*pipe\.json.*FIFO/);
    const s = cli("sweep", "table5", "--out", fifo, "--no-progress");
    expect(s.code, s.stderr).toBe(2);
  });

  it("refuses to replace a file this process read as input", async () => {
    const input = join(dir, "input.json");
    writeFileSync(input, '{"a":1}');
    await readJsonFile(input);
    await expect(writeFileAtomic(input, "{}")).rejects.toThrow(/is the input/);
    expect(readFileSync(input, "utf8")).toBe('{"a":1}');
  });

  it("`run x.json --out x.json` is refused and the input kept", () => {
    const scenario = join(dir, "scenario.json");
    const text = JSON.stringify({ space: { kind: "grid1d", min: -3, max: 3, cells: 31 }, groups: [{ weight: 1, reward: { kind: "quadratic", center: 0 } }], generations: 2 });
    writeFileSync(scenario, text);
    const r = cli("run", scenario, "--out", scenario);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[FILE\].*is the input/);
    expect(readFileSync(scenario, "utf8")).toBe(text);
  });

  it("--out below a regular file is a clean FILE error, not an EEXIST stack", async () => {
    const file = join(dir, "plain.txt");
    writeFileSync(file, "x");
    await expect(writeFileAtomic(join(file, "r.json"), "x")).rejects.toThrow(/plain\.txt is a file, not a folder/);
    for (const args of [
      ["run", "two-groups", "--out", join(file, "r.json")],
      ["sweep", "table5", "--out", join(file, "deeper", "rows.jsonl"), "--no-progress"],
    ]) {
      const r = cli(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/\[FILE\].*plain\.txt is a file, not a folder/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("a temporary left by a killed process is removed by the next write; a live process's is kept", async () => {
    const target = join(dir, "left.json");
    const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    const stale = `${target}.${dead}.0123456789ab.tmp`;
    const live = `${target}.${process.ppid}.0123456789ab.tmp`;
    writeFileSync(stale, "partial");
    writeFileSync(live, "in progress");
    await writeFileAtomic(target, "done\n");
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(live);
  });
});

describe("writeAll", () => {
  it("finishes short writes", () => {
    const got: number[] = [];
    const short: WriteFn = (_fd, buf, off, len) => {
      const n = Math.min(3, len);
      got.push(...buf.subarray(off, off + n));
      return n;
    };
    writeAll(-1, "hello, world\n", short);
    expect(Buffer.from(got).toString()).toBe("hello, world\n");
  });

  it("a full disk is an error, and a write that makes no progress does not loop", () => {
    const full: WriteFn = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    };
    expect(() => writeAll(-1, "x", full)).toThrow(/ENOSPC/);
    expect(() => writeAll(-1, "x", () => 0)).toThrow(/no progress/);
  });
});
