/**
 * `--backend auto`: tries every backend, keeps those that start and pass their numeric self-test, times a
 * few training steps on each, and picks the fastest.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { predictGuided } from "../predict/guided.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  type BackendVerdict,
  initializeBackend,
  verifyBackend,
} from "./backend.ts";
import { createModel } from "./network.ts";
import { describeSelfTest } from "./self_test.ts";
import { trainTrack2Seq } from "./train.ts";
import type { WorkloadShape } from "./webgpu.ts";

/**
 * The shapes of the timed probe. Fields left out take {@linkcode DEFAULT_PROBE}: the training defaults
 * (batch 32, window 50, embedding and hidden width 128) with a sampled softmax over 10,000 tokens.
 */
export interface ProbeSettings {
  vocabSize: number;
  softmax: "full" | "sampled";
  batchSize: number;
  window: number;
  embeddingSize: number;
  hiddenUnits: number;
  /** Training steps timed after one warm-up step. */
  timedSteps: number;
  /** Playlists predicted together in the prediction probe, 5 seeds each. */
  predictionPlaylists: number;
  /** Prediction steps after the seeds. */
  predictionSteps: number;
}

/** Default probe: training-shaped, with a vocabulary large enough that the output layer dominates. */
export const DEFAULT_PROBE: ProbeSettings = {
  vocabSize: 10_000,
  softmax: "sampled",
  batchSize: 32,
  window: 50,
  embeddingSize: 128,
  hiddenUnits: 128,
  timedSteps: 2,
  predictionPlaylists: 16,
  predictionSteps: 3,
};

/** Speeds measured by the probe on one backend. */
export interface ProbeResult {
  /** Training tokens per second over the timed steps, or over the warm-up step when no step was timed. */
  trainingTokensPerSecond: number;
  /** Training steps timed after the warm-up step; 0 when the probe stopped after the warm-up step. */
  timedSteps: number;
  /**
   * Predicted playlist-steps per second, first call included (compilation and warm-up). Undefined when the
   * probe stopped after the warm-up step.
   */
  predictionStepsPerSecond?: number;
  /** Wall time of the whole probe, in seconds. */
  seconds: number;
}

/**
 * A candidate whose warm-up training step takes longer than this many times the fastest timed step so far
 * is not timed further: it cannot win, and the plain-JavaScript cpu backend would otherwise spend tens of
 * seconds on the probe.
 */
export const SLOWER_CUTOFF = 4;

/** The verdict of `auto` on one backend. */
export interface CandidateReport {
  backend: BackendName;
  /** `chosen`: the fastest; `passed`: usable but slower; `rejected`: not usable. */
  outcome: "chosen" | "passed" | "rejected";
  /** The reason the backend was chosen, not chosen or rejected, in one sentence. */
  reason: string;
  verdict?: BackendVerdict;
  probe?: ProbeResult;
}

/** The backend that `auto` chose, active when {@linkcode chooseBackend} returns, with a report per candidate. */
export interface BackendSelection {
  backend: BackendName;
  /** The name under which TensorFlow.js registered the chosen backend. */
  registered: string;
  reports: CandidateReport[];
}

/** Options of {@linkcode chooseBackend}. */
export interface ChooseBackendOptions {
  /** Folder whose `node_modules` contains the native packages. Default: the working folder. */
  projectRoot: string;
  /** Backends to try, in order. Default: all, {@linkcode BACKEND_NAMES}. */
  candidates: readonly BackendName[];
  /** The run's shapes, checked against the webgpu adapter's buffer limit. Default: not checked. */
  workload?: WorkloadShape;
  /** Probe shapes; fields left out take {@linkcode DEFAULT_PROBE}. */
  probe: Partial<ProbeSettings>;
  /** Accept a software (fallback) WebGPU adapter, for diagnostics. Default false. */
  allowFallbackAdapter?: boolean;
  /** Called after each candidate is judged, for progress output. */
  onCandidate?: (report: CandidateReport) => void;
}

/**
 * Picks the fastest backend that works: each candidate must start, pass its numeric self-test (and, on
 * webgpu, the adapter and buffer-size checks), and run the training and prediction probe without an error.
 * The one with the most training tokens/s in the probe is chosen and left active.
 *
 * Timings vary from run to run, so two backends of similar speed may swap places between runs. Record
 * `backend` of the result with any output, and pass it by name to reproduce a run.
 *
 * @throws {Error} when no candidate works, listing every candidate's reason.
 */
export async function chooseBackend(options: Partial<ChooseBackendOptions> = {}): Promise<BackendSelection> {
  const projectRoot = options.projectRoot ?? Deno.cwd();
  const candidates = options.candidates ?? BACKEND_NAMES;
  const probe = { ...DEFAULT_PROBE, ...options.probe };
  const reports: CandidateReport[] = [];

  let fastestStepSeconds = Infinity;
  for (const backend of candidates) {
    const report = await judgeCandidate(backend, projectRoot, probe, {
      workload: options.workload,
      allowFallbackAdapter: options.allowFallbackAdapter,
      cutoffSeconds: fastestStepSeconds * SLOWER_CUTOFF,
    });
    if (report.probe !== undefined && report.probe.timedSteps > 0) {
      const tokensPerStep = probe.batchSize * probe.window;
      fastestStepSeconds = Math.min(fastestStepSeconds, tokensPerStep / report.probe.trainingTokensPerSecond);
    }
    reports.push(report);
    options.onCandidate?.(report);
  }

  const passed = reports.filter((report) => report.probe !== undefined && report.outcome !== "rejected");
  if (passed.length === 0) {
    const reasons = reports.map((report) => `${report.backend}: ${report.reason}`).join("\n");
    throw new Error(`Choosing a backend failed: no candidate passed.\n${reasons}`);
  }

  const speed = (report: CandidateReport) => report.probe?.trainingTokensPerSecond ?? 0;
  const chosen = passed.reduce((best, report) => speed(report) > speed(best) ? report : best);
  chosen.outcome = "chosen";
  const others = passed.filter((report) => report !== chosen);
  chosen.reason = others.length === 0
    ? `the only backend that passed, ${formatSpeed(chosen)}`
    : `the fastest that passed, ${formatSpeed(chosen)}, ` +
      others.map((report) => `${(speed(chosen) / speed(report)).toFixed(1)}x ${report.backend}`).join(", ");
  for (const report of others) {
    const stopped = report.probe?.timedSteps === 0
      ? ` (its warm-up step took over ${SLOWER_CUTOFF}x the fastest step, so the probe stopped there)`
      : "";
    report.reason = `slower: ${formatSpeed(report)} against ${speed(chosen).toFixed(0)} on ` +
      `${chosen.backend}${stopped}`;
  }

  await initializeBackend(chosen.backend, projectRoot);
  return { backend: chosen.backend, registered: tf.getBackend(), reports };
}

/** Formats one line per candidate: name, outcome and reason. */
export function describeSelection(selection: BackendSelection): string[] {
  return [
    `backend auto: chose ${selection.backend}`,
    ...selection.reports.map((report) => `  ${report.backend}: ${report.outcome}, ${report.reason}`),
  ];
}

/** Checks one candidate, then probes it when it passed. The outcome is `passed` or `rejected`. */
async function judgeCandidate(
  backend: BackendName,
  projectRoot: string,
  probe: ProbeSettings,
  limits: { workload?: WorkloadShape; allowFallbackAdapter?: boolean; cutoffSeconds: number },
): Promise<CandidateReport> {
  const verdict = await verifyBackend(backend, projectRoot, limits);
  if (!verdict.ok) return { backend, outcome: "rejected", reason: verdict.reason, verdict };

  try {
    const result = await probeActiveBackend(probe, limits.cutoffSeconds);
    const selfTest = verdict.selfTest
      ? `${describeSelfTest(verdict.selfTest, verdict.selfTest.reference)}; `
      : "";
    return {
      backend,
      outcome: "passed",
      reason: `${selfTest}${formatSpeed({ probe: result })}`,
      verdict,
      probe: result,
    };
  } catch (error) {
    return {
      backend,
      outcome: "rejected",
      reason: `the self-test passed, but the training and prediction probe failed: ${
        (error as Error).message
      }`,
      verdict,
    };
  }
}

/**
 * Times training and prediction on the active backend: one warm-up training step, then `timedSteps` timed
 * steps, then one guided prediction call. When the warm-up step takes longer than `cutoffSeconds`, the probe
 * stops after it and reports its speed, warm-up included.
 */
export async function probeActiveBackend(
  settings: ProbeSettings = DEFAULT_PROBE,
  cutoffSeconds = Infinity,
): Promise<ProbeResult> {
  const started = performance.now();
  const { vocabSize, batchSize, window } = settings;

  // Popularity-skewed tokens, as in playlists, from a fixed linear congruential generator.
  let state = 12345;
  const steps = 1 + settings.timedSteps;
  const tokens = Int32Array.from({ length: batchSize * window * steps + 1 }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return 2 + Math.floor((state / 2 ** 32) ** 2 * (vocabSize - 2));
  });
  const options = {
    batchSize,
    window,
    embeddingSize: settings.embeddingSize,
    hiddenUnits: settings.hiddenUnits,
    softmax: settings.softmax,
    seed: 1,
  };

  const warm = await trainTrack2Seq(tokens, vocabSize, { ...options, maxSteps: 1 });
  const warmSeconds = (performance.now() - started) / 1000;
  if (warmSeconds > cutoffSeconds) {
    warm.model.dispose();
    warm.optimizer.dispose();
    return { trainingTokensPerSecond: warm.tokensPerSecond, timedSteps: 0, seconds: warmSeconds };
  }
  const timed = await trainTrack2Seq(tokens, vocabSize, { ...options, maxSteps: steps, resumeFrom: warm });
  timed.model.dispose();
  timed.optimizer.dispose();

  const model = createModel(
    { vocabSize, embeddingSize: settings.embeddingSize, hiddenUnits: settings.hiddenUnits },
    1,
  );
  try {
    const seeds = Array.from(
      { length: settings.predictionPlaylists },
      (_, playlist) =>
        Int32Array.from({ length: 5 }, (_, i) => 2 + ((playlist * 7 + i * 13) % (vocabSize - 2))),
    );
    const predictionStarted = performance.now();
    await predictGuided(model, seeds, {
      steps: settings.predictionSteps,
      batchSize: settings.predictionPlaylists,
      count: 10,
      topK: 10,
    });
    const predictionSeconds = (performance.now() - predictionStarted) / 1000;
    // Each playlist advances through the end-of-playlist token, its 5 seeds and the prediction steps.
    const playlistSteps = settings.predictionPlaylists * (1 + 5 + settings.predictionSteps);
    return {
      trainingTokensPerSecond: timed.tokensPerSecond,
      timedSteps: settings.timedSteps,
      predictionStepsPerSecond: playlistSteps / predictionSeconds,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    model.dispose();
  }
}

function formatSpeed(report: { probe?: ProbeResult }): string {
  const probe = report.probe as ProbeResult;
  const training = `${probe.trainingTokensPerSecond.toFixed(0)} training tokens/s`;
  return probe.predictionStepsPerSecond === undefined
    ? training
    : `${training}, ${probe.predictionStepsPerSecond.toFixed(0)} prediction playlist-steps/s`;
}
