import * as tf from "@tensorflow/tfjs";
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type BackendName, selectBackend } from "../lib/model/backend.ts";
import { loadLatestCheckpoint } from "../lib/model/training_checkpoints.ts";
import { type TrainOptions, trainTrack2Seq } from "../lib/model/train.ts";
import type { DevLossPoint, LossPoint } from "../lib/model/training_state.ts";
import { describeWebGpuAdapter } from "../lib/model/webgpu.ts";
import { predictGuided, type TokenScores } from "../lib/predict/guided.ts";
import { patternStream, VOCAB_SIZE } from "./helpers/patterns.ts";

/**
 * The adapter of this machine, or null. Without one the test below is ignored. A machine without a GPU
 * driver has Deno's software adapter (llvmpipe), which the test accepts with `allowFallbackAdapter`.
 */
const adapter = await describeWebGpuAdapter();
if (adapter === null) {
  console.log("webgpu_test: navigator.gpu gives no WebGPU adapter here, so the webgpu test is ignored.");
}

// Small enough for the software adapter, which trains about seven times slower than wasm.
const TRAIN = patternStream(120, 1);
const DEV = patternStream(12, 2);
const OPTIONS: Partial<TrainOptions> = {
  embeddingSize: 8,
  hiddenUnits: 16,
  layers: 1,
  window: 10,
  batchSize: 8,
  learningRate: 0.02,
  epochs: 3,
  seed: 3,
  devTokens: DEV,
  evaluateEvery: 10,
  checkpointEvery: 10,
};
const STEPS = 20;
const RESUMED_STEPS = 24;
const SEEDS = [Int32Array.of(2, 3), Int32Array.of(8), Int32Array.of(13, 14, 15)];

interface BackendRun {
  history: LossPoint[];
  devHistory: DevLossPoint[];
  recommendations: TokenScores[][];
  leftTensors: number;
}

/**
 * Trains on `backend` with periodic checkpoints, resumes from the latest one for a few steps, and predicts
 * fully and semi-guided. So every place that reads tensors back runs: the training step, dev evaluation,
 * saving and loading a checkpoint's carried state, and the top-k of prediction.
 */
async function runOn(backend: BackendName): Promise<BackendRun> {
  await selectBackend(backend, Deno.cwd(), { allowFallbackAdapter: true });
  strictEqual(tf.getBackend(), backend);
  const tensorsBefore = tf.memory().numTensors;
  const checkpointDir = await Deno.makeTempDir();
  try {
    const first = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...OPTIONS, maxSteps: STEPS, checkpointDir });
    first.model.dispose();
    first.optimizer.dispose();
    const saved = await loadLatestCheckpoint(checkpointDir);
    ok(saved !== undefined, "no checkpoint was saved");
    strictEqual(saved.step, STEPS);
    // The resumed run trains the checkpoint's model and optimizer, which are disposed of through `resumed`.
    const resumed = await trainTrack2Seq(TRAIN, VOCAB_SIZE, {
      ...OPTIONS,
      maxSteps: RESUMED_STEPS,
      resumeFrom: saved,
    });

    const recommendations: TokenScores[][] = [];
    for (const mode of ["fully", "semi"] as const) {
      recommendations.push(
        await predictGuided(resumed.model, SEEDS, {
          steps: 8,
          topK: 5,
          count: 6,
          batchSize: 2,
          mode,
          seed: 4,
        }),
      );
    }
    resumed.model.dispose();
    resumed.optimizer.dispose();
    return {
      history: resumed.history,
      devHistory: resumed.devHistory,
      recommendations,
      leftTensors: tf.memory().numTensors - tensorsBefore,
    };
  } finally {
    await Deno.remove(checkpointDir, { recursive: true });
  }
}

/** Scores closer than this are treated as ties, whose order may differ between backends. */
const SCORE_GAP = 1e-3;

Deno.test({
  name: "webgpu matches wasm end to end",
  ignore: adapter === null,
  // TF.js keeps its backend registry and the WebGPU device for the whole process.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const wasm = await runOn("wasm");
    const webgpu = await runOn("webgpu");

    strictEqual(wasm.leftTensors, 0, "wasm left tensors behind");
    strictEqual(webgpu.leftTensors, 0, "webgpu left tensors behind");

    deepStrictEqual(webgpu.history.map((point) => point.step), wasm.history.map((point) => point.step));
    strictEqual(webgpu.history.length, RESUMED_STEPS);
    webgpu.history.forEach((point, i) => {
      const expected = wasm.history[i].loss;
      ok(Math.abs(point.loss - expected) < 1e-3, `step ${point.step}: loss ${point.loss}, wasm ${expected}`);
    });
    // The pattern is learnt on both, so the comparison is not between two untrained models.
    ok(
      wasm.history.at(-1)!.loss < wasm.history[0].loss - 0.5,
      `wasm losses ${wasm.history.map((p) => p.loss)}`,
    );

    deepStrictEqual(webgpu.devHistory.map((point) => point.step), [10, 20, 24]);
    webgpu.devHistory.forEach((point, i) => {
      const expected = wasm.devHistory[i];
      strictEqual(point.tokens, expected.tokens);
      ok(
        Math.abs(point.loss - expected.loss) < 1e-3,
        `dev at ${point.step}: ${point.loss}, wasm ${expected.loss}`,
      );
    });

    let compared = 0;
    webgpu.recommendations.forEach((playlists, mode) => {
      playlists.forEach((actual, p) => {
        const expected = wasm.recommendations[mode][p];
        const label = `${mode === 0 ? "fully" : "semi"}-guided playlist ${p}`;
        strictEqual(actual.tokens.length, expected.tokens.length, label);
        expected.scores.forEach((score, j) => {
          ok(
            Math.abs(actual.scores[j] - score) < 1e-4,
            `${label} rank ${j}: ${actual.scores[j]}, wasm ${score}`,
          );
          // A token id is compared where its score differs from both neighbours' by more than SCORE_GAP.
          const before = j === 0 ? Infinity : expected.scores[j - 1] - score;
          const after = j + 1 === expected.scores.length ? Infinity : score - expected.scores[j + 1];
          if (Math.min(before, after) > SCORE_GAP) {
            strictEqual(actual.tokens[j], expected.tokens[j], `${label} rank ${j}`);
            compared++;
          }
        });
      });
    });
    const total = wasm.recommendations.flat().reduce((sum, result) => sum + result.tokens.length, 0);
    ok(compared >= total / 2, `only ${compared} of ${total} token ids had well-separated scores`);
  },
});
