// The page: a scenario editor (presets, groups, rewards, K, tau, lambda, retraining model) with
// the CLI's validation messages next to each field, a run view that replays p_t with the Nash
// overlay and the metric curves, a sweep mode on a pool of Web Workers (src/web/sweep-panel.ts)
// with a builder, and a Benchmark tab. All engine work happens in workers (src/web/worker.ts);
// this thread only validates, draws and exports. The state lives in the URL fragment
// (src/web/fragment.ts), so a link reproduces a view.
import { formatNumber } from "../core/number-format.js";
import { getPath, parsePath, setPath } from "../sweep/paths.js";
import { distributionSpec, metricsSpec, groupNamesOf, type ChartSpec, type Geometry } from "../core/charts.js";
import { compileWasm, type WasmSource } from "../core/engine.js";
import { flattenRow, toCsv } from "../core/csv.js";
import { toJson } from "../core/json.js";
import { presets, presetScenario } from "../core/presets.js";
import { parseScenario } from "../core/scenario.js";
import { VERSION } from "../core/version.js";
import { parseSweep } from "../sweep/spec.js";
import { sweepPresets, sweepPresetDocument } from "../sweep/presets.js";
import type { RunResult } from "../core/types.js";
import { nodeKernelTimes, type BrowserCase } from "./bench.js";
import { applyBuilder, baseScenario, builderAxes, scenarioParameterPaths, type AxisKind, type BuilderAxis } from "./builder.js";
import { fieldAt, fieldCurveSpec, withFieldArrows, type FieldSample } from "./flow-field.js";
import { decodeFragment, encodeFragment } from "./fragment.js";
import { loadWasmBytes } from "./index.js";
import { CancelledError, WorkerPool } from "./pool.js";
import { download, draw, exportChart, latestWins } from "./render.js";
import { retrainingModels, retrainingParameters, type RetrainingParameter } from "./retraining-fields.js";
import { exportSweepFigure, runSweep as runSweepOnPool, sweepRows, wireSweepView } from "./sweep-panel.js";

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
/** Starting settings when a model is chosen (its required parameters filled in); a model without one starts as `{ model }`. */
const RETRAINING_TEMPLATES: Record<string, Json> = {
  exact: { model: "exact" },
  histogram: { model: "histogram", samples: 10000, smoothing: 0 },
  gmm: { model: "gmm", samples: 10000, components: 2 },
  kde: { model: "kde", samples: 10000, bandwidth: 0.2 },
  // The flow presets' settings (docs/flow.md): the default network, tenths of a second a generation.
  flow: { model: "flow", samples: 2048, lr: 0.003 },
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
  /** Of those, frames that carried a flow network's field. */
  liveFields: 0,
  result: null as null | { result: RunResult; geometry: Geometry; p0: Float64Array; checksum: string; fields: FieldSample[] },
  frame: 0,
  playing: 0,
  builder: [] as BuilderAxis[],
  bench: new Map<string, BrowserCase>(),
  nodeBench: null as Map<string, number> | null,
};

let errorIds = 0;
/** The address's fragment as the page was opened; the page only rewrites it once that has been read. */
const openedWith = location.hash;
let fragmentRead = false;

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

/**
 * An input bound to a scenario path: numbers parse as numbers (NaN reaches the validator and is
 * named); "integers" is a list such as `64, 64`. An empty input removes the path (the
 * validator's default applies; `placeholder` shows it).
 */
function field(label: string, path: string, kind: "number" | "text" | "json" | "k" | "integers" = "number", title?: string, placeholder?: string): HTMLElement {
  const wrap = el("label", { class: "field" });
  wrap.append(el("span", { class: "label" }, label));
  const input = el("input", { "data-path": path, type: "text", spellcheck: "false" });
  if (title) input.title = title;
  if (placeholder) input.placeholder = placeholder;
  const v = getAt(state.scenario, path);
  input.value = v === undefined ? "" : kind === "json" ? JSON.stringify(v) : kind === "integers" && Array.isArray(v) ? v.join(", ") : String(v);
  input.addEventListener("change", () => {
    const raw = input.value.trim();
    let value: unknown = raw;
    if (raw === "") value = undefined;
    else if (kind === "number") value = Number(raw);
    else if (kind === "integers") value = raw.split(/[\s,]+/).filter(Boolean).map(Number);
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
  wrap.append(input, errorSlot(input, path));
  return wrap;
}

/** The error line of a control, linked to it with aria-describedby so a screen reader reads the message with the field. */
function errorSlot(control: HTMLElement, path: string): HTMLElement {
  const id = `err-${++errorIds}`;
  control.setAttribute("aria-describedby", id);
  return el("span", { class: "field-error", "data-error-for": path, id, "aria-live": "polite" });
}

/** A select bound to a scenario path; a current value outside `options` (typed in the JSON) is listed too, so the validator's message has something to point at. */
function select(label: string, path: string, options: readonly string[], onChange: (v: string) => void, current: string, title?: string): HTMLElement {
  const wrap = el("label", { class: "field" });
  wrap.append(el("span", { class: "label" }, label));
  const s = el("select", { "data-path": path });
  if (title) s.title = title;
  for (const o of options.includes(current) ? options : [current, ...options]) s.append(el("option", { value: o }, o));
  s.value = current;
  s.addEventListener("change", () => onChange(s.value));
  wrap.append(s, errorSlot(s, path));
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
    select("model", "retraining.model", retrainingModels, (v) => {
      s.retraining = structuredClone(RETRAINING_TEMPLATES[v] ?? { model: v });
      renderForm();
      onScenarioEdited();
    }, s.retraining.model ?? "exact"),
  );
  const params = retrainingParameters(s.retraining.model);
  for (const p of params) cur.append(retrainingControl(p));
  // Keys the model does not have (typed in the JSON) still get an input, beside the validator's message.
  for (const k of Object.keys(s.retraining)) if (k !== "model" && !params.some((p) => p.name === k)) cur.append(field(k, `retraining.${k}`, typeof s.retraining[k] === "number" ? "number" : "json"));
  cur.append(field("generations T", "generations"), field("record every", "record.every"), field("seed", "seed"), field("basin eps", "basinEpsilon"));
  form.append(cur);

  const groups = el("fieldset", { "data-path": "groups" });
  groups.append(el("legend", {}, "Preference groups"), el("span", { class: "field-error", "data-error-for": "groups", id: "err-groups", "aria-live": "polite" }));
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

/** The input of one parameter of the retraining model: its choices as a select, the rest as text with the default as placeholder. */
function retrainingControl(p: RetrainingParameter): HTMLElement {
  const path = `retraining.${p.name}`;
  const v = getAt(state.scenario, path);
  if (p.kind === "choice" || p.kind === "boolean") {
    const options = p.kind === "boolean" ? ["true", "false"] : p.options ?? [];
    return select(p.name, path, options, (chosen) => {
      setAt(state.scenario, path, p.kind === "boolean" ? chosen === "true" : chosen);
      onScenarioEdited();
    }, String(v ?? p.default), p.description);
  }
  const shown = Array.isArray(p.default) ? p.default.join(", ") : p.default;
  return field(p.name, path, p.kind, p.description, shown === undefined ? undefined : `default ${shown}`);
}

function syncJson(): void {
  $<HTMLTextAreaElement>("scenario-json").value = JSON.stringify(state.scenario, null, 2);
}

function clearErrors(): void {
  for (const e of document.querySelectorAll<HTMLElement>("#run-panel .field-error")) e.textContent = "";
  for (const e of document.querySelectorAll("#run-panel .invalid")) {
    e.classList.remove("invalid");
    e.removeAttribute("aria-invalid");
  }
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
      if (pattern.test(input.dataset.path ?? "")) {
        input.classList.add("invalid");
        input.setAttribute("aria-invalid", "true");
        // Each weight input also points at the one message about them all.
        const groupsSlot = document.querySelector<HTMLElement>('#run-panel [data-error-for="groups"]');
        if (groupsSlot) input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") ?? ""} ${groupsSlot.id}`.trim());
      }
    }
  }
  let p = path;
  while (p) {
    const slot = document.querySelector<HTMLElement>(`#run-panel [data-error-for="${CSS.escape(p)}"]`);
    if (slot) {
      slot.textContent = message;
      const control = document.querySelector(`#run-panel [data-path="${CSS.escape(p)}"]`);
      control?.classList.add("invalid");
      control?.setAttribute("aria-invalid", "true");
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
  updateLinks();
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
 * Draws the distribution chart, latest request wins, so the final frame of a run is never lost
 * behind a live one and a fast replay never queues up.
 */
const requestDraw = latestWins();

/**
 * Draws the distribution of one generation and, on a flow run, the network's learned field at
 * that generation (src/web/flow-field.ts): arrows over a 2-D heat map, a curve v(x) under a 1-D
 * density. The field's chart is hidden on other runs.
 */
async function paintDistribution(geometry: Geometry, spec: ChartSpec, fields: readonly FieldSample[], generation: number): Promise<void> {
  const { sample, note } = fieldAt(fields, generation);
  const fieldChart = $("field-chart");
  if (geometry.dim === 2) {
    await draw($("dist-chart"), withFieldArrows(spec, sample, note));
    fieldChart.hidden = true;
    return;
  }
  await draw($("dist-chart"), spec);
  fieldChart.hidden = !sample;
  if (sample) await draw(fieldChart, fieldCurveSpec(sample, spec.config as Record<string, unknown>));
}

function drawFrame(): Promise<void> {
  return requestDraw(async () => {
    const r = state.result;
    if (!r) return;
    const fs = frames();
    const f = fs[Math.min(state.frame, fs.length - 1)];
    const series = r.geometry.dim === 2 ? [{ label: `p_${f.generation}`, p: f.p }] : [{ label: "p_0", p: r.p0 }, { label: `p_${f.generation}`, p: f.p }];
    const spec = distributionSpec(r.geometry, f.generation === 0 ? series.slice(-1) : series, r.result.nash?.p, `p_t at generation ${f.generation} (red dashed: Nash p*)`);
    await paintDistribution(r.geometry, spec, r.fields, f.generation);
    $<HTMLInputElement>("frame").value = String(state.frame);
    setStatus("frame-label", `generation ${f.generation} / ${r.result.generationsRun}`);
  });
}

/** Draws p_t while a run goes on (frames from the worker, a few a second), with the flow network's field when the frame carries it. */
function drawLive(geometry: Geometry, generation: number, p: Float64Array, field?: FieldSample): Promise<void> {
  const spec = distributionSpec(geometry, [{ label: `p_${generation}`, p }], undefined, `p_t at generation ${generation} (running)`);
  return requestDraw(() => paintDistribution(geometry, spec, field ? [field] : [], generation));
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
        if (event.field) state.liveFields++;
        return void drawLive(event.geometry, event.generation, event.p, event.field);
      }
      progress.value = event.total ? event.done / event.total : 1;
      // The time a generation takes so far: a flow generation trains a network (tenths of a second).
      const each = event.done ? (performance.now() - started) / event.done : 0;
      setStatus("run-status", `generation ${event.done} / ${event.total}` + (each >= 1 ? ` (${each < 1000 ? `${each.toFixed(0)} ms` : `${(each / 1000).toFixed(1)} s`} each)` : ""));
    });
    if (reply.type !== "result") throw new Error("unexpected reply");
    progress.value = 1;
    state.result = { result: reply.result, geometry: reply.geometry, p0: reply.p0, checksum: reply.checksum, fields: reply.fields };
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

/**
 * Records as CSV with the CLI's writer (src/core/csv.ts): each record goes through toJson and
 * back, as the rows file does, then flattenRow names the columns (params.<path>,
 * final.basinMass[0], ...), their union in order of first appearance.
 */
function recordsCsv(records: readonly unknown[]): string {
  const flat = records.map((r) => flattenRow(JSON.parse(toJson(r))));
  const columns = new Map<string, number>();
  for (const f of flat) for (const k of f.keys()) if (!columns.has(k)) columns.set(k, columns.size);
  const keys = [...columns.keys()];
  return toCsv(keys, flat.map((f) => keys.map((k) => f.get(k))));
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
  $("export-csv").addEventListener("click", () => state.result && download(`${stamp()}-trajectory.csv`, new Blob([recordsCsv(state.result.result.trajectory)], { type: "text/csv" })));
  $("export-dist-svg").addEventListener("click", () => exportChart($("dist-chart"), `${stamp()}-distribution`, "svg"));
  $("export-dist-png").addEventListener("click", () => exportChart($("dist-chart"), `${stamp()}-distribution`, "png"));
  $("export-metrics-svg").addEventListener("click", () => exportChart($("metrics-chart"), `${stamp()}-metrics`, "svg"));
  $("export-metrics-png").addEventListener("click", () => exportChart($("metrics-chart"), `${stamp()}-metrics`, "png"));

  wireSweep(stamp);
  wireBench();

  const tabs = [...document.querySelectorAll<HTMLButtonElement>('nav [role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab.dataset.panel!));
    // ARIA tabs: arrow keys move between tabs, Home and End to the ends.
    tab.addEventListener("keydown", (ev) => {
      const to = ev.key === "ArrowRight" ? i + 1 : ev.key === "ArrowLeft" ? i - 1 : ev.key === "Home" ? 0 : ev.key === "End" ? tabs.length - 1 : null;
      if (to === null) return;
      ev.preventDefault();
      const t = tabs[(to + tabs.length) % tabs.length];
      selectTab(t.dataset.panel!);
      t.focus();
    });
  });
}

/** Shows one panel and marks its tab selected (the others leave the tab order). */
function selectTab(panel: string): void {
  for (const t of document.querySelectorAll<HTMLButtonElement>('nav [role="tab"]')) {
    const on = t.dataset.panel === panel;
    t.classList.toggle("active", on);
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
  }
  for (const p of document.querySelectorAll<HTMLElement>(".panel")) p.hidden = p.id !== panel;
  updateLinks();
}

/** The sweep document in the JSON editor, or null (with the parse error shown) when it does not parse. */
function sweepDoc(): Json | null {
  try {
    const doc = JSON.parse($<HTMLTextAreaElement>("sweep-json").value);
    return doc && typeof doc === "object" && !Array.isArray(doc) ? doc : null;
  } catch (e) {
    $("sweep-error").textContent = `sweep JSON does not parse: ${(e as Error).message}`;
    return null;
  }
}

/** Puts a sweep document in the JSON editor and the builder. */
function setSweepDoc(doc: Json): void {
  $<HTMLTextAreaElement>("sweep-json").value = JSON.stringify(doc, null, 2);
  state.builder = builderAxes(doc);
  $<HTMLInputElement>("builder-replicates").value = doc.replicates === undefined ? "" : String(doc.replicates);
  $<HTMLInputElement>("builder-seed").value = doc.seed === undefined ? "" : String(doc.seed);
  renderBuilder();
  checkSweep(doc);
}

/** Validates the document with parseSweep; shows the cell count, or the error by the builder row or the JSON it names. */
function checkSweep(doc: Json): boolean {
  $("sweep-error").textContent = "";
  for (const e of document.querySelectorAll<HTMLElement>("#builder .field-error")) e.textContent = "";
  for (const e of document.querySelectorAll("#builder [aria-invalid]")) e.removeAttribute("aria-invalid");
  $("sweep-json").removeAttribute("aria-invalid");
  try {
    const plan = parseSweep(doc);
    setStatus("builder-cells", `${plan.total.toLocaleString("en-US")} cells (${plan.dims.map((d) => d.length).join(" x ")}${plan.replicates > 1 ? ` x ${plan.replicates} replicates` : ""})`);
    updateLinks();
    return true;
  } catch (e) {
    const err = e as { message: string; field?: string };
    const axis = state.builder.findIndex((a) => err.field?.startsWith(`axes[${JSON.stringify(a.path)}]`));
    const slot = axis >= 0 ? document.getElementById(`builder-err-${axis}`) : null;
    if (slot) {
      slot.textContent = err.message;
      for (const c of document.querySelectorAll(`#builder-axis-${axis} input`)) c.setAttribute("aria-invalid", "true");
    } else {
      $("sweep-error").textContent = err.message;
      $("sweep-json").setAttribute("aria-invalid", "true");
    }
    setStatus("builder-cells", "");
    return false;
  }
}

/** Writes the builder into the JSON document and validates it. */
function builderChanged(): void {
  const doc = sweepDoc() ?? {};
  const next = applyBuilder(doc, state.builder, $<HTMLInputElement>("builder-replicates").value, $<HTMLInputElement>("builder-seed").value);
  $<HTMLTextAreaElement>("sweep-json").value = JSON.stringify(next, null, 2);
  checkSweep(next);
}

/** Draws the builder's axis rows: parameter, kind, values or start/stop/count, remove. */
function renderBuilder(): void {
  const box = $("builder-axes");
  box.replaceChildren();
  const doc = sweepDoc();
  const base = doc ? baseScenario(doc) : null;
  const paths = scenarioParameterPaths(base ?? state.scenario);
  state.builder.forEach((axis, i) => {
    const row = el("div", { class: "builder-axis", id: `builder-axis-${i}`, role: "group", "aria-label": `axis ${i + 1}` });
    const errId = `builder-err-${i}`;
    const control = <E extends HTMLElement>(e: E, label: string, onChange: (v: string) => void): E => {
      e.setAttribute("aria-label", `axis ${i + 1} ${label}`);
      e.setAttribute("aria-describedby", errId);
      e.addEventListener("change", () => {
        onChange((e as unknown as HTMLInputElement).value);
        builderChanged();
      });
      return e;
    };
    const pathSel = el("select");
    for (const p of new Set([axis.path, ...paths])) if (p) pathSel.append(el("option", { value: p }, p));
    pathSel.value = axis.path;
    const kindSel = el("select");
    for (const k of ["values", "linspace", "logspace"]) kindSel.append(el("option", { value: k }, k));
    kindSel.value = axis.kind;
    row.append(
      control(pathSel, "parameter", (v) => (axis.path = v)),
      control(kindSel, "kind", (v) => {
        axis.kind = v as AxisKind;
        renderBuilder();
      }),
    );
    const input = (key: "values" | "start" | "stop" | "count", placeholder: string, size: number) => {
      const e = el("input", { type: "text", placeholder, size: String(size), spellcheck: "false" });
      e.value = axis[key];
      return control(e, key, (v) => (axis[key] = v));
    };
    if (axis.kind === "values") row.append(input("values", "0.1, 0.5, inf", 16));
    else row.append(input("start", axis.kind === "logspace" ? "from 10^" : "start", 5), input("stop", axis.kind === "logspace" ? "to 10^" : "stop", 5), input("count", "count", 4));
    const remove = el("button", { type: "button", class: "small", "aria-label": `remove axis ${i + 1}` }, "remove");
    remove.addEventListener("click", () => {
      state.builder.splice(i, 1);
      renderBuilder();
      builderChanged();
    });
    row.append(remove, el("span", { class: "field-error", id: errId, "aria-live": "polite" }));
    box.append(row);
  });
}

function wireSweep(stamp: () => string): void {
  const presetSel = $<HTMLSelectElement>("sweep-preset");
  presetSel.append(el("option", { value: "" }, "(the page's example)"));
  for (const [name, p] of Object.entries(sweepPresets)) presetSel.append(el("option", { value: name, title: p.description }, name));
  presetSel.addEventListener("change", () => {
    const name = presetSel.value;
    setStatus("sweep-preset-description", name ? sweepPresets[name].description : "");
    setSweepDoc(name ? sweepPresetDocument(name) : JSON.parse(defaultSweepText()));
  });
  $("builder-add").addEventListener("click", () => {
    const doc = sweepDoc();
    const base = (doc && baseScenario(doc)) ?? state.scenario;
    const used = new Set(state.builder.map((a) => a.path));
    const path = scenarioParameterPaths(base).find((p) => !used.has(p)) ?? "";
    state.builder.push({ path, kind: "linspace", values: "", start: "0.1", stop: "0.9", count: "5" });
    renderBuilder();
    builderChanged();
  });
  $("builder-base").addEventListener("click", () => {
    const doc = sweepDoc() ?? {};
    doc.base = structuredClone(state.scenario);
    setSweepDoc(doc);
  });
  for (const id of ["builder-replicates", "builder-seed"]) $(id).addEventListener("change", builderChanged);
  $("sweep-json").addEventListener("change", () => {
    const doc = sweepDoc();
    if (doc) setSweepDoc(doc);
  });
  $<HTMLInputElement>("sweep-workers").value = String(pool.size);
  $("sweep-run").addEventListener("click", () => {
    const doc = sweepDoc();
    if (!doc || !checkSweep(doc)) return;
    const workers = Math.max(1, Math.min(64, Math.floor(Number($<HTMLInputElement>("sweep-workers").value)) || pool.size));
    runSweep(doc, workers).catch(() => undefined);
  });
  $("sweep-cancel").addEventListener("click", () => pool.cancel());
  wireSweepView();
  $("sweep-export-jsonl").addEventListener("click", () => download(`${stamp()}-sweep.jsonl`, new Blob([sweepRows().map((r) => toJson(r)).join("\n") + "\n"], { type: "application/x-ndjson" })));
  $("sweep-export-csv").addEventListener("click", () => download(`${stamp()}-sweep.csv`, new Blob([recordsCsv(sweepRows())], { type: "text/csv" })));
  $("sweep-export-svg").addEventListener("click", () => exportSweepFigure(stamp(), "svg"));
  $("sweep-export-png").addEventListener("click", () => exportSweepFigure(stamp(), "png"));
  setSweepDoc(JSON.parse(defaultSweepText()));
}

/** The benchmark table: every case run here or in the loaded Node file, with the Node/browser ratio. */
function renderBench(): void {
  const names = [...new Set([...state.bench.keys(), ...(state.nodeBench?.keys() ?? [])])].filter((n) => n.startsWith("kinf:") || n.startsWith("finitek:"));
  const fmt = (v: number | undefined) => (v === undefined ? "-" : formatNumber(v, { digits: 3, small: 0.01, exponentDigits: 2 }));
  const body = document.querySelector("#bench-table tbody")!;
  body.replaceChildren(
    ...names.map((name) => {
      const b = state.bench.get(name)?.wasmMs;
      const n = state.nodeBench?.get(name);
      const tr = el("tr");
      tr.append(el("th", { scope: "row" }, name), el("td", {}, fmt(b)), el("td", {}, fmt(n)), el("td", {}, b !== undefined && n !== undefined ? (n / b).toFixed(2) : "-"));
      return tr;
    }),
  );
}

function wireBench(): void {
  $("bench-run").addEventListener("click", async () => {
    const button = $<HTMLButtonElement>("bench-run");
    button.disabled = true;
    state.bench.clear();
    const progress = $<HTMLProgressElement>("bench-progress");
    progress.value = 0;
    setStatus("bench-status", "running the kernel suite in a Web Worker...");
    const started = performance.now();
    try {
      const size = $<HTMLSelectElement>("bench-size").value as "quick" | "full";
      await pool.submit({ type: "bench", size }, (event) => {
        if (event.type !== "bench-case") return;
        state.bench.set(event.case.name, event.case);
        progress.value = event.done / event.total;
        setStatus("bench-status", `${event.done} / ${event.total} cases`);
        renderBench();
      });
      setStatus("bench-status", `${state.bench.size} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; ${navigator.userAgent}`);
    } catch (e) {
      setStatus("bench-status", e instanceof CancelledError ? "cancelled" : `failed: ${(e as Error).message}`);
    } finally {
      button.disabled = false;
    }
  });
  $("bench-file").addEventListener("change", async () => {
    const file = $<HTMLInputElement>("bench-file").files?.[0];
    $("bench-error").textContent = "";
    $("bench-file").removeAttribute("aria-invalid");
    if (!file) return;
    try {
      state.nodeBench = nodeKernelTimes(JSON.parse(await file.text()));
      renderBench();
    } catch (e) {
      $("bench-error").textContent = `${file.name}: ${(e as Error).message}`;
      $("bench-file").setAttribute("aria-invalid", "true");
    }
  });
}

/** Points the page's links (and its own address) at the scenario or the sweep on show. */
function updateLinks(): void {
  const runLink = encodeFragment("scenario", state.scenario);
  $<HTMLAnchorElement>("run-link").href = runLink;
  let sweepLink: string | null = null;
  try {
    sweepLink = encodeFragment("sweep", JSON.parse($<HTMLTextAreaElement>("sweep-json").value));
    $<HTMLAnchorElement>("sweep-link").href = sweepLink;
  } catch {
    // A half-typed document keeps the last link.
  }
  const onSweep = !$("sweep-panel").hidden;
  const wanted = onSweep ? sweepLink : $("run-panel").hidden ? null : runLink;
  if (fragmentRead && wanted && location.hash !== wanted) history.replaceState(null, "", wanted);
}

/** Opens what the address's fragment names (a scenario or a sweep) and, with &run=1, runs it. */
async function openFragment(): Promise<void> {
  fragmentRead = true;
  if (!openedWith) return;
  let asked;
  try {
    asked = decodeFragment(openedWith);
  } catch (e) {
    $("scenario-error").textContent = (e as Error).message;
    return;
  }
  if (asked.sweep !== undefined) {
    selectTab("sweep-panel");
    setSweepDoc(asked.sweep as Json);
    if (asked.workers) $<HTMLInputElement>("sweep-workers").value = String(asked.workers);
    if (asked.run && checkSweep(asked.sweep as Json)) await runSweep(asked.sweep, asked.workers).catch(() => undefined);
  } else if (asked.scenario !== undefined) {
    state.scenario = asked.scenario as Json;
    renderForm();
    const ok = validate();
    updateLinks();
    if (asked.run && ok) await runScenario(state.scenario, true).catch(() => undefined);
  }
}

/** Runs a sweep on the pool (resized to `workers` when given). */
function runSweep(spec: unknown, workers?: number) {
  return runSweepOnPool(
    {
      pool: (n) => {
        if (n && n !== pool.size) {
          pool.destroy();
          pool = makePool(n);
        }
        return pool;
      },
    },
    spec,
    workers,
  );
}

/** What the test hook returns about a run: its checksum and what the page showed while it went on. */
interface RunSummary {
  checksum: string;
  generationsRun: number;
  nashGap: number;
  /** The engine's time for the run, in the worker. */
  elapsedMs: number;
  /** p_t frames drawn while the run went on. */
  liveFrames: number;
  /** Of those, frames that carried the flow network's field. */
  liveFields: number;
  /** A flow run's sampled fields as the worker sent them: generation, t, values per sample and whether all are finite. */
  fields: { generation: number; t: number; values: number; finite: boolean }[];
}

/** Runs the scenario in the form (no replay snapshots) and says what the page showed. */
async function runForTest(): Promise<RunSummary> {
  const before = state.liveFrames;
  const beforeFields = state.liveFields;
  const { checksum, result } = await runScenario(state.scenario, false);
  return {
    checksum,
    generationsRun: result.generationsRun,
    nashGap: result.final.nashGap,
    elapsedMs: result.elapsedMs,
    liveFrames: state.liveFrames - before,
    liveFields: state.liveFields - beforeFields,
    fields: (state.result?.fields ?? []).map((f) => ({ generation: f.generation, t: f.t, values: f.v.length, finite: f.v.every(Number.isFinite) })),
  };
}

declare global {
  interface Window {
    /** Test hook (test/browser-equivalence.test.ts): runs presets and sweeps and returns checksums. */
    plurisim: {
      ready: Promise<void>;
      info?: { version: string; wasmSha256: string; workers: number };
      runPreset(name: string): Promise<RunSummary>;
      /** Loads a scenario object into the form and runs it as the Run button does, without the replay snapshots. */
      runScenario(scenario: unknown): Promise<RunSummary>;
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
  // Not awaited: `ready` means the page can be driven, and a sweep from the link may run for minutes.
  void openFragment();
}

window.plurisim = {
  ready: Promise.resolve(),
  async runPreset(name) {
    await window.plurisim.ready;
    state.scenario = presetScenario(name);
    $<HTMLSelectElement>("preset").value = name;
    renderForm();
    validate();
    return runForTest();
  },
  async runScenario(scenario) {
    await window.plurisim.ready;
    state.scenario = structuredClone(scenario) as Json;
    renderForm();
    validate();
    return runForTest();
  },
  lastJson() {
    return { run: state.result ? toJson(state.result.result) : null, rows: toJson(sweepRows()) };
  },
  async runSweep(spec, workers) {
    await window.plurisim.ready;
    selectTab("sweep-panel");
    setSweepDoc(spec as Json);
    const { checksum, rows } = await runSweep(spec, workers);
    return { checksum, cells: rows.length, failed: rows.filter((r) => r.status !== "ok").length };
  },
};
window.plurisim.ready = start().catch((e) => {
  $("engine-stamp").textContent = `failed to start: ${(e as Error).message}`;
  throw e;
});
