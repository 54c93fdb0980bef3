import * as tf from "@tensorflow/tfjs";
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { selectBackend } from "../lib/model/backend.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/model/checkpoint.ts";
import { hostBytesPerTrack } from "../lib/model/host_tables.ts";
import { copyWithHostTables, createModel, type Track2SeqModel } from "../lib/model/network.ts";
import { OutputSlices } from "../lib/model/output_slices.ts";
import { fullSoftmaxLosses, slicedSoftmaxLosses } from "../lib/model/softmax_loss.ts";
import { SparseAdam } from "../lib/model/sparse_adam.ts";
import { evaluateLoss, type TrainOptions, trainTrack2Seq } from "../lib/model/train.ts";
import { loadLatestCheckpoint } from "../lib/model/training_checkpoints.ts";
import { predictGuided } from "../lib/predict/guided.ts";
import { slicedTopK } from "../lib/predict/sliced_top_k.ts";
import { createRandom } from "../lib/util/random.ts";
import { patternStream, SMALL_SAMPLED, VOCAB_SIZE } from "./helpers/patterns.ts";
import { assertTrainingLeavesNoTensors } from "./helpers/training.ts";

await selectBackend("wasm");

const TOKENS = patternStream(60, 1).slice(0, 297);

/** Reads every weight of `model` in the in-heap layout, by checkpoint name. */
function weightValues(model: Track2SeqModel): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  const source = model.host === null ? model : copyBack(model);
  for (const { name, variable } of source.namedWeights()) {
    values.set(name, (variable.dataSync() as Float32Array).slice());
  }
  if (source !== model) source.dispose();
  return values;
}

/** Returns a model with in-heap tables and the weights of `model`, which has host tables. */
function copyBack(model: Track2SeqModel): Track2SeqModel {
  const host = model.host!;
  const { vocabSize, hiddenUnits } = model.config;
  const kernel = new Float32Array(vocabSize * hiddenUnits);
  for (let token = 0; token < vocabSize; token++) {
    for (let unit = 0; unit < hiddenUnits; unit++) {
      kernel[unit * vocabSize + token] = host.outputKernel[token * hiddenUnits + unit];
    }
  }
  const weights = new Map<string, tf.Tensor>([
    ["embedding", tf.tensor2d(host.embedding, [vocabSize, model.config.embeddingSize])],
    ["output/kernel", tf.tensor2d(kernel, [hiddenUnits, vocabSize])],
    ["output/bias", tf.tensor1d(host.outputBias)],
  ]);
  for (const { name, variable } of model.namedWeights()) weights.set(name, variable.clone());
  return new (model.constructor as typeof import("../lib/model/network.ts").Track2SeqModel)(
    model.config,
    weights,
  );
}

/** Asserts that two weight sets agree within `tolerance`, and returns the largest difference. */
function assertClose(
  actual: Map<string, Float32Array>,
  expected: Map<string, Float32Array>,
  tolerance: number,
): number {
  deepStrictEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  let largest = 0;
  for (const [name, values] of expected) {
    const other = actual.get(name)!;
    strictEqual(other.length, values.length, name);
    for (let i = 0; i < values.length; i++) {
      const difference = Math.abs(other[i] - values[i]);
      largest = Math.max(largest, difference);
      ok(difference <= tolerance, `${name}[${i}]: ${other[i]} against ${values[i]}`);
    }
  }
  return largest;
}

function disposeResult(result: { model: Track2SeqModel; optimizer?: tf.AdamOptimizer }): void {
  result.model.dispose();
  result.optimizer?.dispose();
}

Deno.test("host tables start with the heap tables' weights", () => {
  const heap = createModel({ vocabSize: 30, embeddingSize: 4, hiddenUnits: 6 }, 7);
  const host = createModel({ vocabSize: 30, embeddingSize: 4, hiddenUnits: 6 }, 7, "host");
  strictEqual(host.tables, "host");
  strictEqual(host.namedWeights().length, 6);
  assertClose(weightValues(host), weightValues(heap), 0);
  ok(host.host!.outputKernel.some((value) => value !== 0));
  heap.dispose();
  host.dispose();
});

Deno.test("the first host step matches the heap step", async () => {
  const heap = await trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 1 });
  const host = await trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...SMALL_SAMPLED, maxSteps: 1, tables: "host" });

  // Before the first update every moment is zero, so dense Adam moves no row without a gradient either.
  ok(Math.abs(host.history[0].loss - heap.history[0].loss) < 1e-6);
  assertClose(weightValues(host.model), weightValues(heap.model), 1e-6);
  strictEqual(host.options.tables, "host");
  disposeResult(heap);
  disposeResult(host);
});

Deno.test("host steps match heap steps while every row gets a gradient", async () => {
  // Every window of every stream contains each of the 12 tokens as input and as target, so every embedding
  // and output row has a gradient at every step, and lazy Adam equals dense Adam.
  const cycle = Int32Array.from({ length: 4 * 48 + 1 }, (_, i) => i % 12);
  const options: Partial<TrainOptions> = {
    ...SMALL_SAMPLED,
    window: 12,
    stride: 12,
    batchSize: 4,
    maxSteps: 4,
    sampledNegatives: 3,
  };
  const heap = await trainTrack2Seq(cycle, 12, options);
  const host = await trainTrack2Seq(cycle, 12, { ...options, tables: "host" });

  strictEqual(host.history.length, 4);
  host.history.forEach((point, i) => ok(Math.abs(point.loss - heap.history[i].loss) < 1e-5, `step ${i + 1}`));
  assertClose(weightValues(host.model), weightValues(heap.model), 1e-5);
  disposeResult(heap);
  disposeResult(host);
});

Deno.test("lazy Adam matches dense Adam on rows it updates and leaves the others", () => {
  const vocabSize = 5;
  const model = createModel({ vocabSize, embeddingSize: 3, hiddenUnits: 2, layers: 1 }, 4, "host");
  const tables = model.host!;
  const dense = tf.variable(tf.tensor2d(tables.embedding.slice(), [vocabSize, 3]));
  const optimizer = tf.train.adam(0.05);
  const lazy = new SparseAdam({ learningRate: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  const random = createRandom(3);
  const noGradient = { tokens: new Int32Array(0), values: new Float32Array(0) };

  // Rows 0 to 3 get a gradient at every step; row 4 only at the first.
  for (let step = 0; step < 4; step++) {
    const rows = step === 0 ? [0, 1, 2, 3, 4] : [0, 1, 2, 3];
    const values = Float32Array.from({ length: rows.length * 3 }, () => random() - 0.5);
    const full = new Float32Array(vocabSize * 3);
    rows.forEach((row, i) => full.set(values.subarray(i * 3, i * 3 + 3), row * 3));
    tf.tidy(() =>
      optimizer.applyGradients([{ name: dense.name, tensor: tf.tensor2d(full, [vocabSize, 3]) }])
    );
    lazy.update(tables, {
      embedding: { tokens: Int32Array.from(rows), values },
      outputKernel: noGradient,
      outputBias: noGradient,
    });
    if (step === 0) {
      deepStrictEqual(tables.embedding.slice(12), (dense.dataSync() as Float32Array).slice(12));
    }
  }

  const denseValues = dense.dataSync() as Float32Array;
  for (let i = 0; i < 12; i++) ok(Math.abs(tables.embedding[i] - denseValues[i]) < 1e-7, `value ${i}`);
  // Dense Adam kept moving row 4 with its decaying first moment; lazy Adam left it after step 1.
  ok(tables.embedding.slice(12).some((value, i) => Math.abs(value - denseValues[12 + i]) > 1e-4));
  strictEqual(lazy.iterations, 4);
  model.dispose();
  dense.dispose();
  optimizer.dispose();
});

Deno.test("sliced dev loss matches the full softmax", async () => {
  const heap = createModel({ vocabSize: 50, embeddingSize: 4, hiddenUnits: 6 }, 2);
  const host = await copyWithHostTables(heap);
  const tokens = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % 50);

  const expected = await evaluateLoss(heap, tokens, { batchSize: 4, window: 10 });
  const tensorsBefore = tf.memory().numTensors;
  const actual = await evaluateLoss(host, tokens, { batchSize: 4, window: 10 });
  strictEqual(tf.memory().numTensors, tensorsBefore);
  ok(Math.abs(actual.loss - expected.loss) < 1e-5, `${actual.loss} against ${expected.loss}`);
  strictEqual(actual.tokens, expected.tokens);

  // Slices of 7 tokens, so the log-sum-exp is merged from 8 slices of both kinds of tables.
  tf.tidy(() => {
    const hidden = tf.randomNormal([5, 6], 0, 1, "float32", 1) as tf.Tensor2D;
    const labels = Int32Array.of(0, 9, 17, 33, 49);
    const full = fullSoftmaxLosses(hidden, heap.outputKernel, heap.outputBias, tf.tensor1d(labels, "int32"))
      .dataSync();
    for (const model of [heap, host]) {
      const slices = OutputSlices.upload(model, 5, 7);
      strictEqual(slices.slices.length, 8);
      const sliced = slicedSoftmaxLosses(model, hidden, labels, slices).dataSync();
      slices.dispose();
      full.forEach((value, i) => ok(Math.abs(sliced[i] - value) < 1e-5, `${model.tables} row ${i}`));
    }
  });
  heap.dispose();
  host.dispose();
});

Deno.test("sliced top-k matches the top-k of the full softmax", async () => {
  const model = createModel({ vocabSize: 40, embeddingSize: 4, hiddenUnits: 6 }, 8);
  const host = await copyWithHostTables(model);
  const excluded = [new Set([0, 1, 5]), new Set([0, 1]), new Set([0, 1, 2, 3, 4, 5, 6, 7])];
  const hidden = tf.randomNormal([3, 6], 0, 2, "float32", 4) as tf.Tensor2D;
  const probabilities = tf.tidy(() => tf.softmax(model.logits(hidden)).arraySync() as number[][]);
  for (const sliceSize of [40, 6, 1]) {
    const slices = OutputSlices.upload(host, 3, sliceSize);
    const { values, indices } = await slicedTopK(hidden, 10, excluded, slices);
    slices.dispose();
    probabilities.forEach((row, r) => {
      const expected = row.map((p, token) => ({ p, token })).filter(({ token }) => !excluded[r].has(token))
        .sort((a, b) => b.p - a.p || a.token - b.token).slice(0, 10);
      deepStrictEqual(
        Array.from(indices.subarray(r * 10, r * 10 + 10)),
        expected.map(({ token }) => token),
      );
      expected.forEach(({ p }, j) => ok(Math.abs(values[r * 10 + j] - p) < 1e-6, `row ${r} rank ${j}`));
    });
  }
  hidden.dispose();
  model.dispose();
  host.dispose();
});

Deno.test("guided prediction with host tables recommends what the heap model does", async () => {
  const { model, optimizer } = await trainTrack2Seq(patternStream(200, 2), VOCAB_SIZE, {
    ...SMALL_SAMPLED,
    epochs: 2,
    stride: undefined,
  });
  const host = await copyWithHostTables(model);
  const seeds = [Int32Array.of(2, 3), Int32Array.of(8), Int32Array.of(13, 14, 15), Int32Array.of(19)];
  const tensorsBefore = tf.memory().numTensors;
  for (const mode of ["fully", "semi"] as const) {
    const options = { steps: 12, topK: 5, count: 8, batchSize: 3, mode, seed: 4 };
    const expected = await predictGuided(model, seeds, options);
    const actual = await predictGuided(host, seeds, options);
    actual.forEach((result, i) => {
      deepStrictEqual(Array.from(result.tokens), Array.from(expected[i].tokens), `${mode} playlist ${i}`);
      result.scores.forEach((score, j) => ok(Math.abs(score - expected[i].scores[j]) < 1e-5));
    });
  }
  strictEqual(tf.memory().numTensors, tensorsBefore);
  model.dispose();
  host.dispose();
  optimizer.dispose();
});

Deno.test("host training resumes exactly in memory and from a checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const options: Partial<TrainOptions> = { ...SMALL_SAMPLED, tables: "host" };
    const uninterrupted = await trainTrack2Seq(TOKENS, VOCAB_SIZE, { ...options, maxSteps: 12 });
    const first = await trainTrack2Seq(TOKENS, VOCAB_SIZE, {
      ...options,
      maxSteps: 5,
      checkpointDir: dir,
      checkpointEvery: 5,
    });
    const inMemory = await trainTrack2Seq(TOKENS, VOCAB_SIZE, {
      ...options,
      maxSteps: 12,
      resumeFrom: first,
    });

    const saved = await loadLatestCheckpoint(dir);
    ok(saved !== undefined);
    strictEqual(saved.step, 5);
    strictEqual(saved.model.tables, "host");
    ok(saved.tableOptimizer !== undefined);
    const fromDisk = await trainTrack2Seq(TOKENS, VOCAB_SIZE, {
      ...options,
      maxSteps: 12,
      resumeFrom: saved,
    });

    for (const resumed of [inMemory, fromDisk]) {
      deepStrictEqual(resumed.history, uninterrupted.history);
      deepStrictEqual(resumed.position, uninterrupted.position);
      assertClose(weightValues(resumed.model), weightValues(uninterrupted.model), 0);
    }
    for (const result of [uninterrupted, inMemory, fromDisk]) disposeResult(result);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("host checkpoint keeps weights and rejects a mismatched resume", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = createModel({ vocabSize: 25, embeddingSize: 4, hiddenUnits: 6 }, 3, "host");
    await saveCheckpoint(model, dir, { step: 2 });
    const loaded = await loadCheckpoint(dir);
    strictEqual(loaded.model.tables, "host");
    strictEqual(loaded.tableOptimizer, undefined);
    assertClose(weightValues(loaded.model), weightValues(model), 0);

    // The file stores the in-heap layout, so its tables read back as the heap model's would.
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    const kernelSpec = manifest.weightsManifest[0].weights.find((w: { name: string }) =>
      w.name === "output/kernel"
    );
    deepStrictEqual(kernelSpec.shape, [6, 25]);

    await rejects(
      trainTrack2Seq(patternStream(20, 1), 25, { ...SMALL_SAMPLED, resumeFrom: loaded }),
      /tables "heap".*Resume with tables "host"/,
    );
    await rejects(
      trainTrack2Seq(patternStream(20, 1), 25, { ...SMALL_SAMPLED, softmax: "full", tables: "host" }),
      /tables "host" trains only with softmax "sampled"/,
    );
    model.dispose();
    loaded.model.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bytes per track of host tables", () => {
  deepStrictEqual(hostBytesPerTrack({ embeddingSize: 128, hiddenUnits: 128 }), {
    tables: 1028,
    training: 3084,
  });
});

Deno.test("host training leaves no tensors behind", async () => {
  await assertTrainingLeavesNoTensors(TOKENS, VOCAB_SIZE, {
    ...SMALL_SAMPLED,
    tables: "host",
    maxSteps: 4,
    devTokens: TOKENS.subarray(0, 100),
    evaluateEvery: 2,
  });
});
