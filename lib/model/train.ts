/**
 * Training the Track2Seq network on a token stream, and measuring its loss on held-out tokens.
 *
 * The stream is all training playlists concatenated with the end-of-playlist token between them. It is cut
 * into `batchSize` contiguous streams that are read side by side in windows, so the LSTM state at the end of
 * one batch is the right starting state for the next (truncated backpropagation through time).
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { NegativeSampler } from "./negative_sampler.ts";
import {
  createModel,
  DEFAULT_NETWORK_CONFIG,
  disposeState,
  type LstmState,
  type Track2SeqModel,
} from "./network.ts";
import { fullSoftmaxLosses } from "./softmax_loss.ts";
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
  const model = resume?.model ??
    createModel({
      vocabSize,
      embeddingSize: settings.embeddingSize,
      hiddenUnits: settings.hiddenUnits,
      layers: settings.layers,
    }, settings.seed);
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
  const positionNow = (): TrainingPosition => ({
    streamTokens: tokens.length,
    streamHash,
    window: settings.window,
    stride,
    batchSize: settings.batchSize,
    carried: state === undefined ? null : carriedValues(state),
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
        ({ loss, state: next } = trainStep(
          model,
          optimizer,
          variables,
          batch,
          layout.streams,
          before,
          carryAfter,
          { sampler, clipNorm: settings.clipNorm },
        ));
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
        const report = evaluateLoss(model, settings.devTokens, {
          batchSize: settings.batchSize,
          window: settings.window,
        });
        devHistory.push({ step, ...report });
        devLoss = report.loss;
      }
      if (settings.checkpointDir !== undefined && (step % settings.checkpointEvery === 0 || lastStep)) {
        await saveTrainingCheckpoint(model, settings.checkpointDir, {
          optimizer,
          step,
          options: { ...recordedOptions(settings) },
          metadata: settings.checkpointMetadata,
          position: positionNow(),
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
      step,
      position: positionNow(),
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
 * @throws {RangeError} when a token is not below the model's vocabulary size or the stream has fewer than
 *   2 tokens.
 */
export function evaluateLoss(
  model: Track2SeqModel,
  tokens: Int32Array,
  options: { batchSize?: number; window?: number } = {},
): LossReport {
  const batchSize = options.batchSize ?? DEFAULT_TRAIN_OPTIONS.batchSize;
  const window = options.window ?? DEFAULT_TRAIN_OPTIONS.window;
  validateTokens(tokens, model.config.vocabSize, "Evaluation");
  if (tokens.length < 2) {
    throw new RangeError(
      `Evaluation failed: the stream has ${tokens.length} tokens, but one prediction needs at least 2.`,
    );
  }
  const layout = layoutStreams(tokens.length, Math.min(batchSize, tokens.length - 1), "Evaluation");

  let state = model.zeroState(layout.streams);
  let total = 0;
  let count = 0;
  for (let start = 0; start < layout.streamLength; start += window) {
    const length = Math.min(window, layout.streamLength - start);
    const batch = windowBatch(tokens, layout, start, length);

    const { sum, next } = tf.tidy(() => {
      const inputs = tf.tensor1d(batch.inputs, "int32");
      const targets = tf.tensor1d(batch.targets, "int32");
      const { hidden, state: next } = model.run(inputs, layout.streams, state);
      const losses = fullSoftmaxLosses(hidden, model.outputKernel, model.outputBias, targets);
      return { sum: tf.sum(losses), next };
    });
    disposeState(state);
    state = next;
    total += (sum.dataSync() as Float32Array)[0];
    count += batch.targets.length;
    sum.dispose();
  }
  disposeState(state);

  const loss = total / count;
  return { loss, perplexity: Math.exp(loss), tokens: count };
}

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
  return settings;
}

/** Returns the options worth recording with a result or a checkpoint: all but the inputs and metadata. */
function recordedOptions(settings: TrainOptions): TrainResult["options"] {
  const { devTokens: _dev, resumeFrom: _resume, checkpointMetadata: _metadata, ...recorded } = settings;
  return recorded;
}

/** Reads an LSTM state into plain values. */
function carriedValues(state: LstmState): CarriedState {
  const read = (tensor: tf.Tensor) => (tensor.dataSync() as Float32Array).slice();
  return { h: state.h.map(read), c: state.c.map(read) };
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
