// Shapes that cross module boundaries: the compiled problem the engine runs, the result object
// that `engine.run` returns (what `plurisim run --json` prints), and the row a sweep writes per
// cell. Symbols follow docs/model.md: q, tau, K, w, Z, nashGap, basinMass.
import type { Audit, AuditCheck } from "./audit.js";
import type { ErrorCode } from "./errors.js";
import type { Scenario } from "./scenario.js";

/** A scenario after validation and discretisation: plain arrays, ready for the kernels. */
export interface Problem {
  /** Number of atoms. */
  n: number;
  /** Number of preference groups. */
  m: number;
  /** 1 for grid1d, 2 for grid2d, 0 for abstract atoms without coordinates, 1 or 2 for atoms with coords. */
  dim: 0 | 1 | 2;
  /** Atom coordinates, atom-major: coords[x * dim + d]. Empty when dim = 0. */
  coords: Float64Array;
  /** Cell width of a 1-D grid (for w1ToNash); null otherwise. */
  cellWidth: number | null;
  /** Grid shape for 2-D grids ([cells_x, cells_y], atom index = ix * cells_y + iy); null otherwise. */
  gridShape: [number, number] | null;
  /** Initial distribution p_0 (sums to 1). */
  p0: Float64Array;
  /** Group weights q_i (sum to 1). */
  q: Float64Array;
  /** Group names (defaulting to "g0", "g1", ...). */
  groupNames: string[];
  /** Rewards, group-major: r[i * n + x]. */
  r: Float64Array;
  /** Curation temperature tau > 0. */
  tau: number;
  /** Candidates per curated sample: an integer >= 2, or Infinity. */
  K: number;
  mixing: "per-sample" | "per-generation";
  /** Real-data fraction lambda in [0, 1). */
  lambda: number;
  /** Real-data distribution p_data (sums to 1). */
  pData: Float64Array;
  generations: number;
  recordEvery: number;
  /** Generations at which a copy of p is kept. */
  snapshots: number[];
  /** Stop early once the L1 change between generations is below this; null = never. */
  earlyStopTolerance: number | null;
  /** Stop early once nashGap(p_t) is at most this (K = infinity, per-sample, exact); null = never. */
  earlyStopNashGap: number | null;
  /** Basin width eps (docs/model.md, section 5). */
  basinEpsilon: number;
  seed: number;
  /** How the model is retrained each generation; "exact" is the population update. */
  retraining: RetrainingSpec;
}

export type RetrainingSpec =
  | { model: "exact" }
  | { model: "histogram"; samples: number; smoothing: number }
  | { model: "gmm"; samples: number; components: number; varianceFloor: number; emIterations: number }
  | { model: "kde"; samples: number; bandwidth: number }
  | FlowSpec;

/** The flow model's settings (docs/flow.md). */
export interface FlowSpec {
  model: "flow";
  samples: number;
  /** Hidden layer widths of the MLP vector field. */
  hidden: number[];
  activation: "silu" | "tanh";
  /** Adam learning rate, steps per generation and minibatch size. */
  lr: number;
  steps: number;
  batch: number;
  /** Keep the previous generation's weights (true) or re-initialise them each generation. */
  warmStart: boolean;
  odeSteps: number;
  solver: "euler" | "heun";
  coupling: "independent" | "ot";
  /** K = infinity: network samples resampled per generation, as a multiple of the curated count. */
  poolFactor: number;
}

/** The per-group metrics of Metrics (arrays indexed by group). */
export const GROUP_METRICS = ["expectedReward", "rewardVariance", "logPartition", "basinMass"] as const;

/** The scalar metrics of Metrics: the *ToNash ones come with the Nash solution, supportSize and lostBasins with finite-sample runs. */
export const SCALAR_METRICS = [
  "nashWelfare", "nashGap", "entropy", "effectiveSupport", "outsideMass", "klFromInitial", "l1Step", "massDefect",
  "tvToNash", "klToNash", "w1ToNash", "supportSize", "lostBasins", "tvToExact",
] as const;

/** Metrics at one generation; arrays are indexed by group. */
export interface Metrics {
  generation: number;
  expectedReward: number[];
  rewardVariance: number[];
  logPartition: number[];
  nashWelfare: number;
  nashGap: number;
  entropy: number;
  effectiveSupport: number;
  basinMass: number[];
  outsideMass: number;
  klFromInitial: number;
  l1Step: number;
  massDefect: number;
  tvToNash?: number;
  klToNash?: number;
  w1ToNash?: number;
  supportSize?: number;
  lostBasins?: number;
  /** Finite-sample runs with tvToExact: total variation distance to the exact model's p_t. */
  tvToExact?: number;
}

export interface NashSolution {
  p: number[];
  /** F(p*) = sum_i q_i log E_{p*}[e^{r_i/tau}], on the scale of the trajectory's nashWelfare (docs/model.md, section 4). */
  welfare: number;
  /** p*(S_i) for each group's basin, and p* outside every basin. */
  basinMass: number[];
  outsideMass: number;
  /** nashGap(p*), a certificate: F* - F(p*) <= gap. */
  gap: number;
  iterations: number;
  method: string;
}

export interface EngineInfo {
  version: string;
  wasmSha256: string;
}

/** The audit of a run: the landscape's audit and which of its predictions the run bore out. */
export type RunAudit = Audit & { check: AuditCheck };

export interface RunResult {
  engine: EngineInfo;
  /** The validated scenario that ran; null when a compiled problem was run without it. */
  scenario: Scenario | null;
  trajectory: Metrics[];
  final: Metrics & { p?: number[] };
  snapshots?: { generation: number; p: number[] }[];
  nash?: NashSolution;
  audit?: RunAudit;
  /** Largest mass defect |1 - sum p_{t+1}| seen over the run, before renormalisation. */
  maxMassDefect: number;
  generationsRun: number;
  stoppedEarly: boolean;
  elapsedMs: number;
  /** Threads that shared the passes (RunOptions.passRanges), when more than this one did. */
  threads?: number;
}

/** The metrics a sweep row keeps of one generation: those keep.metrics names (all by default). */
export type RowMetrics = Partial<Metrics>;

/** The Nash solution a row keeps: p* itself stays out (it has n entries). */
export type RowNash = Pick<NashSolution, "welfare" | "gap" | "basinMass" | "outsideMass">;

/** The audit a row keeps: the two-basin quantities and whether the run bore out each prediction. */
export type RowAudit = Pick<Audit, "applicable" | "delta" | "Delta" | "kappa" | "qWindow" | "interval"> & {
  held?: AuditCheck["held"];
  intervalWithSlack?: [number, number];
};

/**
 * The code of a failed cell: a PlurisimError's code, ERROR for any other exception, WORKER_DIED
 * when the thread running the cell died, QUEUE_FAILED when the queue gave up on its job.
 */
export type RowErrorCode = ErrorCode | "ERROR" | "WORKER_DIED" | "QUEUE_FAILED";

/** What every row carries: where the cell sits in the sweep, and how long it took (the only timing field). */
interface RowBase {
  cell: number;
  replicate: number;
  /** The parameters the sweep set for this cell (path -> value). */
  params: Record<string, unknown>;
  seed: number;
  durationMs: number;
}

/** A cell that ran: what the sweep's keep asked for. */
export interface OkRow extends RowBase {
  status: "ok";
  final?: RowMetrics;
  /** Metrics at the kept generations, keyed by generation; null where the run stopped before. */
  at?: Record<string, RowMetrics | null>;
  generationsRun?: number;
  stoppedEarly?: boolean;
  maxMassDefect?: number;
  nash?: RowNash;
  audit?: RowAudit;
}

/** A cell that failed: its message, code and field; the sweep goes on. */
export interface ErrorRow extends RowBase {
  status: "error";
  error: string;
  errorCode: RowErrorCode;
  errorField?: string;
}

/** One result line of a sweep (docs/sweep.md), the same from Piscina, the queue and the page. */
export type Row = OkRow | ErrorRow;
