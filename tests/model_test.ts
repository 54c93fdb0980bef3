import * as tf from "@tensorflow/tfjs";
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { selectBackend } from "../lib/model/backend.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/model/checkpoint.ts";
import { createModel, type Track2SeqModel } from "../lib/model/network.ts";
import { evaluateLoss, type TrainOptions, trainTrack2Seq } from "../lib/model/train.ts";
import { patternStream, VOCAB_SIZE } from "./helpers/patterns.ts";
import { assertTrainingLeavesNoTensors } from "./helpers/training.ts";
import { nextTokenProbabilities } from "./helpers/model.ts";

await selectBackend("wasm");

const TRAIN = patternStream(300, 1);
const DEV = patternStream(40, 2);
const SMALL: Partial<TrainOptions> = {
  embeddingSize: 16,
  hiddenUnits: 32,
  window: 10,
  batchSize: 8,
  learningRate: 0.01,
  seed: 3,
};

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Sums the top-layer outputs and the carried states of a two-layer network, weighted by fixed random values,
 * computed with plain TensorFlow.js ops, so automatic differentiation gives the reference gradients.
 */
function referenceLoss(
  model: Track2SeqModel,
  tokens: tf.Tensor1D,
  state: { h: tf.Tensor2D[]; c: tf.Tensor2D[] },
  weights: tf.Tensor[],
  steps: number,
  carryAfter: number,
): tf.Scalar {
  let layerInput: tf.Tensor = tf.gather(model.embedding, tokens);
  let carried: tf.Tensor = tf.scalar(0);
  for (let layer = 0; layer < model.config.layers; layer++) {
    const { kernel, recurrentKernel, bias } = model.lstm[layer];
    const perStep = tf.split(tf.add(tf.matMul(layerInput, kernel), bias), steps, 0);
    let h: tf.Tensor = state.h[layer];
    let c: tf.Tensor = state.c[layer];
    const outputs: tf.Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const [i, f, o, g] = tf.split(tf.add(perStep[t], tf.matMul(h, recurrentKernel)), 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      outputs.push(h);
      if (t + 1 === carryAfter) {
        carried = tf.add(carried, tf.add(tf.sum(tf.mul(h, weights[1])), tf.sum(tf.mul(c, weights[2]))));
      }
    }
    layerInput = tf.concat(outputs, 0);
  }
  return tf.add(tf.sum(tf.mul(layerInput, weights[0])), carried) as tf.Scalar;
}

Deno.test("lstm gradients match autodiff", () => {
  const batch = 3;
  const steps = 4;
  const model = createModel({ vocabSize: 11, embeddingSize: 5, hiddenUnits: 6, layers: 2 }, 9);
  const variables = model.namedWeights().map((weight) => weight.variable).slice(0, 7);

  for (const carryAfter of [steps, 2]) {
    const worst = tf.tidy(() => {
      const tokens = tf.tensor1d(Array.from({ length: batch * steps }, (_, i) => (i * 7) % 11), "int32");
      const state = {
        h: [0, 1].map((k) => tf.randomNormal([batch, 6], 0, 0.5, "float32", 10 + k) as tf.Tensor2D),
        c: [0, 1].map((k) => tf.randomNormal([batch, 6], 0, 0.5, "float32", 20 + k) as tf.Tensor2D),
      };
      const weights = [
        tf.randomNormal([batch * steps, 6], 0, 1, "float32", 30),
        tf.randomNormal([batch, 6], 0, 1, "float32", 31),
        tf.randomNormal([batch, 6], 0, 1, "float32", 32),
      ];

      const reference = tf.variableGrads(
        () => referenceLoss(model, tokens, state, weights, steps, carryAfter),
        variables,
      );
      const custom = tf.variableGrads(() => {
        const { hidden, state: next } = model.run(tokens, batch, state, carryAfter);
        let carried: tf.Tensor = tf.scalar(0);
        for (let layer = 0; layer < 2; layer++) {
          carried = tf.add(
            carried,
            tf.add(tf.sum(tf.mul(next.h[layer], weights[1])), tf.sum(tf.mul(next.c[layer], weights[2]))),
          );
        }
        return tf.add(tf.sum(tf.mul(hidden, weights[0])), carried) as tf.Scalar;
      }, variables);

      const differences = variables.map((variable) =>
        tf.max(tf.abs(tf.sub(reference.grads[variable.name], custom.grads[variable.name]))).dataSync()[0]
      );
      return Math.max(...differences, Math.abs(reference.value.dataSync()[0] - custom.value.dataSync()[0]));
    });
    ok(worst < 1e-5, `carryAfter ${carryAfter}: max difference ${worst}`);
  }
  model.dispose();
});

Deno.test("full softmax learns the pattern", async () => {
  const result = await trainTrack2Seq(TRAIN, VOCAB_SIZE, {
    ...SMALL,
    epochs: 4,
    devTokens: DEV,
    evaluateEvery: 50,
  });
  const losses = result.history.map((entry) => entry.loss);

  ok(
    mean(losses.slice(-10)) < mean(losses.slice(0, 10)) / 4,
    `losses ${losses.slice(0, 3)} ... ${losses.slice(-3)}`,
  );
  ok(result.devHistory.length >= 2);
  ok(result.devHistory.at(-1)!.loss < result.devHistory[0].loss / 2, JSON.stringify(result.devHistory));
  // Training carries the state across playlists, so contexts start after a whole playlist, not from zero.
  strictEqual(argMax(nextTokenProbabilities(result.model, [0, 13, 14, 15, 16, 17, 18, 19, 0, 8, 9, 10])), 11);
  strictEqual(argMax(nextTokenProbabilities(result.model, [0, 8, 9, 10, 11, 12, 0, 2, 3])), 4);

  result.model.dispose();
  result.optimizer.dispose();
});

Deno.test("sampled softmax learns the pattern", async () => {
  const result = await trainTrack2Seq(TRAIN, VOCAB_SIZE, {
    ...SMALL,
    epochs: 4,
    softmax: "sampled",
    sampledNegatives: 5,
    devTokens: DEV,
    evaluateEvery: 50,
  });

  ok(result.devHistory.at(-1)!.loss < result.devHistory[0].loss / 2, JSON.stringify(result.devHistory));
  strictEqual(argMax(nextTokenProbabilities(result.model, [0, 8, 9, 10, 11, 12, 0, 13, 14, 15])), 16);

  result.model.dispose();
  result.optimizer.dispose();
});

Deno.test("same seed gives same losses", async () => {
  for (const softmax of ["full", "sampled"] as const) {
    const options = { ...SMALL, maxSteps: 6, softmax, sampledNegatives: 5 };
    const first = await trainTrack2Seq(TRAIN, VOCAB_SIZE, options);
    const second = await trainTrack2Seq(TRAIN, VOCAB_SIZE, options);
    const other = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...options, seed: 4 });

    deepStrictEqual(second.history, first.history);
    ok(
      other.history.at(-1)!.loss !== first.history.at(-1)!.loss,
      `${softmax}: another seed gave the same loss`,
    );
    for (const result of [first, second, other]) {
      result.model.dispose();
      result.optimizer.dispose();
    }
  }
});

Deno.test("training leaves no tensors behind", async () => {
  await assertTrainingLeavesNoTensors(TRAIN, VOCAB_SIZE, {
    ...SMALL,
    maxSteps: 5,
    devTokens: DEV,
    evaluateEvery: 2,
  });
});

Deno.test("overlapping windows take more steps", async () => {
  // 1,200 tokens in 8 streams give 149 input positions per stream.
  const tokens = TRAIN.slice(0, 1200);
  const progress: number[] = [];
  const plain = await trainTrack2Seq(
    tokens,
    VOCAB_SIZE,
    { ...SMALL, maxSteps: 1 },
    (p) => progress.push(p.totalSteps),
  );
  const overlapping = await trainTrack2Seq(tokens, VOCAB_SIZE, { ...SMALL, stride: 5, maxSteps: 3 });

  // Non-overlapping windows of 10 need 15 steps; with stride 5, starts 0, 5, ..., 140 are 29 steps.
  strictEqual(progress[0], 1);
  strictEqual(plain.step, 1);
  strictEqual(overlapping.step, 3);
  ok(overlapping.history.every((entry) => Number.isFinite(entry.loss)));

  const full = await trainTrack2Seq(tokens, VOCAB_SIZE, { ...SMALL, stride: 5, maxSteps: 1000 });
  strictEqual(full.step, 29);
  const nonOverlapping = await trainTrack2Seq(tokens, VOCAB_SIZE, { ...SMALL, maxSteps: 1000 });
  strictEqual(nonOverlapping.step, 15);

  for (const result of [plain, overlapping, full, nonOverlapping]) {
    result.model.dispose();
    result.optimizer.dispose();
  }
});

Deno.test("progress reports every step", async () => {
  const reports: { step: number; totalSteps: number; tokensPerSecond: number; devLoss?: number }[] = [];
  const result = await trainTrack2Seq(
    TRAIN,
    VOCAB_SIZE,
    { ...SMALL, maxSteps: 4, devTokens: DEV, evaluateEvery: 3 },
    (p) => reports.push(p),
  );

  deepStrictEqual(reports.map((r) => r.step), [1, 2, 3, 4]);
  ok(reports.every((r) => r.totalSteps === 4));
  ok(reports.every((r) => r.tokensPerSecond > 0));
  deepStrictEqual(reports.map((r) => r.devLoss !== undefined), [false, false, true, true]);
  deepStrictEqual(result.devHistory.map((entry) => entry.step), [3, 4]);
  result.model.dispose();
  result.optimizer.dispose();
});

Deno.test("clipNorm rescales large gradients", async () => {
  const plain = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, maxSteps: 8 });
  const loose = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, maxSteps: 8, clipNorm: 1e9 });
  const tight = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, maxSteps: 8, clipNorm: 1e-4 });

  // A norm below clipNorm leaves the gradients exactly as they are.
  deepStrictEqual(loose.history, plain.history);
  // The first loss comes before any update; later ones differ once clipping changes the updates.
  strictEqual(tight.history[0].loss, plain.history[0].loss);
  ok(tight.history.every((entry) => Number.isFinite(entry.loss)));
  ok(tight.history[7].loss !== plain.history[7].loss, "clipping to 1e-4 did not change the updates");
  for (const result of [plain, loose, tight]) {
    result.model.dispose();
    result.optimizer.dispose();
  }
});

Deno.test("evaluateLoss reports perplexity", async () => {
  const model = createModel({ vocabSize: VOCAB_SIZE, embeddingSize: 8, hiddenUnits: 8, layers: 1 }, 5);
  const report = await evaluateLoss(model, DEV, { batchSize: 4, window: 7 });

  // 4 streams of floor((tokens - 1) / 4) positions each.
  strictEqual(report.tokens, 4 * Math.floor((DEV.length - 1) / 4));
  ok(Math.abs(report.perplexity - Math.exp(report.loss)) < 1e-9);
  // An untrained model is close to uniform over the vocabulary.
  ok(Math.abs(report.loss - Math.log(VOCAB_SIZE)) < 0.2, `loss ${report.loss}`);
  model.dispose();
});

Deno.test("invalid options are rejected", async () => {
  await rejects(trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, stride: 11 }), RangeError);
  await rejects(trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, batchSize: 0 }), RangeError);
  await rejects(trainTrack2Seq(TRAIN, 10, SMALL), RangeError);
  await rejects(trainTrack2Seq(TRAIN.slice(0, 5), VOCAB_SIZE, SMALL), RangeError);
  throws(() => createModel({ vocabSize: 2 }, 1), RangeError);
});

Deno.test("checkpoint round-trip keeps predictions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trained = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, maxSteps: 5 });
    await saveCheckpoint(trained.model, `${dir}/model`, {
      optimizer: trained.optimizer,
      step: trained.step,
      options: { ...trained.options },
      metadata: { note: "test" },
    });
    const loaded = await loadCheckpoint(`${dir}/model`);

    deepStrictEqual(loaded.model.config, trained.model.config);
    strictEqual(loaded.step, 5);
    deepStrictEqual(loaded.metadata, { note: "test" });
    strictEqual(loaded.options?.window, 10);
    const context = [0, 2, 3, 4, 0, 8];
    deepStrictEqual(
      nextTokenProbabilities(loaded.model, context),
      nextTokenProbabilities(trained.model, context),
    );

    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/model/model.json`));
    strictEqual(manifest.format, "track2seq");
    deepStrictEqual(manifest.weightsManifest[0].paths, ["weights.bin"]);
    const entries = await Array.fromAsync(Deno.readDir(dir));
    deepStrictEqual(entries.map((entry) => entry.name), ["model"]);

    trained.model.dispose();
    trained.optimizer.dispose();
    loaded.model.dispose();
    loaded.optimizer?.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint keeps optimizer state", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const trained = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...SMALL, maxSteps: 5 });
    await saveCheckpoint(trained.model, dir, {
      optimizer: trained.optimizer,
      step: trained.step,
      position: trained.position,
      history: trained.history,
    });
    const loaded = await loadCheckpoint(dir);
    const withoutOptimizer = await loadCheckpoint(dir);
    withoutOptimizer.optimizer?.dispose();
    withoutOptimizer.optimizer = undefined;

    // The in-memory run goes last among the loads, because it trains the model of `trained` in place.
    const options = { ...SMALL, maxSteps: 8 };
    const inMemory = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...options, resumeFrom: trained });
    const resumed = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...options, resumeFrom: loaded });
    const fresh = await trainTrack2Seq(TRAIN, VOCAB_SIZE, { ...options, resumeFrom: withoutOptimizer });

    deepStrictEqual(inMemory.history.map((entry) => entry.step), [1, 2, 3, 4, 5, 6, 7, 8]);
    // Adam's moments and decay products, the carried state and the history all come back from the files.
    deepStrictEqual(resumed.history, inMemory.history);
    const freshDifference = Math.abs(fresh.history[7].loss - inMemory.history[7].loss);
    ok(freshDifference > 1e-3, `fresh Adam state differs only by ${freshDifference}`);

    for (const result of [inMemory, resumed, fresh]) {
      result.model.dispose();
      result.optimizer.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint save replaces an old one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = createModel({ vocabSize: VOCAB_SIZE, embeddingSize: 8, hiddenUnits: 8 }, 1);
    const second = createModel({ vocabSize: VOCAB_SIZE, embeddingSize: 8, hiddenUnits: 8 }, 2);
    await saveCheckpoint(first, `${dir}/model`, { step: 1 });
    await saveCheckpoint(second, `${dir}/model`, { step: 2 });
    const loaded = await loadCheckpoint(`${dir}/model`);

    strictEqual(loaded.step, 2);
    strictEqual(loaded.optimizer, undefined);
    deepStrictEqual(nextTokenProbabilities(loaded.model, [3]), nextTokenProbabilities(second, [3]));
    const entries = await Array.fromAsync(Deno.readDir(dir));
    deepStrictEqual(entries.map((entry) => entry.name), ["model"]);

    for (const model of [first, second, loaded.model]) model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint load rejects other files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(loadCheckpoint(dir), Deno.errors.NotFound);
    await Deno.writeTextFile(`${dir}/model.json`, "{not json");
    await rejects(loadCheckpoint(dir), SyntaxError);
    await Deno.writeTextFile(
      `${dir}/model.json`,
      JSON.stringify({ format: "layers-model", weightsManifest: [] }),
    );
    await rejects(loadCheckpoint(dir), SyntaxError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
