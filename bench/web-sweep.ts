// The page at scale against the CLI: one 10,000-cell, three-dimension sweep (q x tau x basin
// distance, Table-5-sized cells: n = 3001, T = 400, K = infinity) run by `plurisim sweep` on W
// workers (whole process), then by the page in headless chromium opened from its link
// (#sweep=...&run=1&workers=W), with the gaps between animation frames recorded all along and
// the metric switched at the end. The pair runs R times (--repeat, default 3), the order
// alternating (CLI then page, page then CLI, ...) so a load that rises or falls on a shared
// machine weighs on both sides alike; the ratio reported is the median of the R pairs' ratios.
// Prints the page/CLI time ratio and writes bench/web-sweep.json (and a screenshot,
// test/artifacts/web-sweep.png, of the last page).
//
//   npm run build && node dist/bench/web-sweep.js [--cells 10000] [--workers 2] [--repeat 3]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { twoWells } from "../src/core/presets.js";
import { parseSweep } from "../src/sweep/spec.js";
import { encodeFragment } from "../src/web/fragment.js";
import { root } from "../src/bench/common.js";
import { writeFileAtomic } from "../src/node/files.js";

const CHROMIUM = "/usr/bin/chromium";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The sweep: `cells` = 25 q values x 20 tau values x (cells / 500) basin distances. */
function sweepDocument(cells: number) {
  const distances = Math.max(1, Math.round(cells / 500));
  const D = Array.from({ length: distances }, (_, k) => 1 + (4 * k) / Math.max(1, distances - 1));
  return {
    name: `web-sweep-${cells}`,
    base: twoWells([-1, 1], 0.5, { record: { every: 400 } }),
    axes: { "groups[0].weight": { linspace: [0.04, 0.96, 25] }, "curation.temperature": { logspace: [-0.5, 0.5, 20] } },
    zip: [{ "groups[0].reward.center": D.map((d) => -d / 2), "groups[1].reward.center": D.map((d) => d / 2) }],
    derived: { "groups[1].weight": "1 - groups[0].weight" },
    seed: 3,
    keep: { final: true, metrics: ["basinMass", "outsideMass", "nashGap"] },
  };
}

const MIME: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

function serve(dir: string): Promise<{ close: () => void; url: string }> {
  const server = createServer((req, res) => {
    let file = join(dir, normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, ""));
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ close: () => server.close(), url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })),
  );
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One run of the sweep by the CLI: whole-process wall time and the workers' mean time per cell. */
interface CliRun {
  cliWallMs: number;
  cliCellMs: number;
}

/** One run of the sweep by the page, opened from its link in a fresh tab. */
interface PageRun {
  pageSweepMs: number;
  pageWallMs: number;
  pageCellMs: number;
  gaps: number[];
  metricSwitchMs: number;
  heatmapWidthPx: number;
  containerWidthPx: number;
  status: string;
}

async function main(): Promise<void> {
  const cells = flag("cells", 10_000);
  const workers = flag("workers", Math.min(8, availableParallelism()));
  const repeat = Math.max(1, Math.floor(flag("repeat", 3)));
  const doc = sweepDocument(cells);
  const plan = parseSweep(doc);
  const dir = mkdtempSync(join(tmpdir(), "plurisim-web-sweep-"));
  try {
    const file = join(dir, "sweep.json");
    writeFileSync(file, JSON.stringify(doc));
    console.log(`sweep: ${plan.total} cells (${plan.dims.map((d) => d.length).join(" x ")}), ${workers} workers, ${repeat} pair${repeat > 1 ? "s" : ""} of runs`);

    const runCli = (): CliRun => {
      const t = performance.now();
      const cli = spawnSync(process.execPath, [join(root, "bin", "plurisim.js"), "sweep", file, "--workers", String(workers), "--out", join(dir, "rows.jsonl"), "--overwrite", "--no-progress", "--no-summary"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      const cliWallMs = performance.now() - t;
      if (cli.status !== 0) throw new Error(`plurisim sweep failed: ${cli.stderr}`);
      const cliRows = readFileSync(join(dir, "rows.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { durationMs: number });
      const cliCellMs = cliRows.reduce((a, r) => a + r.durationMs, 0) / cliRows.length;
      console.log(`  CLI: ${(cliWallMs / 1000).toFixed(2)} s whole process; ${cliCellMs.toFixed(3)} ms per cell in the workers`);
      return { cliWallMs, cliCellMs };
    };

    const { build } = await import("vite");
    const out = join(dir, "web");
    await build({ configFile: join(root, "vite.config.ts"), logLevel: "error", build: { outDir: out, emptyOutDir: true, reportCompressedSize: false } });
    const server = await serve(out);
    const { chromium } = await import("playwright-core");
    const context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-renderer-backgrounding", "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"],
    });
    const errors: string[] = [];
    const runPage = async (last: boolean): Promise<PageRun> => {
      const page = await context.newPage();
      try {
        page.on("pageerror", (e) => errors.push(e.message));
        if (!process.argv.includes("--no-frames")) await page.addInitScript(() => {
          const w = window as unknown as { __gaps: number[] };
          w.__gaps = [];
          let last = 0;
          const tick = (now: number) => {
            if (last) w.__gaps.push(now - last);
            last = now;
            requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        });
        const opened = performance.now();
        await page.goto(`${server.url}${encodeFragment("sweep", doc, true)}&workers=${workers}`);
        await page.waitForFunction(() => /^\d+ cells \(\d+ failed\) in /.test(document.querySelector("#sweep-status")?.textContent ?? ""), undefined, { timeout: 3_600_000, polling: 500 });
        const pageWallMs = performance.now() - opened;
        const status = (await page.textContent("#sweep-status")) ?? "";
        const pageSweepMs = Number(/in ([\d.]+) s/.exec(status)![1]) * 1000;
        const gaps = (await page.evaluate(() => (window as unknown as { __gaps?: number[] }).__gaps)) ?? [NaN];
        const pageCellMs = await page.evaluate(() => {
          const hook = (window as unknown as { plurisim: { lastJson(): { rows: string } } }).plurisim;
          const rows = JSON.parse(hook.lastJson().rows) as { durationMs: number }[];
          return rows.reduce((a, r) => a + r.durationMs, 0) / rows.length;
        });
        const metricSwitchMs = await page.evaluate(() => {
          const input = document.querySelector<HTMLInputElement>("#sweep-metric")!;
          const t0 = performance.now();
          input.value = "nashGap";
          input.dispatchEvent(new Event("change"));
          return performance.now() - t0;
        });
        const canvas = await page.evaluate(() => [document.querySelector("#sweep-canvas")!.getBoundingClientRect().width, document.querySelector("#sweep-chart")!.clientWidth]);
        if (last) {
          mkdirSync(join(root, "test", "artifacts"), { recursive: true });
          await page.screenshot({ path: join(root, "test", "artifacts", "web-sweep.png") });
        }
        console.log(`  page: ${status}; ${(pageWallMs / 1000).toFixed(2)} s from opening the link; ${pageCellMs.toFixed(3)} ms per cell in the workers; frame gaps p95 ${quantile(gaps, 0.95).toFixed(1)} ms`);
        return { pageSweepMs, pageWallMs, pageCellMs, gaps, metricSwitchMs, heatmapWidthPx: canvas[0], containerWidthPx: canvas[1], status };
      } finally {
        await page.close();
      }
    };

    try {
      const runs: (CliRun & Omit<PageRun, "gaps"> & { order: string; loadBefore: number; ratioSweepOverCli: number; ratioWallOverCli: number; frameGapP95Ms: number })[] = [];
      const gaps: number[] = [];
      let lastPage: PageRun | undefined;
      for (let r = 0; r < repeat; r++) {
        const loadBefore = loadavg()[0];
        const cliFirst = r % 2 === 0;
        console.log(`pair ${r + 1} / ${repeat} (${cliFirst ? "CLI, then page" : "page, then CLI"}; load average ${loadBefore.toFixed(2)})`);
        let cli: CliRun;
        let page: PageRun;
        if (cliFirst) {
          cli = runCli();
          page = await runPage(r === repeat - 1);
        } else {
          page = await runPage(r === repeat - 1);
          cli = runCli();
        }
        lastPage = page;
        gaps.push(...page.gaps);
        const { gaps: pageGaps, ...pageRest } = page;
        runs.push({ order: cliFirst ? "cli,page" : "page,cli", loadBefore, ...cli, ...pageRest, ratioSweepOverCli: page.pageSweepMs / cli.cliWallMs, ratioWallOverCli: page.pageWallMs / cli.cliWallMs, frameGapP95Ms: quantile(pageGaps, 0.95) });
        console.log(`  ratio page / CLI: ${(page.pageSweepMs / cli.cliWallMs).toFixed(3)}`);
      }
      const m = (k: keyof (typeof runs)[number]) => median(runs.map((x) => x[k] as number));
      const result = {
        date: new Date().toISOString(),
        machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? "", node: process.version },
        cells: plan.total,
        workers,
        repeat,
        // Medians over the pairs; the ratios are the medians of each pair's own ratio.
        cliWallMs: m("cliWallMs"),
        pageSweepMs: m("pageSweepMs"),
        pageWallMs: m("pageWallMs"),
        cliCellMs: m("cliCellMs"),
        pageCellMs: m("pageCellMs"),
        ratioSweepOverCli: m("ratioSweepOverCli"),
        ratioWallOverCli: m("ratioWallOverCli"),
        // Every frame of every page run.
        frames: gaps.length,
        frameGapMedianMs: quantile(gaps, 0.5),
        frameGapP95Ms: quantile(gaps, 0.95),
        frameGapMaxMs: Math.max(...gaps),
        metricSwitchMs: m("metricSwitchMs"),
        metricSwitchMaxMs: Math.max(...runs.map((x) => x.metricSwitchMs)),
        heatmapWidthPx: lastPage!.heatmapWidthPx,
        containerWidthPx: lastPage!.containerWidthPx,
        status: lastPage!.status,
        runs,
        pageErrors: errors,
      };
      console.log(`median ratio page / CLI over ${repeat} pair${repeat > 1 ? "s" : ""}: ${result.ratioSweepOverCli.toFixed(3)} (sweep; pairs ${runs.map((x) => x.ratioSweepOverCli.toFixed(3)).join(", ")}), ${result.ratioWallOverCli.toFixed(3)} (from opening the page)`);
      console.log(`medians: CLI ${(result.cliWallMs / 1000).toFixed(2)} s, page ${(result.pageSweepMs / 1000).toFixed(2)} s; per cell in the workers: CLI ${result.cliCellMs.toFixed(3)} ms, page ${result.pageCellMs.toFixed(3)} ms`);
      console.log(`frame gaps: ${gaps.length} frames, median ${result.frameGapMedianMs.toFixed(1)} ms, p95 ${result.frameGapP95Ms.toFixed(1)} ms, max ${result.frameGapMaxMs.toFixed(1)} ms`);
      console.log(`metric switch: median ${result.metricSwitchMs.toFixed(1)} ms, max ${result.metricSwitchMaxMs.toFixed(1)} ms; heat map ${result.heatmapWidthPx} px in a ${result.containerWidthPx} px container`);
      if (errors.length) console.log(`page errors: ${errors.join("; ")}`);
      await writeFileAtomic(join(root, "bench", "web-sweep.json"), JSON.stringify(result, null, 2) + "\n");
    } finally {
      await context.close();
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
