// The page: a scenario editor (presets, groups, rewards, K, tau, lambda, retraining model) with
// the CLI's validation messages next to each field, a run view that replays p_t with the Nash
// overlay and the metric curves, and a sweep mode on a pool of Web Workers. All engine work
// happens in workers (src/web/worker.ts); this thread only validates, draws and exports.
import { getPath, parsePath, setPath } from "../sweep/paths.js";
import { distributionSpec, metricsSpec, phaseDiagramSpec, sweepAxes, groupNamesOf, type Geometry } from "../core/charts.js";
import { compileWasm, type WasmSource } from "../core/engine.js";
import { toJson } from "../core/json.js";
import { presets, presetScenario } from "../core/presets.js";
import { parseScenario } from "../core/scenario.js";
import { VERSION } from "../core/version.js";
import { parseSweep } from "../sweep/spec.js";
import type { Row } from "../sweep/task.js";
import type { RunResult } from "../core/types.js";
import { rowsChecksum } from "./checksum.js";
import { loadWasmBytes } from "./index.js";
import { CancelledError, WorkerPool } from "./pool.js";
import { download, draw, exportChart } from "./render.js";

type Json = Record<string, any>;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};

const REWARD_TEMPLATES: Record<string, Json> = {
  quadratic: { kind: "quadratic", center: 0, scale: 1 },
  gaussian: { kind: "gaussian", center: 0, width: 1, height: 1 },
  linear: { kind: "linear", slope: 1, intercept: 0 },
  plateau: { kind: "plateau", center: 0, radius: 1, level: 0, outside: -1 },
  box: { kind: "box", boxes: [{ lo: -1, hi: 1, level: 1 }], outside: 0 },
  formula: { kind: "formula", expr: "-(x - 2)^2" },
  vector: { kind: "vector", values: [] },
};
const RETRAINING_TEMPLATES: Record<string, Json> = {
  exact: { model: "exact" },
  histogram: { model: "histogram", samples: 10000, smoothing: 0 },
  gmm: { model: "gmm", samples: 10000, components: 2 },
  kde: { model: "kde", samples: 10000, bandwidth: 0.2 },
};

const DEFAULT_SWEEP = {
  name: "K x q phase diagram (12 atoms)",
  base: "finite-k-compromise",
  axes: { "groups[0].weight": { linspace: [0.2, 0.8, 4] }, "curation.K": [2, 4, 16, "inf"] },
  derived: { "groups[1].weight": "1 - groups[0].weight" },
  replicates: 1,
  seed: 7,
  keep: { final: true },
};
/** The sweep base's generations are lowered for the page so the default diagram takes a second. */
const DEFAULT_SWEEP_GENERATIONS = 300;

function defaultSweepText(): string {
  const base = presetScenario("finite-k-compromise");
  base.generations = DEFAULT_SWEEP_GENERATIONS;
  return JSON.stringify({ ...DEFAULT_SWEEP, base }, null, 2);
}

const state = {
  scenario: presetScenario("two-groups") as Json,
  /** Frames of p_t drawn while runs went on. */
  liveFrames: 0,
  result: null as null | { result: RunResult; geometry: Geometry; p0: Float64Array; checksum: string },
  frame: 0,
  playing: 0,
  rows: [] as Row[],
};

let pool: WorkerPool;
let source: WasmSource;

/** Reads a path such as `groups[1].reward.center` of the scenario (the sweep files' path syntax). */
function getAt(obj: Json, path: string): unknown {
  return getPath(obj, parsePath(path, "field"));
}

/** Writes (or, with undefined, removes) a path of the scenario. */
function setAt(obj: Json, path: string, value: unknown): void {
  setPath(obj as Record<string, unknown>, parsePath(path, "field"), value, path, "field");
}

/** An input bound to a scenario path: numbers parse as numbers (NaN reaches the validator and is named). */
function field(label: string, path: string, kind: "number" | "text" | "json" | "k" = "number", title?: string): HTMLElement {
  const wrap = el("label", { class: "field" });
  wrap.append(el("span", { class: "label" }, label));
  const input = el("input", { "data-path": path, type: "text", spellcheck: "false" });
  if (title) input.title = title;
  const v = getAt(state.scenario, path);
  input.value = v === undefined ? "" : kind === "json" ? JSON.stringify(v) : String(v);
  input.addEventListener("change", () => {
    const raw = input.value.trim();
    let value: unknown = raw;
    if (raw === "") value = undefined;
    else if (kind === "number") value = Number(raw);
    else if (kind === "k") value = raw === "inf" ? "inf" : Number(raw);
    else if (kind === "json") {
      try {
        value = JSON.parse(raw);
      } catch {
        showFieldError(path, `${path} is not valid JSON`);
        return;
      }
    }
    setAt(state.scenario, path, value);
    onScenarioEdited();
  });
  wrap.append(input, el("span", { class: "field-error", "data-error-for": path }));
  return wrap;
}

function select(label: string, path: string, options: string[], onChange: (v: string) => void, current: string): HTMLElement {
  const wrap = el("label", { class: "field" });
  wrap.append(el("span", { class: "label" }, label));
  const s = el("select", { "data-path": path });
  for (const o of options) s.append(el("option", { value: o }, o));
  s.value = current;
  s.addEventListener("change", () => onChange(s.value));
  wrap.append(s, el("span", { class: "field-error", "data-error-for": path }));
  return wrap;
}

/** Rebuilds the form from state.scenario. */
function renderForm(): void {
  const form = $("form");
  form.replaceChildren();
  const s = state.scenario;
  s.curation ??= {};
  s.realData ??= {};
  s.record ??= {};
  s.retraining ??= { model: "exact" };

  const cur = el("fieldset");
  cur.append(el("legend", {}, "Curation and retraining"));
  cur.append(
    field("K", "curation.K", "k", 'candidates per curated sample: an integer >= 2, or "inf"'),
    field("tau", "curation.temperature", "number", "curation temperature tau > 0"),
    select("mixing", "curation.mixing", ["per-sample", "per-generation"], (v) => {
      s.curation.mixing = v;
      onScenarioEdited();
    }, s.curation.mixing ?? "per-sample"),
    field("lambda", "realData.fraction", "number", "fraction of real data in [0, 1)"),
    select("model", "retraining.model", Object.keys(RETRAINING_TEMPLATES), (v) => {
      s.retraining = structuredClone(RETRAINING_TEMPLATES[v]);
      renderForm();
      onScenarioEdited();
    }, s.retraining.model ?? "exact"),
  );
  for (const k of Object.keys(s.retraining)) if (k !== "model") cur.append(field(k, `retraining.${k}`));
  cur.append(field("generations T", "generations"), field("record every", "record.every"), field("seed", "seed"), field("basin eps", "basinEpsilon"));
  form.append(cur);

  const groups = el("fieldset", { "data-path": "groups" });
  groups.append(el("legend", {}, "Preference groups"), el("span", { class: "field-error", "data-error-for": "groups" }));
  (s.groups as Json[]).forEach((g, i) => {
    const box = el("div", { class: "group", "data-path": `groups[${i}]` });
    const head = el("div", { class: "group-head" });
    head.append(field("name", `groups[${i}].name`, "text"), field("weight q", `groups[${i}].weight`));
    const remove = el("button", { type: "button", class: "small", title: "remove this group" }, "remove");
    remove.addEventListener("click", () => {
      s.groups.splice(i, 1);
      renderForm();
      onScenarioEdited();
    });
    head.append(remove);
    box.append(head);
    const reward = el("div", { class: "reward", "data-path": `groups[${i}].reward` });
    reward.append(
      select("reward", `groups[${i}].reward.kind`, Object.keys(REWARD_TEMPLATES), (v) => {
        g.reward = structuredClone(REWARD_TEMPLATES[v]);
        renderForm();
        onScenarioEdited();
      }, g.reward?.kind ?? "quadratic"),
    );
    for (const [k, v] of Object.entries(g.reward ?? {})) {
      if (k === "kind") continue;
      const kind = typeof v === "number" ? "number" : typeof v === "string" ? "text" : "json";
      reward.append(field(k, `groups[${i}].reward.${k}`, kind));
    }
    reward.append(el("span", { class: "field-error", "data-error-for": `groups[${i}].reward` }));
    box.append(reward, el("span", { class: "field-error", "data-error-for": `groups[${i}]` }));
    groups.append(box);
  });
  const add = el("button", { type: "button", class: "small" }, "add group");
  add.addEventListener("click", () => {
    s.groups.push({ name: `g${s.groups.length}`, weight: 0.1, reward: structuredClone(REWARD_TEMPLATES.quadratic) });
    renderForm();
    onScenarioEdited();
  });
  groups.append(add);
  form.append(groups);
  syncJson();
}

function syncJson(): void {
  $<HTMLTextAreaElement>("scenario-json").value = JSON.stringify(state.scenario, null, 2);
}

function clearErrors(): void {
  for (const e of document.querySelectorAll<HTMLElement>("#run-panel .field-error")) e.textContent = "";
  for (const e of document.querySelectorAll("#run-panel .invalid")) e.classList.remove("invalid");
  $("scenario-error").textContent = "";
}

/**
 * Shows a validation message next to the field it names, or the closest enclosing one; the
 * scenario's error line when none matches. A field with `[]` (the validator's "groups[].weight"
 * for weights that do not sum to 1) concerns every group: each of those inputs is marked
 * invalid and the message goes to the enclosing "groups" slot.
 */
function showFieldError(path: string, message: string): void {
  if (path.includes("[]")) {
    const literal = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = new RegExp("^" + path.split("[]").map(literal).join("\\[\\d+\\]") + "$");
    for (const input of document.querySelectorAll<HTMLElement>("#run-panel [data-path]")) {
      if (pattern.test(input.dataset.path ?? "")) input.classList.add("invalid");
    }
  }
  let p = path;
  while (p) {
    const slot = document.querySelector<HTMLElement>(`#run-panel [data-error-for="${CSS.escape(p)}"]`);
    if (slot) {
      slot.textContent = message;
      document.querySelector(`#run-panel [data-path="${CSS.escape(p)}"]`)?.classList.add("invalid");
      return;
    }
    // One segment off the end per pass: ".name", "[3]" or "[]". A path this cannot shorten
    // (a validator field in some other shape) ends the walk instead of looping forever.
    const parent = p.replace(/(\.[^.[\]]+|\[\d*\])$/, "");
    if (parent === p) break;
    p = parent;
  }
  $("scenario-error").textContent = message;
}

/** Validates with the CLI's parser; returns true when the scenario is valid. */
function validate(): boolean {
  clearErrors();
  try {
    parseScenario(state.scenario);
    $<HTMLButtonElement>("run").disabled = false;
    return true;
  } catch (e) {
    const err = e as { message: string; field?: string };
    showFieldError(err.field ?? "", err.message);
    $<HTMLButtonElement>("run").disabled = true;
    return false;
  }
}

function onScenarioEdited(): void {
  syncJson();
  validate();
}

function setStatus(id: string, text: string): void {
  $(id).textContent = text;
}

/** Frames of the replay: p_0, the snapshots, the final p. */
function frames(): { generation: number; p: ArrayLike<number> }[] {
  const r = state.result;
  if (!r) return [];
  const out: { generation: number; p: ArrayLike<number> }[] = [];
  const snaps = r.result.snapshots ?? [];
  if (!snaps.some((s) => s.generation === 0)) out.push({ generation: 0, p: r.p0 });
  for (const s of snaps) out.push(s);
  if (r.result.final.p && !snaps.some((s) => s.generation === r.result.generationsRun)) out.push({ generation: r.result.generationsRun, p: r.result.final.p });
  return out;
}

/**
 * Draws the distribution chart, latest request wins: while one drawing runs, later requests
 * replace each other and the last one is drawn next, so the final frame of a run is never lost
 * behind a live one and a fast replay never queues up.
 */
let drawing = false;
let nextDraw: (() => Promise<void>) | null = null;
async function requestDraw(paint: () => Promise<void>): Promise<void> {
  nextDraw = paint;
  if (drawing) return;
  drawing = true;
  try {
    while (nextDraw) {
      const job = nextDraw;
      nextDraw = null;
      await job();
    }
  } finally {
    drawing = false;
  }
}

function drawFrame(): Promise<void> {
  return requestDraw(async () => {
    const r = state.result;
    if (!r) return;
    const fs = frames();
    const f = fs[Math.min(state.frame, fs.length - 1)];
    const series = r.geometry.dim === 2 ? [{ label: `p_${f.generation}`, p: f.p }] : [{ label: "p_0", p: r.p0 }, { label: `p_${f.generation}`, p: f.p }];
    await draw($("dist-chart"), distributionSpec(r.geometry, f.generation === 0 ? series.slice(-1) : series, r.result.nash?.p, `p_t at generation ${f.generation} (red dashed: Nash p*)`));
    $<HTMLInputElement>("frame").value = String(state.frame);
    setStatus("frame-label", `generation ${f.generation} / ${r.result.generationsRun}`);
  });
}

/** Draws p_t while a run goes on (frames from the worker, a few a second). */
function drawLive(geometry: Geometry, generation: number, p: Float64Array): Promise<void> {
  return requestDraw(() => draw($("dist-chart"), distributionSpec(geometry, [{ label: `p_${generation}`, p }], undefined, `p_t at generation ${generation} (running)`)).then(() => undefined));
}

function stopPlaying(): void {
  if (state.playing) clearInterval(state.playing);
  state.playing = 0;
  $("play").textContent = "play";
}

function play(): void {
  if (state.playing) return stopPlaying();
  const n = frames().length;
  if (state.frame >= n - 1) state.frame = 0;
  $("play").textContent = "pause";
  state.playing = window.setInterval(() => {
    if (state.frame >= frames().length - 1) return stopPlaying();
    state.frame++;
    void drawFrame();
  }, 120);
}

/** Evenly spaced snapshot generations for the replay (about 40 frames). */
function replaySnapshots(T: number): number[] {
  const k = Math.min(40, Math.max(1, T));
  return [...new Set(Array.from({ length: k + 1 }, (_, i) => Math.round((i * T) / k)))];
}

/** Runs a scenario in a worker and shows it; resolves with the checksum of its numbers. */
async function runScenario(scenario: Json, forReplay: boolean): Promise<{ checksum: string; result: RunResult }> {
  stopPlaying();
  const s = structuredClone(scenario);
  if (forReplay && !s.record?.snapshots) {
    const T = parseScenario(s).generations;
    s.record = { ...(s.record ?? {}), snapshots: replaySnapshots(T) };
  }
  $<HTMLButtonElement>("run").disabled = true;
  $<HTMLButtonElement>("cancel-run").disabled = false;
  setStatus("run-status", "running...");
  const progress = $<HTMLProgressElement>("run-progress");
  progress.value = 0;
  const started = performance.now();
  try {
    const reply = await pool.submit({ type: "run", scenario: s, options: { final: true, nash: true } }, (event) => {
      if (event.type === "frame") {
        state.liveFrames++;
        return void drawLive(event.geometry, event.generation, event.p);
      }
      progress.value = event.total ? event.done / event.total : 1;
      setStatus("run-status", `generation ${event.done} / ${event.total}`);
    });
    if (reply.type !== "result") throw new Error("unexpected reply");
    progress.value = 1;
    state.result = { result: reply.result, geometry: reply.geometry, p0: reply.p0, checksum: reply.checksum };
    const fs = frames();
    state.frame = fs.length - 1;
    const frame = $<HTMLInputElement>("frame");
    frame.max = String(fs.length - 1);
    frame.disabled = fs.length < 2;
    $<HTMLButtonElement>("play").disabled = fs.length < 2;
    const r = reply.result;
    setStatus(
      "run-status",
      `${r.generationsRun} generations in ${(performance.now() - started).toFixed(0)} ms (engine ${r.elapsedMs.toFixed(0)} ms); nashGap(p_T) = ${r.final.nashGap.toExponential(3)}` +
        (r.nash ? `, F* - F(p_T) = ${(r.nash.welfare - r.final.nashWelfare).toExponential(3)}` : ""),
    );
    setStatus("checksum", `checksum ${reply.checksum}`);
    await draw($("metrics-chart"), metricsSpec(r.trajectory, groupNamesOf(r), r.nash));
    await drawFrame();
    for (const b of document.querySelectorAll<HTMLButtonElement>(".run-export")) b.disabled = false;
    return { checksum: reply.checksum, result: r };
  } catch (e) {
    if (e instanceof CancelledError) setStatus("run-status", "cancelled");
    else {
      const err = e as { message: string; field?: string };
      setStatus("run-status", "failed");
      showFieldError(err.field ?? "", err.message);
    }
    throw e;
  } finally {
    $<HTMLButtonElement>("run").disabled = false;
    $<HTMLButtonElement>("cancel-run").disabled = true;
  }
}

function csvCell(v: unknown): string {
  const s = typeof v === "string" ? v : v === undefined || v === null ? "" : typeof v === "number" ? String(v) : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Flattens objects into CSV columns: arrays become name[i], nested objects name.key. */
function toCsv(records: Json[]): string {
  const flat = records.map((r) => {
    const out: Record<string, unknown> = {};
    const walk = (v: unknown, prefix: string) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${prefix}[${i}]`));
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k);
      else out[prefix] = v;
    };
    walk(r, "");
    return out;
  });
  const cols: string[] = [];
  for (const f of flat) for (const k of Object.keys(f)) if (!cols.includes(k)) cols.push(k);
  return [cols.join(","), ...flat.map((f) => cols.map((c) => csvCell(f[c])).join(","))].join("\n") + "\n";
}

/** Runs a sweep document on the worker pool in batches; draws the phase diagram as rows arrive. */
async function runSweep(spec: unknown, workers?: number): Promise<{ checksum: string; rows: Row[] }> {
  const plan = parseSweep(spec);
  if (workers && workers !== pool.size) {
    pool.destroy();
    pool = makePool(workers);
  }
  $<HTMLInputElement>("sweep-workers").value = String(pool.size);
  state.rows = [];
  const total = plan.total;
  const batch = Math.max(1, Math.min(8, Math.ceil(total / (pool.size * 4))));
  const progress = $<HTMLProgressElement>("sweep-progress");
  progress.value = 0;
  $<HTMLButtonElement>("sweep-run").disabled = true;
  $<HTMLButtonElement>("sweep-cancel").disabled = false;
  const started = performance.now();
  let lastDraw = 0;
  const tasks: Promise<void>[] = [];
  for (let c = 0; c < total; c += batch) {
    const cells = Array.from({ length: Math.min(batch, total - c) }, (_, k) => c + k);
    tasks.push(
      pool.submit({ type: "batch", plan, cells }).then(async (reply) => {
        if (reply.type !== "rows") return;
        for (const r of reply.results) state.rows.push(r.row);
        progress.value = state.rows.length / total;
        setStatus("sweep-status", `${state.rows.length} / ${total} cells, ${((state.rows.length * 1000) / (performance.now() - started)).toFixed(1)} cells/s`);
        if (performance.now() - lastDraw > 300) {
          lastDraw = performance.now();
          await drawSweep();
        }
      }),
    );
  }
  try {
    await Promise.all(tasks);
  } catch (e) {
    pool.cancel();
    setStatus("sweep-status", e instanceof CancelledError ? `cancelled after ${state.rows.length} / ${total} cells` : `failed: ${(e as Error).message}`);
    throw e;
  } finally {
    $<HTMLButtonElement>("sweep-run").disabled = false;
    $<HTMLButtonElement>("sweep-cancel").disabled = true;
  }
  state.rows.sort((a, b) => a.cell - b.cell);
  const failed = state.rows.filter((r) => r.status !== "ok").length;
  const checksum = await rowsChecksum(state.rows);
  setStatus("sweep-status", `${total} cells (${failed} failed) in ${(performance.now() - started).toFixed(0)} ms on ${pool.size} workers; checksum ${checksum}`);
  fillAxisSelects();
  await drawSweep();
  for (const b of document.querySelectorAll<HTMLButtonElement>(".sweep-export")) b.disabled = false;
  return { checksum, rows: state.rows };
}

function fillAxisSelects(): void {
  const axes = sweepAxes(state.rows as never);
  for (const [id, pick] of [["sweep-x", 0], ["sweep-y", 1]] as const) {
    const s = $<HTMLSelectElement>(id);
    const prev = s.value;
    s.replaceChildren(...axes.map((a) => el("option", { value: a }, a)));
    s.value = axes.includes(prev) ? prev : (axes[pick] ?? "");
  }
}

async function drawSweep(): Promise<void> {
  if (state.rows.length === 0) return;
  const x = $<HTMLSelectElement>("sweep-x").value || undefined;
  const y = $<HTMLSelectElement>("sweep-y").value || undefined;
  const metric = $<HTMLInputElement>("sweep-metric").value.trim() || "basinMass[0]";
  $("sweep-error").textContent = "";
  let spec;
  try {
    spec = phaseDiagramSpec(state.rows as never, { x, y, metric });
  } catch (e) {
    // A metric the rows do not carry: say which ones they do, keep the last figure.
    $("sweep-error").textContent = (e as Error).message;
    return;
  }
  await draw($("sweep-chart"), spec);
}

function makePool(size: number): WorkerPool {
  return new WorkerPool(source, size, () => new Worker(new URL("./worker.ts", import.meta.url), { type: "module" }));
}

function wire(): void {
  const presetSel = $<HTMLSelectElement>("preset");
  for (const [name, p] of Object.entries(presets)) presetSel.append(el("option", { value: name, title: p.description }, name));
  presetSel.value = "two-groups";
  const describe = () => setStatus("preset-description", presets[presetSel.value]?.description ?? "");
  describe();
  presetSel.addEventListener("change", () => {
    state.scenario = presetScenario(presetSel.value);
    describe();
    renderForm();
    validate();
  });
  $("apply-json").addEventListener("click", () => {
    try {
      state.scenario = JSON.parse($<HTMLTextAreaElement>("scenario-json").value);
    } catch (e) {
      $("scenario-error").textContent = `scenario JSON does not parse: ${(e as Error).message}`;
      return;
    }
    renderForm();
    validate();
  });
  $("run").addEventListener("click", () => {
    if (validate()) runScenario(state.scenario, true).catch(() => undefined);
  });
  $("cancel-run").addEventListener("click", () => pool.cancel());
  $("play").addEventListener("click", play);
  $("frame").addEventListener("input", () => {
    stopPlaying();
    state.frame = Number($<HTMLInputElement>("frame").value);
    void drawFrame();
  });
  const stamp = () => `plurisim-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  $("export-json").addEventListener("click", () => state.result && download(`${stamp()}.json`, new Blob([toJson(state.result.result, 2)], { type: "application/json" })));
  $("export-csv").addEventListener("click", () => state.result && download(`${stamp()}-trajectory.csv`, new Blob([toCsv(state.result.result.trajectory as never)], { type: "text/csv" })));
  $("export-dist-svg").addEventListener("click", () => exportChart($("dist-chart"), `${stamp()}-distribution`, "svg"));
  $("export-dist-png").addEventListener("click", () => exportChart($("dist-chart"), `${stamp()}-distribution`, "png"));
  $("export-metrics-svg").addEventListener("click", () => exportChart($("metrics-chart"), `${stamp()}-metrics`, "svg"));
  $("export-metrics-png").addEventListener("click", () => exportChart($("metrics-chart"), `${stamp()}-metrics`, "png"));

  $<HTMLTextAreaElement>("sweep-json").value = defaultSweepText();
  $<HTMLInputElement>("sweep-workers").value = String(pool.size);
  $("sweep-run").addEventListener("click", () => {
    $("sweep-error").textContent = "";
    let spec: unknown;
    try {
      spec = JSON.parse($<HTMLTextAreaElement>("sweep-json").value);
      parseSweep(spec);
    } catch (e) {
      const err = e as { message: string; field?: string };
      $("sweep-error").textContent = err.field ? `${err.message}` : `sweep JSON: ${err.message}`;
      return;
    }
    const workers = Math.max(1, Math.min(64, Math.floor(Number($<HTMLInputElement>("sweep-workers").value)) || pool.size));
    runSweep(spec, workers).catch(() => undefined);
  });
  $("sweep-cancel").addEventListener("click", () => pool.cancel());
  for (const id of ["sweep-x", "sweep-y", "sweep-metric"]) $(id).addEventListener("change", () => void drawSweep());
  $("sweep-export-jsonl").addEventListener("click", () => download(`${stamp()}-sweep.jsonl`, new Blob([state.rows.map((r) => toJson(r)).join("\n") + "\n"], { type: "application/x-ndjson" })));
  $("sweep-export-csv").addEventListener("click", () => download(`${stamp()}-sweep.csv`, new Blob([toCsv(state.rows as never)], { type: "text/csv" })));
  $("sweep-export-svg").addEventListener("click", () => exportChart($("sweep-chart"), `${stamp()}-phase`, "svg"));
  $("sweep-export-png").addEventListener("click", () => exportChart($("sweep-chart"), `${stamp()}-phase`, "png"));

  for (const tab of document.querySelectorAll<HTMLButtonElement>("nav button")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll("nav button")) t.classList.toggle("active", t === tab);
      for (const p of document.querySelectorAll<HTMLElement>(".panel")) p.hidden = p.id !== tab.dataset.panel;
    });
  }
}

declare global {
  interface Window {
    /** Test hook (test/browser-equivalence.test.ts): runs presets and sweeps and returns checksums. */
    plurisim: {
      ready: Promise<void>;
      info?: { version: string; wasmSha256: string; workers: number };
      runPreset(name: string): Promise<{ checksum: string; generationsRun: number; nashGap: number; liveFrames: number }>;
      runSweep(spec: unknown, workers?: number): Promise<{ checksum: string; cells: number; failed: number }>;
      /** The last run result and sweep rows as JSON text (toJson), to show where a checksum differs. */
      lastJson(): { run: string | null; rows: string };
    };
  }
}

async function start(): Promise<void> {
  source = await compileWasm(await loadWasmBytes());
  const workers = Math.max(1, Math.min(8, navigator.hardwareConcurrency || 2));
  pool = makePool(workers);
  $("engine-stamp").innerHTML = `engine <b>${VERSION}</b> &middot; Wasm SHA-256 <code>${source.wasmSha256}</code> &middot; ${workers} workers`;
  wire();
  renderForm();
  validate();
  window.plurisim.info = { version: VERSION, wasmSha256: source.wasmSha256, workers };
}

window.plurisim = {
  ready: Promise.resolve(),
  async runPreset(name) {
    await window.plurisim.ready;
    state.scenario = presetScenario(name);
    $<HTMLSelectElement>("preset").value = name;
    renderForm();
    validate();
    const before = state.liveFrames;
    const { checksum, result } = await runScenario(state.scenario, false);
    return { checksum, generationsRun: result.generationsRun, nashGap: result.final.nashGap, liveFrames: state.liveFrames - before };
  },
  lastJson() {
    return { run: state.result ? toJson(state.result.result) : null, rows: toJson(state.rows) };
  },
  async runSweep(spec, workers) {
    await window.plurisim.ready;
    (document.querySelector('nav button[data-panel="sweep-panel"]') as HTMLButtonElement).click();
    $<HTMLTextAreaElement>("sweep-json").value = JSON.stringify(spec, null, 2);
    const { checksum, rows } = await runSweep(spec, workers);
    return { checksum, cells: rows.length, failed: rows.filter((r) => r.status !== "ok").length };
  },
};
window.plurisim.ready = start().catch((e) => {
  $("engine-stamp").textContent = `failed to start: ${(e as Error).message}`;
  throw e;
});
