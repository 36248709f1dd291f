// The repository explains itself: code, docs, presets and tests cite docs/model.md (whose
// sections exist), never a file outside the repository or how the work was organised, and the
// docs' relative links point at files that exist.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const SCANNED = ["src", "assembly", "docs", "sweeps", "bench", "test", "scripts"];
const SKIP = new Set(["node_modules", "dist", "artifacts", "wasm"]);

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mjs|js|py|md|json|html|css)$/.test(name)) out.push(p);
  }
  return out;
}

const files = SCANNED.flatMap((d) => walk(join(root, d)));
const model = readFileSync(join(root, "docs/model.md"), "utf8");
const sections = new Set([...model.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1])));

// Written as pieces so this file does not match itself.
const FORBIDDEN: [string, RegExp][] = [
  ["a path outside the repository", new RegExp(["\\.\\.", "shared"].join("/"))],
  ["the outside model file", new RegExp("MODEL" + "\\.md")],
  ["an issue number", new RegExp("\\b" + "issue" + " \\d")],
  ["a point number", new RegExp("\\b" + "point" + " \\d+\\b(?![.,]\\d)")],
  ["the example named after the tracker", new RegExp("issue" + "'s example|issue" + "-example")],
];

describe("references stay inside the repository", () => {
  it("scans the tree", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(sections).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it.each(FORBIDDEN)("no file cites %s", (_what, pattern) => {
    const hits = files.flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .map((line, i) => ({ line, at: `${relative(root, f)}:${i + 1}` }))
        .filter(({ line }) => pattern.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(hits).toEqual([]);
  });

  it("every 'docs/model.md, section N' names a section that exists", () => {
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/docs\/model\.md,? sections? (\d+)(?:(?:-| and |, )(\d+))?/g)) {
        for (const n of [m[1], m[2]].filter(Boolean).map(Number)) if (!sections.has(n)) bad.push(`${relative(root, f)}: ${m[0]}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("file paths the docs and the README name in code spans exist", () => {
    const docs = [join(root, "README.md"), ...walk(join(root, "docs"))].filter((f) => f.endsWith(".md"));
    const missing: string[] = [];
    for (const f of docs) {
      for (const m of readFileSync(f, "utf8").matchAll(/`((?:src|assembly|test|bench|scripts|sweeps|schema|docs)\/[^`\s*]+)`/g)) {
        if (!existsSync(join(root, m[1]))) missing.push(`${relative(root, f)}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("relative links in the docs and the README point at files that exist", () => {
    const docs = [join(root, "README.md"), ...walk(join(root, "docs"))].filter((f) => f.endsWith(".md"));
    const broken: string[] = [];
    for (const f of docs) {
      // Block quotes are text proposed for another file (the README), whose links are relative to it.
      const text = readFileSync(f, "utf8").split("\n").filter((l) => !l.startsWith(">")).join("\n");
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(join(dirname(f), target))) broken.push(`${relative(root, f)} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
