/**
 * Training the Track2Seq network on a token stream, and measuring its loss on held-out tokens.
 *
 * The stream is all training playlists concatenated with the end-of-playlist token between them. It is cut
 * into `batchSize` contiguous streams that are read side by side in windows, so the LSTM state at the end of
 * one batch is the right starting state for the next (truncated backpropagation through time).
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { createRandom, type RandomSource } from "../util/random.ts";
import {
  createModel,
  DEFAULT_NETWORK_CONFIG,
  disposeState,
  type LstmState,
  type Track2SeqModel,
} from "./network.ts";

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
  /** A model, optimizer and step count to continue from, such as a loaded checkpoint. Default: none. */
  resumeFrom?: TrainingState;
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
};

/** A model with the optimizer that trains it and the number of steps taken so far. */
export interface TrainingState {
  model: Track2SeqModel;
  /** Absent for a model loaded without optimizer state; training then starts a fresh optimizer. */
  optimizer?: tf.AdamOptimizer;
  step: number;
}

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

/** Loss on held-out tokens. */
export interface LossReport {
  /** Mean cross-entropy in nats per predicted token. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Number of predicted tokens. */
  tokens: number;
}

/** The trained model and its learning curve. */
export interface TrainResult extends TrainingState {
  optimizer: tf.AdamOptimizer;
  /** Training loss of every step. */
  history: { step: number; loss: number }[];
  /** Full-softmax dev loss at the measured steps; empty without `devTokens`. */
  devHistory: ({ step: number } & LossReport)[];
  /** Tokens processed per second over the whole run, dev evaluation excluded. */
  tokensPerSecond: number;
  /** Options after defaults were applied, without `devTokens` and `resumeFrom`. */
  options: Omit<TrainOptions, "devTokens" | "resumeFrom">;
}

/**
 * Trains a Track2Seq network with Adam on `tokens`, the training playlists concatenated with the
 * end-of-playlist token (0) between them. The target of each token is the next token.
 *
 * Every step takes one window of every stream, so a step processes about `batchSize * window` tokens.
 * Windows that do not fill up at the end of a stream are shortened. The LSTM state starts at zero at the
 * start of each epoch and is carried between steps. When resuming, the first `resumeFrom.step` steps are
 * skipped and the state restarts at zero.
 *
 * @param tokens the training stream, token ids below `vocabSize`.
 * @param vocabSize number of tokens, special tokens included.
 * @param options fields left out take {@linkcode DEFAULT_TRAIN_OPTIONS}.
 * @param onProgress called after every step.
 * @throws {RangeError} when an option is out of range, a token is not below `vocabSize`, or the stream is
 *   too short for one token per stream.
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
  const starts = windowStarts(layout.streamLength, settings.window, settings.stride ?? settings.window);

  const resume = settings.resumeFrom;
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
  const optimizer = resume?.optimizer ?? tf.train.adam(settings.learningRate);
  const variables = model.namedWeights().map((weight) => weight.variable);
  const sampler = settings.softmax === "sampled"
    ? new NegativeSampler(
      tokens,
      vocabSize,
      settings.sampledNegatives,
      createRandom(settings.seed ^ 0x5bd1e995),
    )
    : undefined;

  const stepsPerEpoch = starts.length;
  const totalSteps = Math.min(settings.maxSteps ?? Infinity, stepsPerEpoch * settings.epochs);
  const history: TrainResult["history"] = [];
  const devHistory: TrainResult["devHistory"] = [];
  let step = resume?.step ?? 0;
  let tokensProcessed = 0;
  let trainingSeconds = 0;

  while (step < totalSteps) {
    const epochStep = step % stepsPerEpoch;
    let state = model.zeroState(layout.streams);

    for (let index = epochStep; index < stepsPerEpoch && step < totalSteps; index++) {
      const started = performance.now();
      const length = Math.min(settings.window, layout.streamLength - starts[index]);
      const batch = windowBatch(tokens, layout, starts[index], length);
      const carryAfter = index + 1 < stepsPerEpoch
        ? Math.min(starts[index + 1] - starts[index], length)
        : length;

      const { loss, state: next } = trainStep(
        model,
        optimizer,
        variables,
        batch,
        layout.streams,
        state,
        carryAfter,
        {
          sampler,
          clipNorm: settings.clipNorm,
        },
      );
      disposeState(state);
      state = next;
      step++;
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
      onProgress?.({ step, totalSteps, loss, tokensPerSecond: tokensProcessed / trainingSeconds, devLoss });

      // Yields to the event loop, so timers and signals of the caller run during a long training.
      await Promise.resolve();
    }
    disposeState(state);
  }

  const { devTokens: _dev, resumeFrom: _resume, ...recorded } = settings;
  return {
    model,
    optimizer,
    step,
    history,
    devHistory,
    tokensPerSecond: trainingSeconds > 0 ? tokensProcessed / trainingSeconds : 0,
    options: recorded,
  };
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

/** The cut of a token stream into parallel streams. */
interface StreamLayout {
  streams: number;
  /** Input positions per stream; stream `s` reads inputs at s * streamLength + i and targets one later. */
  streamLength: number;
}

/** @param action the name of the failing action in error messages, such as "Training". */
function layoutStreams(tokenCount: number, streams: number, action: string): StreamLayout {
  const streamLength = Math.floor((tokenCount - 1) / streams);
  if (streamLength < 1) {
    throw new RangeError(
      `${action} failed: ${tokenCount} tokens are too few for ` +
        `${streams} parallel streams. Use at least ${streams + 1} tokens or a smaller batchSize.`,
    );
  }
  return { streams, streamLength };
}

/**
 * Window starts 0, stride, 2 * stride, ... until a window reaches the end of the stream. Every position is
 * in some window; the last window may be shorter than `window`.
 */
function windowStarts(streamLength: number, window: number, stride: number): number[] {
  const starts = [0];
  while (starts[starts.length - 1] + window < streamLength) {
    starts.push(starts[starts.length - 1] + stride);
  }
  return starts;
}

/** Inputs and targets of one window of all streams, time-major [length * streams]. */
interface WindowBatch {
  inputs: Int32Array;
  targets: Int32Array;
}

function windowBatch(tokens: Int32Array, layout: StreamLayout, start: number, length: number): WindowBatch {
  const { streams, streamLength } = layout;
  const inputs = new Int32Array(length * streams);
  const targets = new Int32Array(length * streams);
  for (let t = 0; t < length; t++) {
    for (let s = 0; s < streams; s++) {
      const position = s * streamLength + start + t;
      inputs[t * streams + s] = tokens[position];
      targets[t * streams + s] = tokens[position + 1];
    }
  }
  return { inputs, targets };
}

/** Runs one forward and backward pass and applies the Adam update. Returns the loss and the carried state. */
function trainStep(
  model: Track2SeqModel,
  optimizer: tf.AdamOptimizer,
  variables: tf.Variable[],
  batch: WindowBatch,
  streams: number,
  state: LstmState,
  carryAfter: number,
  settings: { sampler?: NegativeSampler; clipNorm?: number },
): { loss: number; state: LstmState } {
  const negatives = settings.sampler?.sample(batch.targets);
  let carried: LstmState | undefined;

  const lossTensor = tf.tidy(() => {
    const inputs = tf.tensor1d(batch.inputs, "int32");
    const targets = tf.tensor1d(batch.targets, "int32");

    const { value, grads } = tf.variableGrads(() => {
      const { hidden, state: next } = model.run(inputs, streams, state, carryAfter);
      carried = { h: next.h.map((t) => tf.keep(t)), c: next.c.map((t) => tf.keep(t)) };
      return negatives === undefined
        ? tf.mean(fullSoftmaxLosses(hidden, model.outputKernel, model.outputBias, targets))
        : sampledSoftmaxLoss(model, hidden, targets, negatives);
    }, variables);

    const gradients = variables.map((variable) => ({ name: variable.name, tensor: grads[variable.name] }));
    if (settings.clipNorm !== undefined) {
      clipByGlobalNorm(gradients, settings.clipNorm);
    }
    optimizer.applyGradients(gradients);
    return value;
  });

  const loss = (lossTensor.dataSync() as Float32Array)[0];
  lossTensor.dispose();
  if (!Number.isFinite(loss)) {
    throw new Error(
      `Training failed: the loss became ${loss}. Lower learningRate or set clipNorm, then train again.`,
    );
  }
  return { loss, state: carried as LstmState };
}

/** Rescales `gradients` in place so their global L2 norm is at most `clipNorm`. Call inside `tf.tidy`. */
function clipByGlobalNorm(gradients: { name: string; tensor: tf.Tensor }[], clipNorm: number): void {
  const squares = gradients.map(({ tensor }) => tf.sum(tf.square(tensor)));
  const norm = tf.sqrt(tf.addN(squares));
  const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
  for (const gradient of gradients) {
    gradient.tensor = tf.mul(gradient.tensor, scale);
  }
}

/**
 * Computes the per-row full-softmax cross-entropy, [rows], of the output projection of `hidden` against
 * `labels`.
 *
 * One custom op covers projection and loss, so the [rows, vocabSize] matrices are touched as few times as
 * possible: the forward pass saves exp(logits - max) and its row sums, and the backward pass turns them into
 * softmax - one-hot without another exp. The bias gradient is a product with a row of ones, because wasm
 * sums over the first axis by transposing the whole matrix first.
 *
 * @param hidden [rows, hiddenUnits].
 * @param kernel [hiddenUnits, vocabSize].
 * @param bias [vocabSize].
 * @param labels target tokens, int32, [rows].
 */
function fullSoftmaxLosses(
  hidden: tf.Tensor2D,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  labels: tf.Tensor1D,
): tf.Tensor1D {
  const rows = hidden.shape[0];
  const classes = bias.shape[0];
  const flatIndices = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(classes, "int32")), labels);

  const crossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [h, w, b, labelInput] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const logits = tf.fused.matMul({ a: h as tf.Tensor2D, b: w as tf.Tensor2D, bias: b });
    const rowMax = tf.max(logits, 1, true);
    const shiftedExp = tf.exp(tf.sub(logits, rowMax));
    const rowSum = tf.sum(shiftedExp, 1, true);
    const logNormalizer = tf.add(tf.log(rowSum), rowMax);
    const picked = tf.gather(tf.reshape(logits, [-1]), flatIndices);
    save([h, w, shiftedExp, rowSum, labelInput]);

    return {
      value: tf.sub(tf.reshape(logNormalizer, [-1]), picked),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedHidden, savedKernel, savedExp, savedSum, savedLabels] = saved;
        const rowScale = tf.expandDims(dy as tf.Tensor, 1);

        // d loss / d logits = softmax * dy - one-hot * dy, with the one-hot part scattered at the targets.
        const scaled = tf.mul(savedExp, tf.div(rowScale, savedSum));
        const targetPositions = tf.stack([tf.range(0, rows, 1, "int32"), savedLabels], 1);
        const targetPart = tf.scatterND(targetPositions, dy as tf.Tensor1D, [rows, classes]);
        const gradLogits = tf.sub(scaled, targetPart) as tf.Tensor2D;

        const gradHidden = tf.matMul(gradLogits, savedKernel as tf.Tensor2D, false, true);
        const gradKernel = tf.matMul(savedHidden as tf.Tensor2D, gradLogits, true, false);
        const gradBias = tf.reshape(tf.matMul(tf.ones([1, rows]), gradLogits), [classes]);
        return [gradHidden, gradKernel, gradBias, tf.zerosLike(savedLabels)];
      },
    };
  });
  return crossEntropy(hidden, kernel, bias, labels) as tf.Tensor1D;
}

/**
 * Computes the per-row softmax cross-entropy, [rows], of `logits` [rows, classes] against integer `labels`.
 * Its gradient with respect to the logits is softmax - one-hot, computed directly, so the backward pass
 * touches the [rows, classes] matrix only a few times.
 */
function tokenLosses(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [rows, classes] = logits.shape;
  const flatIndices = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(classes, "int32")), labels);

  // The labels are an input of the custom op, so the engine keeps them alive for the backward pass.
  const crossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const labelInput = args[1] as tf.Tensor1D;
    const save = args[2] as tf.GradSaveFunc;
    const logNormalizer = tf.logSumExp(x, 1);
    const picked = tf.gather(tf.reshape(x, [-1]), flatIndices);
    save([x, logNormalizer, labelInput]);

    return {
      value: tf.sub(logNormalizer, picked),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedLogits, savedNormalizer, savedLabels] = saved;
        const probabilities = tf.exp(tf.sub(savedLogits, tf.expandDims(savedNormalizer, 1)));
        const difference = tf.sub(
          probabilities,
          tf.oneHot(savedLabels as tf.Tensor1D, classes, 1, 0, "float32"),
        );
        return [tf.mul(difference, tf.expandDims(dy as tf.Tensor, 1)), tf.zerosLike(savedLabels)];
      },
    };
  });
  return crossEntropy(logits, labels) as tf.Tensor1D;
}

/** The negatives of one step: token ids, their log expected counts, and where they hit a row's target. */
interface NegativeSample {
  negatives: Int32Array;
  /** log(S * q(token)) of each negative, [S]. */
  logExpected: Float32Array;
  /** log(S * q(target)) of each row's target, [rows]. */
  targetLogExpected: Float32Array;
  /** A large negative number where negative j equals row i's target, else 0, [rows, S]; null without hits. */
  hitMask: Float32Array | null;
}

/** Draws negatives with replacement from unigram counts raised to 0.75. */
class NegativeSampler {
  private readonly cumulative: Float64Array;
  private readonly probability: Float64Array;

  constructor(
    tokens: Int32Array,
    vocabSize: number,
    private readonly count: number,
    private readonly random: RandomSource,
  ) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Training failed: sampledNegatives must be a positive integer, got ${count}.`);
    }
    const counts = new Float64Array(vocabSize);
    for (let i = 1; i < tokens.length; i++) {
      counts[tokens[i]]++;
    }

    this.probability = new Float64Array(vocabSize);
    this.cumulative = new Float64Array(vocabSize);
    let total = 0;
    for (let token = 0; token < vocabSize; token++) {
      total += counts[token] ** 0.75;
    }
    let running = 0;
    for (let token = 0; token < vocabSize; token++) {
      this.probability[token] = counts[token] ** 0.75 / total;
      running += this.probability[token];
      this.cumulative[token] = running;
    }
  }

  sample(targets: Int32Array): NegativeSample {
    const negatives = new Int32Array(this.count);
    const logExpected = new Float32Array(this.count);
    const positions = new Map<number, number[]>();
    for (let j = 0; j < this.count; j++) {
      const token = this.draw();
      negatives[j] = token;
      logExpected[j] = Math.log(this.count * this.probability[token]);
      const list = positions.get(token);
      if (list === undefined) positions.set(token, [j]);
      else list.push(j);
    }

    // Every target comes from the counted stream, so its probability is positive. The floor guards log(0).
    const floor = 1e-12;
    const targetLogExpected = new Float32Array(targets.length);
    let hitMask: Float32Array | null = null;
    for (let i = 0; i < targets.length; i++) {
      targetLogExpected[i] = Math.log(this.count * Math.max(this.probability[targets[i]], floor));
      const hits = positions.get(targets[i]);
      if (hits !== undefined) {
        hitMask ??= new Float32Array(targets.length * this.count);
        for (const j of hits) hitMask[i * this.count + j] = -1e9;
      }
    }
    return { negatives, logExpected, targetLogExpected, hitMask };
  }

  private draw(): number {
    const u = this.random() * this.cumulative[this.cumulative.length - 1];
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cumulative[middle] > u) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * Computes the mean sampled-softmax loss: for each row a softmax over its target and the shared negatives.
 * Every logit has log(expected count) subtracted (Jean et al., 2015), and negatives equal to the row's target
 * are masked.
 *
 * @param hidden top LSTM outputs, [rows, hiddenUnits].
 * @param targets target tokens, int32, [rows].
 */
function sampledSoftmaxLoss(
  model: Track2SeqModel,
  hidden: tf.Tensor2D,
  targets: tf.Tensor1D,
  sample: NegativeSample,
): tf.Scalar {
  const rows = hidden.shape[0];
  const negatives = tf.tensor1d(sample.negatives, "int32");

  const targetWeights = tf.transpose(tf.gather(model.outputKernel, targets, 1));
  const targetLogits = tf.sub(
    tf.add(tf.sum(tf.mul(hidden, targetWeights), 1), tf.gather(model.outputBias, targets)),
    tf.tensor1d(sample.targetLogExpected),
  );

  let negativeLogits = tf.add(
    tf.matMul(hidden, tf.gather(model.outputKernel, negatives, 1) as tf.Tensor2D),
    tf.sub(tf.gather(model.outputBias, negatives), tf.tensor1d(sample.logExpected)),
  );
  if (sample.hitMask !== null) {
    negativeLogits = tf.add(negativeLogits, tf.tensor2d(sample.hitMask, [rows, sample.negatives.length]));
  }

  const logits = tf.concat([tf.expandDims(targetLogits, 1), negativeLogits], 1) as tf.Tensor2D;
  return tf.mean(tokenLosses(logits, tf.zeros([rows], "int32")));
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

/** @param action the name of the failing action in error messages, such as "Training". */
function validateTokens(tokens: Int32Array, vocabSize: number, action: string): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= vocabSize) {
      throw new RangeError(
        `${action} failed: token ${tokens[i]} at position ${i} ` +
          `is outside the vocabulary [0, ${vocabSize}). Build the stream with the model's vocabulary.`,
      );
    }
  }
}
