/**
 * Measures training and prediction speed on every TensorFlow.js backend that starts here, so a machine with
 * a GPU can be checked in one run: `tensorflow` (native TensorFlow through @tensorflow/tfjs-node-gpu or
 * @tensorflow/tfjs-node), `webgpu`, `wasm` and `cpu`. Each backend first runs its numeric self-test, and
 * webgpu also its adapter and buffer-size checks. A backend that does not start or fails a check is reported
 * with the reason and skipped. `auto` in the list prints which backend `--backend auto` would choose and why.
 *
 * Each measurement stops after about `--seconds`, so with the defaults the whole run takes a few minutes.
 * The cpu backend, plain JavaScript, runs fewer steps in that time.
 *
 * Usage: deno run -A tasks/gpu_check.ts [--backends tensorflow,webgpu,wasm,cpu] [--vocab 20000]
 *        [--seconds 30] [--softmax full] [--playlists 64] [--predict-steps 600] [--allow-fallback-adapter]
 */

import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { log } from "../lib/cli/progress.ts";
import { chooseBackend, describeSelection } from "../lib/model/auto_backend.ts";
import { BACKEND_NAMES, type BackendName, parseBackendChoice, verifyBackend } from "../lib/model/backend.ts";
import { describeSelfTest } from "../lib/model/self_test.ts";
import { trainTrack2Seq } from "../lib/model/train.ts";
import { createModel } from "../lib/model/network.ts";
import { predictGuided } from "../lib/predict/guided.ts";
import { createRandom } from "../lib/util/random.ts";

const HELP = `Usage: deno run -A tasks/gpu_check.ts [options]

Prints the self-test result, training tokens/s and prediction playlists/s on each TensorFlow.js backend
that starts, and the reason for each backend that does not.

Options:
  --backends LIST    comma-separated backends to try, in order: tensorflow, webgpu, wasm, cpu, and
                     auto, which prints the backend that --backend auto chooses and why, then
                     measures it. Default: tensorflow,webgpu,wasm,cpu.
  --vocab N          vocabulary size of the model. Default: 20000.
  --seconds S        time budget of each measurement, in seconds. Default: 30.
  --softmax KIND     training loss: full or sampled (1,000 negatives). Default: full.
  --playlists N      playlists predicted together, 10 seeds each. Default: 64.
  --predict-steps N  prediction steps after the seeds, fewer when the budget is short. Default: 600.
  --allow-fallback-adapter  measure webgpu on a software (fallback) adapter too, for diagnostics.
  -h, --help         show this help.
`;

const BATCH = 32;
const WINDOW = 50;
const SEEDS_PER_PLAYLIST = 10;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: BACKEND_NAMES.join(",") },
    vocab: { type: "string", default: "20000" },
    seconds: { type: "string", default: "30" },
    softmax: { type: "string", default: "full" },
    playlists: { type: "string", default: "64" },
    "predict-steps": { type: "string", default: "600" },
    "allow-fallback-adapter": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}

const requested = values.backends.split(",").map((name) => name.trim());
const backends = requested.map((name) => {
  try {
    return parseBackendChoice(name, "--backends entry");
  } catch (error) {
    fail((error as Error).message);
  }
});
const vocab = positiveInteger(values.vocab, "--vocab");
const seconds = Number(values.seconds);
const playlists = positiveInteger(values.playlists, "--playlists");
const predictSteps = positiveInteger(values["predict-steps"], "--predict-steps");
const softmax = values.softmax;
if (!(seconds > 0)) fail(`Invalid --seconds "${values.seconds}": use a positive number.`);
if (softmax !== "full" && softmax !== "sampled") fail(`Invalid --softmax "${softmax}": use full or sampled.`);
if (vocab < 3) fail(`Invalid --vocab "${values.vocab}": use at least 3.`);

const root = resolve(new URL("..", import.meta.url).pathname);
const started = performance.now();
log(
  `gpu_check: V=${vocab}, ${softmax} softmax, batch ${BATCH} x ${WINDOW} tokens, ${seconds} s per measurement`,
);
const workload = {
  vocabSize: vocab,
  softmax: softmax as "full" | "sampled",
  batchSize: BATCH,
  window: WINDOW,
  predictionBatch: playlists,
};
const allowFallbackAdapter = values["allow-fallback-adapter"];
const measured = new Set<BackendName>();
for (const choice of backends) {
  let name: BackendName;
  if (choice === "auto") {
    try {
      const selection = await chooseBackend({
        projectRoot: root,
        workload,
        allowFallbackAdapter,
        probe: { vocabSize: vocab, softmax: workload.softmax, batchSize: BATCH, window: WINDOW },
      });
      for (const line of describeSelection(selection)) console.log(line);
      name = selection.backend;
    } catch (error) {
      console.log(`auto: ${(error as Error).message}`);
      continue;
    }
  } else {
    name = choice;
  }
  if (measured.has(name)) continue;
  measured.add(name);
  await measureBackend(name);
}
log(`gpu_check: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);

/** Checks one backend, then prints its training and prediction speed, or why it could not be measured. */
async function measureBackend(name: BackendName): Promise<void> {
  const verdict = await verifyBackend(name, root, { workload, allowFallbackAdapter });
  if (!verdict.ok) {
    console.log(`${name}: not available: ${verdict.reason}`);
    return;
  }
  const registered = tf.getBackend();
  if (verdict.selfTest) {
    console.log(`${name} (${registered}): ${describeSelfTest(verdict.selfTest, verdict.selfTest.reference)}`);
  }

  try {
    const training = await measureTraining();
    const timing = training.warmupSteps === 0
      ? "1 step, its warm-up included, because one step takes longer than --seconds"
      : `${training.steps} steps after ${training.warmupSteps} warm-up steps`;
    console.log(
      `${name} (${registered}): training ${training.tokensPerSecond.toFixed(0)} tokens/s (${timing})`,
    );
  } catch (error) {
    console.log(`${name} (${registered}): training failed: ${(error as Error).message}`);
  }

  try {
    const prediction = await measurePrediction();
    console.log(
      `${name} (${registered}): prediction ${prediction.playlistsPerSecond.toFixed(3)} playlists/s ` +
        `(${playlists} playlists, ${SEEDS_PER_PLAYLIST} seeds, ${prediction.steps} steps; ` +
        `${prediction.playlistStepsPerSecond.toFixed(0)} playlist-steps/s)`,
    );
  } catch (error) {
    console.log(`${name} (${registered}): prediction failed: ${(error as Error).message}`);
  }
}
/**
 * Trains one or two warm-up steps, then as many steps as fit into the budget, at most 50. The first step
 * sets up kernels and memory, so a second warm-up step, when the budget allows, gives the step time to plan
 * with. When the first step alone takes longer than the budget, its own speed is reported, warm-up included.
 */
async function measureTraining(): Promise<{ tokensPerSecond: number; steps: number; warmupSteps: number }> {
  const random = createRandom(1);
  const maxSteps = 52;
  const tokens = Int32Array.from(
    { length: BATCH * WINDOW * maxSteps + 1 },
    () => 2 + Math.floor(random() ** 2 * (vocab - 2)),
  );
  const options = { batchSize: BATCH, window: WINDOW, softmax: softmax as "full" | "sampled", seed: 1 };

  let started = performance.now();
  let warm = await trainTrack2Seq(tokens, vocab, { ...options, maxSteps: 1 });
  let stepSeconds = (performance.now() - started) / 1000;
  if (stepSeconds > seconds) {
    warm.model.dispose();
    warm.optimizer.dispose();
    return { tokensPerSecond: warm.tokensPerSecond, steps: 1, warmupSteps: 0 };
  }
  if (stepSeconds < seconds / 3) {
    started = performance.now();
    warm = await trainTrack2Seq(tokens, vocab, { ...options, maxSteps: 2, resumeFrom: warm });
    stepSeconds = (performance.now() - started) / 1000;
  }
  const warmupSteps = warm.step;
  const steps = Math.max(1, Math.min(maxSteps - warmupSteps, Math.floor(seconds / stepSeconds)));

  const timed = await trainTrack2Seq(tokens, vocab, {
    ...options,
    maxSteps: warmupSteps + steps,
    resumeFrom: warm,
  });
  timed.model.dispose();
  timed.optimizer.dispose();
  return { tokensPerSecond: timed.tokensPerSecond, steps, warmupSteps };
}

/**
 * Predicts a short probe first, then the full run when it fits into the budget, or as many steps as fit.
 */
async function measurePrediction(): Promise<
  { playlistsPerSecond: number; playlistStepsPerSecond: number; steps: number }
> {
  const model = createModel({ vocabSize: vocab }, 1);
  const random = createRandom(2);
  const seeds = Array.from(
    { length: playlists },
    () => Int32Array.from({ length: SEEDS_PER_PLAYLIST }, () => 2 + Math.floor(random() * (vocab - 2))),
  );
  const run = async (steps: number) => {
    const start = performance.now();
    await predictGuided(model, seeds, { steps, batchSize: playlists });
    return (performance.now() - start) / 1000;
  };

  try {
    // Steps per playlist: the end-of-playlist token, the seeds, the prediction steps.
    const stepsOf = (steps: number) => 1 + SEEDS_PER_PLAYLIST + steps;
    const probeSteps = Math.min(predictSteps, 5);
    await run(probeSteps);
    const probeSeconds = await run(probeSteps);
    const perStep = probeSeconds / stepsOf(probeSteps);
    const steps = Math.max(
      probeSteps,
      Math.min(predictSteps, Math.floor(seconds / perStep) - 1 - SEEDS_PER_PLAYLIST),
    );

    const elapsed = steps === probeSteps ? probeSeconds : await run(steps);
    return {
      playlistsPerSecond: playlists / elapsed,
      playlistStepsPerSecond: (playlists * stepsOf(steps)) / elapsed,
      steps,
    };
  } finally {
    model.dispose();
  }
}

function positiveInteger(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) fail(`Invalid ${option} "${text}": use a whole number >= 1.`);
  return value;
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(2);
}
