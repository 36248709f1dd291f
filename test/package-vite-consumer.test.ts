// A Vite app that depends on plurisim: the packed files are installed into a scratch project,
// the dev server serves a page importing "plurisim", and the .wasm URL the browser entry builds
// must reach the kernels. Vite's dependency pre-bundling moves the entry into .vite/deps, where
// that URL falls through to the page's HTML; `optimizeDeps.exclude: ["plurisim"]` (the line
// docs/web.md gives) keeps the entry in place.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createServer } from "vite";
import { beforeAll, describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
let app = "";

beforeAll(() => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  app = mkdtempSync(join(tmpdir(), "plurisim-vite-app-"));
  const pkg = join(app, "node_modules", "plurisim");
  for (const f of files) {
    mkdirSync(dirname(join(pkg, f)), { recursive: true });
    copyFileSync(join(root, f), join(pkg, f));
  }
  // The browser entry's one runtime dependency, as npm would install it beside plurisim.
  symlinkSync(join(root, "node_modules", "zod"), join(app, "node_modules", "zod"), "dir");
  writeFileSync(join(app, "index.html"), '<script type="module" src="/main.js"></script>\n');
  writeFileSync(join(app, "main.js"), 'import { wasmUrl } from "plurisim";\nconsole.log(String(wasmUrl));\n');
}, 60_000);

/** Serves the app and fetches what the page would: main.js, the plurisim module it imports, and the .wasm URL that module builds. */
async function wasmAsServed(optimizeDeps: { exclude?: string[] }) {
  const server = await createServer({
    root: app,
    configFile: false,
    logLevel: "silent",
    optimizeDeps,
    cacheDir: join(app, `.vite-${optimizeDeps.exclude ? "exclude" : "default"}`),
    server: { host: "127.0.0.1", port: 0 },
  });
  await server.listen();
  try {
    const base = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`;
    const main = await (await fetch(`${base}/main.js`)).text();
    const imported = new URL(/from "([^"]+)"/.exec(main)![1], base);
    const entry = await (await fetch(imported)).text();
    const wasm = new URL(/new URL\(\s*"([^"]+\.wasm)"/.exec(entry)![1], imported);
    const res = await fetch(wasm);
    return { imported: imported.pathname, type: res.headers.get("content-type"), bytes: new Uint8Array(await res.arrayBuffer()) };
  } finally {
    await server.close();
  }
}

describe("a Vite app importing plurisim", () => {
  it("with optimizeDeps.exclude the dev server serves the kernels at the URL the entry builds", async () => {
    const r = await wasmAsServed({ exclude: ["plurisim"] });
    expect(r.imported).toBe("/node_modules/plurisim/dist/src/web/index.js");
    expect(r.type).toBe("application/wasm");
    const shipped = readFileSync(join(root, "dist/src/core/wasm/plurisim.wasm"));
    expect(createHash("sha256").update(r.bytes).digest("hex")).toBe(createHash("sha256").update(shipped).digest("hex"));
  }, 60_000);

  it("without it the pre-bundled entry points at no .wasm (why docs/web.md gives the line)", async () => {
    const r = await wasmAsServed({});
    expect(r.imported).toMatch(/\/deps\/plurisim\.js$/);
    expect(r.type).not.toBe("application/wasm");
  }, 60_000);

  it("docs/web.md gives that line", () => {
    expect(readFileSync(join(root, "docs/web.md"), "utf8")).toContain('optimizeDeps: { exclude: ["plurisim"] }');
  });
});
