// Node vs browser, bit for bit: the page (built with Vite, served on 127.0.0.1, driven in
// Debian's headless chromium through playwright-core) runs two presets and a small sweep in its
// Web Workers; the checksums of their numbers (src/web/checksum.ts: SHA-256 over the Float64
// bytes of final p, metrics, trajectory, Nash solution, sweep rows) must equal Node's.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJson } from "../src/core/json.js";
import { presetScenario } from "../src/core/presets.js";
import { createEngine } from "../src/node/index.js";
import { parseSweep } from "../src/sweep/spec.js";
import { runBatch } from "../src/sweep/task.js";
import { rowsChecksum, runChecksum } from "../src/web/checksum.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const repo = fileURLToPath(new URL("..", import.meta.url));
const artifacts = join(repo, "test", "artifacts");

if (!haveChromium) {
  console.warn(
    `browser-equivalence: skipped, ${CHROMIUM} not found. Install Debian's chromium with:\n` +
      "  apt-get update && apt-get install -y chromium\n(.ci/run installs it, so CI never skips this test.)",
  );
}

// Exact K = infinity, exact finite K, and a finite-sample Gaussian mixture refitted by EM.
const PRESETS = ["two-groups", "finite-k-compromise", "gmm-2d"];

/**
 * A small K x q x tau phase diagram on the 12-atom example (18 cells, 200 generations each);
 * tau is a logspace axis, so the page's axis values must come from the same libm as Node's.
 */
function sweepSpec() {
  const base = presetScenario("finite-k-compromise");
  base.generations = 200;
  return {
    name: "browser-equivalence",
    base,
    axes: { "groups[0].weight": { linspace: [0.2, 0.8, 3] }, "curation.K": [2, 4, "inf"], "curation.temperature": { logspace: [-0.3, 0.7, 2] } },
    derived: { "groups[1].weight": "1 - groups[0].weight" },
    seed: 7,
    keep: { final: true, nash: true },
  };
}

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    let file = join(dir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const addr = server.address() as { port: number };
    resolve({ server, url: `http://127.0.0.1:${addr.port}/` });
  }));
}

/** Distance in units in the last place between two doubles (same sign assumed; Infinity otherwise). */
function ulps(a: number, b: number): number {
  if (Math.sign(a) !== Math.sign(b)) return Infinity;
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  return Math.abs(Number(view.getBigInt64(0) - view.getBigInt64(8)));
}

/** Where two JSON texts differ, as "path: browser vs Node (n ulp)" lines (timing fields skipped). */
function differences(webJson: string, nodeJson: string, limit = 12): string {
  const out: string[] = [];
  let total = 0;
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a && b && typeof a === "object" && typeof b === "object") {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (k !== "elapsedMs" && k !== "durationMs") walk((a as never)[k], (b as never)[k], `${path}.${k}`);
      }
    } else if (a !== b) {
      total++;
      if (out.length < limit) out.push(`${path}: browser ${String(a)} vs Node ${String(b)}${typeof a === "number" && typeof b === "number" ? ` (${ulps(a, b)} ulp)` : ""}`);
    }
  };
  walk(JSON.parse(webJson), JSON.parse(nodeJson), "");
  return `${total} values differ:\n  ${out.join("\n  ")}`;
}

/** Resolves as `p` does, or rejects after `ms` saying the page did not answer (a frozen page never does). */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the page did not answer within ${ms} ms (frozen?)`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!haveChromium)("the page computes what Node computes, bit for bit", () => {
  let outDir = "";
  let profile = "";
  let server: Server | undefined;
  let url = "";
  // playwright-core types are loaded lazily so that a machine without it still reports a skip.
  let browser: import("playwright-core").Browser | undefined;
  let page: import("playwright-core").Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "plurisim-web-"));
    profile = mkdtempSync(join(tmpdir(), "plurisim-chromium-"));
    const { build } = await import("vite");
    // Unminified: the test checks numbers, not bundle size, and this halves the build time.
    await build({
      configFile: join(repo, "vite.config.ts"),
      logLevel: "error",
      build: { outDir, emptyOutDir: true, minify: false, reportCompressedSize: false },
    });
    ({ server, url } = await serve(outDir));
    const { chromium } = await import("playwright-core");
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    browser = context.browser() ?? undefined;
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(e.message));
    (globalThis as { __plurisimContext?: unknown }).__plurisimContext = context;
    await page.goto(url);
    await page.waitForFunction(() => window.plurisim?.info !== undefined, undefined, { timeout: 20_000 });
  }, 90_000);

  afterAll(async () => {
    const context = (globalThis as { __plurisimContext?: { close(): Promise<void> } }).__plurisimContext;
    await context?.close();
    await browser?.close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    for (const d of [outDir, profile]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it("stamps the same engine version and Wasm SHA-256 as Node", async () => {
    const engine = await createEngine();
    const info = await page.evaluate(() => window.plurisim.info!);
    expect(info.version).toBe(engine.info.version);
    expect(info.wasmSha256).toBe(engine.info.wasmSha256);
  });

  for (const name of PRESETS) {
    it(`preset ${name}: final p, metrics, trajectory and Nash solution are bit-identical`, async () => {
      const engine = await createEngine();
      const result = engine.run(presetScenario(name), { final: true, nash: true });
      const node = await runChecksum(result);
      const web = await page.evaluate((n) => window.plurisim.runPreset(n), name);
      if (web.checksum !== node) {
        const { run } = await page.evaluate(() => window.plurisim.lastJson());
        expect.fail(`preset ${name}: browser checksum ${web.checksum} vs Node ${node}; ${differences(run ?? "null", toJson(result))}`);
      }
      // gmm-2d runs for about a second: the page draws p_t while it runs.
      if (name === "gmm-2d") expect(web.liveFrames).toBeGreaterThan(0);
    });
  }

  it("a sweep on the page's Web Worker pool gives Node's rows (durationMs aside)", async () => {
    const spec = sweepSpec();
    const plan = parseSweep(spec);
    const engine = await createEngine();
    const rows = runBatch(engine, plan, Array.from({ length: plan.total }, (_, c) => c)).map((r) => r.row);
    const node = await rowsChecksum(rows);
    const web = await page.evaluate(([s]) => window.plurisim.runSweep(s, 3), [spec] as const);
    expect(web.cells).toBe(plan.total);
    expect(web.failed).toBe(rows.filter((r) => r.status !== "ok").length);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "browser-sweep.png"), fullPage: true });
    if (web.checksum !== node) {
      const { rows: webRows } = await page.evaluate(() => window.plurisim.lastJson());
      expect.fail(`sweep: browser checksum ${web.checksum} vs Node ${node}; ${differences(webRows, toJson(rows))}`);
    }
  });

  it("leaves a screenshot of a run and no page errors", async () => {
    await page.click('nav button[data-panel="run-panel"]');
    await page.evaluate(() => window.plurisim.runPreset("two-groups"));
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "browser-run.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("exports the run as JSON and CSV and its charts as SVG and PNG", async () => {
    await page.click('nav button[data-panel="run-panel"]');
    await page.evaluate(() => window.plurisim.runPreset("two-groups"));
    const exported = async (id: string) => {
      const [download] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), page.click(`#${id}`)]);
      return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
    };
    const json = await exported("export-json");
    expect(JSON.parse(json.bytes.toString("utf8")).engine.wasmSha256).toMatch(/^[0-9a-f]{64}$/);
    const csv = await exported("export-csv");
    expect(csv.bytes.toString("utf8").split("\n")[0]).toContain("generation");
    for (const id of ["export-dist-svg", "export-metrics-svg"]) expect((await exported(id)).bytes.toString("utf8")).toMatch(/^<svg/);
    for (const id of ["export-dist-png", "export-metrics-png"]) {
      const png = await exported(id);
      expect(png.name).toMatch(/\.png$/);
      expect([...png.bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    }
    expect(pageErrors).toEqual([]);
  });

  /** Types `value` into the run form's input for `path` and fires its change event; returns what the page shows. */
  async function editField(path: string, value: string) {
    return within(
      5_000,
      `editing ${path}`,
      page.evaluate(
        ([p, v]) => {
          const input = document.querySelector<HTMLInputElement>(`#run-panel input[data-path="${p}"]`);
          if (!input) throw new Error(`no input for ${p}`);
          input.value = v;
          input.dispatchEvent(new Event("change"));
          const errors: Record<string, string> = {};
          for (const e of document.querySelectorAll<HTMLElement>("#run-panel .field-error")) {
            if (e.textContent) errors[e.dataset.errorFor ?? e.id] = e.textContent;
          }
          const invalid = [...document.querySelectorAll<HTMLElement>("#run-panel input.invalid")].map((e) => e.dataset.path);
          return { errors, invalid, runDisabled: document.querySelector<HTMLButtonElement>("#run")!.disabled };
        },
        [path, value] as const,
      ),
    );
  }

  async function loadPreset(name: string): Promise<void> {
    await page.click('nav button[data-panel="run-panel"]');
    await within(5_000, `selecting preset ${name}`, page.selectOption("#preset", name));
  }

  it("weights that do not sum to 1: the message shows by the groups, the weights are marked, the page stays responsive", async () => {
    await loadPreset("two-groups");
    const original = await page.inputValue('#run-panel input[data-path="groups[0].weight"]');
    const shown = await editField("groups[0].weight", String(Number(original) + 0.2));
    // The validator names the field "groups[].weight"; the page used to loop forever on it.
    expect(shown.errors.groups, JSON.stringify(shown)).toMatch(/groups\[\]\.weight must sum to 1/);
    expect(shown.invalid).toEqual(["groups[0].weight", "groups[1].weight"]);
    expect(shown.runDisabled).toBe(true);
    expect(await within(5_000, "a round trip after the edit", page.evaluate(() => 1 + 1))).toBe(2);
    const fixed = await editField("groups[0].weight", original);
    expect(fixed.errors).toEqual({});
    expect(fixed.runDisabled).toBe(false);
  });

  it("tau = -1: the message shows next to the tau field", async () => {
    await loadPreset("two-groups");
    const shown = await editField("curation.temperature", "-1");
    expect(Object.keys(shown.errors), JSON.stringify(shown)).toEqual(["curation.temperature"]);
    expect(shown.errors["curation.temperature"]).toMatch(/curation\.temperature/);
    expect(shown.invalid).toEqual(["curation.temperature"]);
    expect(shown.runDisabled).toBe(true);
    await loadPreset("two-groups");
  });

  it("a sweep metric the rows do not carry: the valid names show under the sweep, no page error", async () => {
    await page.click('nav button[data-panel="sweep-panel"]');
    const message = await within(
      5_000,
      "setting the sweep metric",
      page.evaluate(() => {
        const input = document.querySelector<HTMLInputElement>("#sweep-metric")!;
        input.value = "bogus";
        input.dispatchEvent(new Event("change"));
        return new Promise<string>((resolve) => setTimeout(() => resolve(document.querySelector("#sweep-error")!.textContent ?? ""), 100));
      }),
    );
    expect(message).toMatch(/--metric must be .*basinMass\[0\.\.1\].*"bogus"/);
    await page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>("#sweep-metric")!;
      input.value = "basinMass[0]";
      input.dispatchEvent(new Event("change"));
    });
    await page.click('nav button[data-panel="run-panel"]');
    expect(pageErrors).toEqual([]);
  });
});

// Without chromium the run reports one skipped test naming the install command; with it, none.
if (!haveChromium) {
  describe("browser equivalence without chromium", () => {
    it.skip(`needs ${CHROMIUM}: apt-get update && apt-get install -y chromium`, () => undefined);
  });
}
