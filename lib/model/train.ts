/**
 * Training the Track2Seq network on a token stream, and measuring its loss on held-out tokens.
 *
 * The stream is all training playlists concatenated with the end-of-playlist token between them. It is cut
 * into `batchSize` contiguous streams that are read side by side in windows, so the LSTM state at the end of
 * one batch is the right starting state for the next (truncated backpropagation through time).
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { adamConfig } from "./adam_state.ts";
import type { TableStorage } from "./host_tables.ts";
import { hostTrainStep, RowIndex } from "./host_train_step.ts";
import { OutputSlices } from "./output_slices.ts";
import { NegativeSampler } from "./negative_sampler.ts";
import {
  createModel,
  DEFAULT_NETWORK_CONFIG,
  disposeState,
  type LstmState,
  type Track2SeqModel,
} from "./network.ts";
import { fullSoftmaxLosses, slicedSoftmaxLosses } from "./softmax_loss.ts";
import { SparseAdam } from "./sparse_adam.ts";
import { hashTokens, layoutStreams, validateTokens, windowBatch, windowStarts } from "./token_stream.ts";
import { listCheckpointSteps, saveTrainingCheckpoint } from "./training_checkpoints.ts";
import type {
  CarriedState,
  DevLossPoint,
  LossPoint,
  LossReport,
  TrainingPosition,
  TrainingState,
} from "./training_state.ts";
import { trainStep } from "./train_step.ts";

/** The loss that trains the output layer. */
export type SoftmaxKind = "full" | "sampled";

/** Training options. Every field has a default in {@linkcode DEFAULT_TRAIN_OPTIONS}. */
export interface TrainOptions {
  /** Width of the token embedding. Default 128. Ignored when resuming. */
  embeddingSize: number;
  /** Units per LSTM layer. Default 128. Ignored when resuming. */
  hiddenUnits: number;
  /** Number of stacked LSTM layers. Default 2. Ignored when resuming. */
  layers: number;
  /** Tokens per truncated-backpropagation window. Default 50. */
  window: number;
  /**
   * Tokens between the starts of consecutive windows, 1 to `window`. Default: `window`, so windows do not
   * overlap. The original study used 5, so each token is trained on window / stride times.
   */
  stride?: number;
  /** Number of parallel streams per batch. Default 32. */
  batchSize: number;
  /** Adam learning rate. Default 0.001. */
  learningRate: number;
  /** Passes over the stream. Default 1. */
  epochs: number;
  /** Stop after this many steps in all, resumed steps included. Default: no limit. */
  maxSteps?: number;
  /** Seed of the weight initialization and of negative sampling. Default 2018. */
  seed: number;
  /** Rescale gradients whose global norm exceeds this. Default: no clipping, as in the original study. */
  clipNorm?: number;
  /**
   * `full`: softmax cross-entropy over the whole vocabulary. `sampled`: sampled softmax over the true token
   * and `sampledNegatives` negatives shared by the batch, drawn from the unigram distribution of the training
   * stream raised to 0.75, with the log-probability correction. Default `full`.
   */
  softmax: SoftmaxKind;
  /** Negatives per step for the sampled softmax. Default 1000. */
  sampledNegatives: number;
  /**
   * The storage of the embedding and output tables. `heap`: TensorFlow.js variables in the wasm heap,
   * trained with dense Adam, so the 4 GiB heap limits the vocabulary to about 200,000 tokens. `host`:
   * JavaScript arrays, 3,084 bytes per token with their Adam moments (see lib/model/host_tables.ts). Each
   * step uploads only the rows it reads and updates them with lazy Adam (lib/model/sparse_adam.ts), and
   * training needs `softmax` `sampled`. When resuming, it must match the model's tables. Default `heap`.
   */
  tables: TableStorage;
  /** Held-out token stream whose full-softmax loss is measured during training. Default: none. */
  devTokens?: Int32Array;
  /** Steps between dev loss measurements; the last step is measured too. Default 500. */
  evaluateEvery: number;
  /**
   * A training state to continue from, such as a loaded checkpoint or an earlier result. With a position
   * (every checkpoint saved by `checkpointDir` has one), the run continues exactly: same windows, carried
   * LSTM state and negative samples as an uninterrupted run. Default: none.
   */
  resumeFrom?: TrainingState;
  /**
   * A folder for periodic checkpoints, one subfolder `step-<step>` each, replaced atomically, so a killed
   * run resumes from `loadLatestCheckpoint(checkpointDir)`. It must not contain a checkpoint past the step
   * that training starts from. Default: none, no checkpoints are written.
   */
  checkpointDir?: string;
  /** Steps between periodic checkpoints; the last step is saved too. Default 1000. */
  checkpointEvery: number;
  /** JSON-serializable facts saved with every periodic checkpoint, such as the vocabulary's source. */
  checkpointMetadata?: Record<string, unknown>;
}

/** Default training options: those of the original study, except `stride` (see {@linkcode TrainOptions}). */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  ...DEFAULT_NETWORK_CONFIG,
  window: 50,
  batchSize: 32,
  learningRate: 0.001,
  epochs: 1,
  seed: 2018,
  softmax: "full",
  sampledNegatives: 1000,
  tables: "heap",
  evaluateEvery: 500,
  checkpointEvery: 1000,
};

/** The report passed to the progress callback after every step. */
export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Training loss of this step, in nats per token, of the configured softmax. */
  loss: number;
  /** Tokens processed per second since training started, dev evaluation excluded. */
  tokensPerSecond: number;
  /** Full-softmax dev loss, on the steps where it was measured. */
  devLoss?: number;
}

/** The trained model and its learning curve. */
export interface TrainResult extends TrainingState {
  /** Adam of the weights in the wasm heap: all weights, or with host tables the LSTM weights. */
  optimizer: tf.AdamOptimizer;
  /** The position after the last step; pass the result as `resumeFrom` to continue exactly. */
  position: TrainingPosition;
  /** Training loss of every step, those of the run resumed from included. */
  history: LossPoint[];
  /** Full-softmax dev loss at the measured steps, those of the run resumed from included. */
  devHistory: DevLossPoint[];
  /** Tokens processed per second over the steps of this call, dev evaluation and checkpoints excluded. */
  tokensPerSecond: number;
  /** Options after defaults were applied, without `devTokens`, `resumeFrom` and `checkpointMetadata`. */
  options: Omit<TrainOptions, "devTokens" | "resumeFrom" | "checkpointMetadata">;
}

/**
 * Trains a Track2Seq network with Adam on `tokens`, the training playlists concatenated with the
 * end-of-playlist token (0) between them. The target of each token is the next token.
 *
 * Every step takes one window of every stream, so a step processes about `batchSize * window` tokens.
 * Windows that do not fill up at the end of a stream are shortened. The LSTM state starts at zero at the
 * start of each epoch and is carried between steps. When resuming, the first `resumeFrom.step` steps are
 * skipped. With a position in `resumeFrom`, the run continues from its carried state and sampler state, so
 * its losses equal those of an uninterrupted run with the same seed on the same backend.
 *
 * @param tokens the training stream, token ids below `vocabSize`.
 * @param vocabSize number of tokens, special tokens included.
 * @param options fields left out take {@linkcode DEFAULT_TRAIN_OPTIONS}.
 * @param onProgress called after every step.
 * @throws {RangeError} when an option is out of range, a token is not below `vocabSize`, the stream is too
 *   short for one token per stream, or `resumeFrom` has a position for another stream or window layout.
 * @throws {Error} when `checkpointDir` contains a checkpoint past the starting step.
 */
export async function trainTrack2Seq(
  tokens: Int32Array,
  vocabSize: number,
  options: Partial<TrainOptions> = {},
  onProgress?: (progress: TrainProgress) => void,
): Promise<TrainResult> {
  const settings = resolveOptions(options);
  validateTokens(tokens, vocabSize, "Training");
  const layout = layoutStreams(tokens.length, settings.batchSize, "Training");
  const stride = settings.stride ?? settings.window;
  const starts = windowStarts(layout.streamLength, settings.window, stride);
  const streamHash = hashTokens(tokens);

  const resume = settings.resumeFrom;
  if (resume?.position !== undefined) {
    checkResumedPosition(resume.position, tokens.length, streamHash, settings);
  }
  if (resume !== undefined && resume.model.tables !== settings.tables) {
    throw new RangeError(
      `Training failed: the model to resume keeps its tables in "${resume.model.tables}" memory, the ` +
        `options ask for tables "${settings.tables}". Resume with tables "${resume.model.tables}".`,
    );
  }
  const model = resume?.model ??
    createModel(
      {
        vocabSize,
        embeddingSize: settings.embeddingSize,
        hiddenUnits: settings.hiddenUnits,
        layers: settings.layers,
      },
      settings.seed,
      settings.tables,
    );
  if (model.config.vocabSize !== vocabSize) {
    throw new RangeError(
      `Training failed: the model to resume has vocabSize ${model.config.vocabSize}, ` +
        `the stream ${vocabSize}. Resume with a checkpoint trained on the same vocabulary.`,
    );
  }
  let step = resume?.step ?? 0;
  if (settings.checkpointDir !== undefined) {
    await checkCheckpointFolder(settings.checkpointDir, step);
  }

  const optimizer = resume?.optimizer ?? tf.train.adam(settings.learningRate);
  // With host tables, lazy Adam updates the tables with the hyperparameters of the LSTM's Adam.
  const tableOptimizer = model.host === null
    ? undefined
    : resume?.tableOptimizer ?? new SparseAdam(adamConfig(optimizer));
  const rowIndex = model.host === null ? undefined : new RowIndex(vocabSize);
  const variables = model.namedWeights().map((weight) => weight.variable);
  const sampler = settings.softmax === "sampled"
    ? new NegativeSampler(
      tokens,
      vocabSize,
      settings.sampledNegatives,
      resume?.position?.samplerRandomState ?? (settings.seed ^ 0x5bd1e995),
    )
    : undefined;

  const stepsPerEpoch = starts.length;
  const totalSteps = Math.min(settings.maxSteps ?? Infinity, stepsPerEpoch * settings.epochs);
  const history: LossPoint[] = [...resume?.history ?? []];
  const devHistory: DevLossPoint[] = [...resume?.devHistory ?? []];
  let tokensProcessed = 0;
  let trainingSeconds = 0;

  // The state carried into the next step; undefined stands for a zero state, as at the start of an epoch.
  const restored = resume?.position?.carried;
  let state: LstmState | undefined = restored && step % stepsPerEpoch !== 0
    ? carriedTensors(restored, layout.streams, model.config.hiddenUnits)
    : undefined;
  const positionNow = async (): Promise<TrainingPosition> => ({
    streamTokens: tokens.length,
    streamHash,
    window: settings.window,
    stride,
    batchSize: settings.batchSize,
    carried: state === undefined ? null : await carriedValues(state),
    samplerRandomState: sampler?.randomState ?? null,
  });

  try {
    while (step < totalSteps) {
      const started = performance.now();
      const index = step % stepsPerEpoch;
      const length = Math.min(settings.window, layout.streamLength - starts[index]);
      const batch = windowBatch(tokens, layout, starts[index], length);
      const carryAfter = index + 1 < stepsPerEpoch
        ? Math.min(starts[index + 1] - starts[index], length)
        : length;

      const before = state ?? model.zeroState(layout.streams);
      state = undefined;
      let next: LstmState;
      let loss: number;
      try {
        ({ loss, state: next } = tableOptimizer === undefined
          ? await trainStep(
            model,
            optimizer,
            variables,
            batch,
            layout.streams,
            before,
            carryAfter,
            { sampler, clipNorm: settings.clipNorm },
          )
          : await hostTrainStep(model, batch, layout.streams, before, carryAfter, {
            optimizer,
            tableOptimizer,
            sampler: sampler as NegativeSampler,
            rowIndex: rowIndex as RowIndex,
            clipNorm: settings.clipNorm,
          }));
      } finally {
        disposeState(before);
      }
      step++;

      // Every epoch starts from a zero state, so the state after an epoch's last window is dropped.
      if (step % stepsPerEpoch === 0) {
        disposeState(next);
      } else {
        state = next;
      }
      tokensProcessed += batch.inputs.length;
      trainingSeconds += (performance.now() - started) / 1000;
      history.push({ step, loss });

      let devLoss: number | undefined;
      const lastStep = step === totalSteps;
      if (settings.devTokens !== undefined && (step % settings.evaluateEvery === 0 || lastStep)) {
        const report = await evaluateLoss(model, settings.devTokens, {
          batchSize: settings.batchSize,
          window: settings.window,
        });
        devHistory.push({ step, ...report });
        devLoss = report.loss;
      }
      if (settings.checkpointDir !== undefined && (step % settings.checkpointEvery === 0 || lastStep)) {
        await saveTrainingCheckpoint(model, settings.checkpointDir, {
          optimizer,
          tableOptimizer,
          step,
          options: { ...recordedOptions(settings) },
          metadata: settings.checkpointMetadata,
          position: await positionNow(),
          history,
          devHistory,
        });
      }
      onProgress?.({ step, totalSteps, loss, tokensPerSecond: tokensProcessed / trainingSeconds, devLoss });

      // Yields to the event loop, so timers and signals of the caller run during a long training.
      await Promise.resolve();
    }

    return {
      model,
      optimizer,
      tableOptimizer,
      step,
      position: await positionNow(),
      history,
      devHistory,
      tokensPerSecond: trainingSeconds > 0 ? tokensProcessed / trainingSeconds : 0,
      options: recordedOptions(settings),
    };
  } finally {
    if (state !== undefined) disposeState(state);
  }
}

/**
 * Measures the mean full-softmax cross-entropy of `model` on `tokens`, a held-out stream in the training
 * format. The stream is read as `batchSize` side-by-side streams in windows of `window` tokens, with the
 * state carried, so each prediction uses the context of its stream from the stream's start. Each stream
 * starts from a zero state, so on a short held-out stream a larger `batchSize` means more predictions with
 * little context.
 *
 * The log-sum-exp over the vocabulary is computed one slice of the output table at a time (at most 16 M
 * logits each), so no [rows, vocabSize] tensor is built, in two cases: with host tables, and with in-heap
 * tables when a window's logits would exceed 2^28 values. That is 1 GiB, above about 167,000 tokens with the
 * default batch. The slices are uploaded once and held in the wasm heap during the evaluation (see
 * lib/model/output_slices.ts).
 *
 * @throws {RangeError} when a token is not below the model's vocabulary size or the stream has fewer than
 *   2 tokens.
 */
export async function evaluateLoss(
  model: Track2SeqModel,
  tokens: Int32Array,
  options: { batchSize?: number; window?: number } = {},
): Promise<LossReport> {
  const batchSize = options.batchSize ?? DEFAULT_TRAIN_OPTIONS.batchSize;
  const window = options.window ?? DEFAULT_TRAIN_OPTIONS.window;
  validateTokens(tokens, model.config.vocabSize, "Evaluation");
  if (tokens.length < 2) {
    throw new RangeError(
      `Evaluation failed: the stream has ${tokens.length} tokens, but one prediction needs at least 2.`,
    );
  }
  const layout = layoutStreams(tokens.length, Math.min(batchSize, tokens.length - 1), "Evaluation");

  // Whether the vocabulary is projected in slices is decided once, for the longest window.
  const rows = layout.streams * Math.min(window, layout.streamLength);
  const slices = model.host !== null || rows * model.config.vocabSize > HEAP_FULL_SOFTMAX_VALUES
    ? OutputSlices.upload(model, rows)
    : undefined;
  let state = model.zeroState(layout.streams);
  let total = 0;
  let count = 0;
  try {
    for (let start = 0; start < layout.streamLength; start += window) {
      const length = Math.min(window, layout.streamLength - start);
      const batch = windowBatch(tokens, layout, start, length);

      const { sum, next } = tf.tidy(() => {
        const inputs = tf.tensor1d(batch.inputs, "int32");
        const targets = tf.tensor1d(batch.targets, "int32");
        const { hidden, state: next } = model.run(inputs, layout.streams, state);
        const losses = slices === undefined
          ? fullSoftmaxLosses(hidden, model.outputKernel, model.outputBias, targets)
          : slicedSoftmaxLosses(model, hidden, batch.targets, slices);
        return { sum: tf.sum(losses), next };
      });
      disposeState(state);
      state = next;
      try {
        total += (await sum.data() as Float32Array)[0];
      } finally {
        sum.dispose();
      }
      count += batch.targets.length;
    }
  } finally {
    disposeState(state);
    slices?.dispose();
  }

  const loss = total / count;
  return { loss, perplexity: Math.exp(loss), tokens: count };
}

/** The maximum number of logits that evaluation with in-heap tables computes in one piece, 1 GiB in float32. */
const HEAP_FULL_SOFTMAX_VALUES = 2 ** 28;

function resolveOptions(options: Partial<TrainOptions>): TrainOptions {
  const settings: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) {
      Object.assign(settings, { [key]: value });
    }
  }

  const positive = [
    "window",
    "batchSize",
    "epochs",
    "embeddingSize",
    "hiddenUnits",
    "layers",
    "evaluateEvery",
    "checkpointEvery",
  ] as const;
  for (const key of positive) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) {
      throw new RangeError(`Training failed: ${key} must be a positive integer, got ${settings[key]}.`);
    }
  }
  const stride = settings.stride ?? settings.window;
  if (!Number.isInteger(stride) || stride < 1 || stride > settings.window) {
    throw new RangeError(
      `Training failed: stride must be an integer in [1, window = ${settings.window}], got ${stride}.`,
    );
  }
  if (!(settings.learningRate > 0)) {
    throw new RangeError(`Training failed: learningRate must be positive, got ${settings.learningRate}.`);
  }
  if (settings.maxSteps !== undefined && !(Number.isInteger(settings.maxSteps) && settings.maxSteps >= 0)) {
    throw new RangeError(
      `Training failed: maxSteps must be a non-negative integer, got ${settings.maxSteps}.`,
    );
  }
  if (settings.clipNorm !== undefined && !(settings.clipNorm > 0)) {
    throw new RangeError(`Training failed: clipNorm must be positive, got ${settings.clipNorm}.`);
  }
  if (settings.softmax !== "full" && settings.softmax !== "sampled") {
    throw new RangeError(`Training failed: softmax must be "full" or "sampled", got "${settings.softmax}".`);
  }
  if (settings.tables !== "heap" && settings.tables !== "host") {
    throw new RangeError(`Training failed: tables must be "heap" or "host", got "${settings.tables}".`);
  }
  if (settings.tables === "host" && settings.softmax !== "sampled") {
    throw new RangeError(
      `Training failed: tables "host" trains only with softmax "sampled", because the full softmax needs ` +
        `the whole output table at every step. Set softmax to "sampled", or use tables "heap".`,
    );
  }
  return settings;
}

/** Returns the options worth recording with a result or a checkpoint: all but the inputs and metadata. */
function recordedOptions(settings: TrainOptions): TrainResult["options"] {
  const { devTokens: _dev, resumeFrom: _resume, checkpointMetadata: _metadata, ...recorded } = settings;
  return recorded;
}

/** Reads an LSTM state into plain values, with `await data()`, which the webgpu backend needs. */
async function carriedValues(state: LstmState): Promise<CarriedState> {
  const read = async (tensor: tf.Tensor) => (await tensor.data() as Float32Array).slice();
  return { h: await Promise.all(state.h.map(read)), c: await Promise.all(state.c.map(read)) };
}

/** Makes an LSTM state of `streams` rows from plain values. */
function carriedTensors(carried: CarriedState, streams: number, units: number): LstmState {
  const make = (values: Float32Array) => tf.tensor2d(values, [streams, units]);
  return { h: carried.h.map(make), c: carried.c.map(make) };
}

/**
 * Checks that a position saved by an earlier run fits this run: same stream, same windows, and a carried
 * state with one [batchSize, hiddenUnits] block per layer.
 */
function checkResumedPosition(
  position: TrainingPosition,
  tokenCount: number,
  streamHash: string,
  settings: TrainOptions,
): void {
  if (position.streamTokens !== tokenCount || position.streamHash !== streamHash) {
    throw new RangeError(
      `Resuming training failed: the checkpoint was trained on a stream of ${position.streamTokens} tokens ` +
        `with hash ${position.streamHash}, this stream has ${tokenCount} tokens with hash ${streamHash}. ` +
        `Resume on the same training stream, or start a new run.`,
    );
  }
  const expected = {
    window: settings.window,
    stride: settings.stride ?? settings.window,
    batchSize: settings.batchSize,
  };
  for (const key of ["window", "stride", "batchSize"] as const) {
    if (position[key] !== expected[key]) {
      throw new RangeError(
        `Resuming training failed: the checkpoint was trained with ${key} ${position[key]}, the options ` +
          `ask for ${expected[key]}. Resume with ${key} ${position[key]}, or start a new run.`,
      );
    }
  }
  if (position.carried !== null) {
    const units = settings.resumeFrom?.model.config.hiddenUnits ?? settings.hiddenUnits;
    const layers = settings.resumeFrom?.model.config.layers ?? settings.layers;
    const sizes = [...position.carried.h, ...position.carried.c].map((values) => values.length);
    if (sizes.length !== 2 * layers || sizes.some((size) => size !== settings.batchSize * units)) {
      throw new RangeError(
        `Resuming training failed: the carried LSTM state has blocks of [${sizes}] values, expected ` +
          `${2 * layers} blocks of ${settings.batchSize * units}. Resume from an intact checkpoint.`,
      );
    }
  }
}

/** Rejects a checkpoint folder that contains a checkpoint past `step`, which this run would mix with its own. */
async function checkCheckpointFolder(folder: string, step: number): Promise<void> {
  const later = (await listCheckpointSteps(folder)).filter((saved) => saved > step);
  if (later.length > 0) {
    throw new Error(
      `Training failed: checkpointDir ${folder} contains the checkpoint of step ${later.at(-1)}, but ` +
        `training starts at step ${step}. Resume from it with loadLatestCheckpoint, or use an empty folder.`,
    );
  }
}
