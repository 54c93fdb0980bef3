/**
 * Fully guided prediction: turning Track2Seq's next-token distributions into a ranked continuation.
 *
 * For each playlist the state is reset and the end-of-playlist token is fed, unless `startWithEos` is false.
 * Then the seed tokens are fed in order, and `steps` more steps are run, each fed a seed token drawn at
 * random.
 * After every step the `topK` most probable tokens add their probability to the playlist's candidate scores,
 * and the candidates with the highest summed probability are the continuation.
 *
 * This differs from the original code on purpose in two ways. `topK` is fixed, where the original's top-k
 * grew with the step number (100, 101, ...) through a shadowed loop variable. Seed and special tokens are
 * removed before the top-k is taken, so every step contributes `topK` usable candidates.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { EOS_TOKEN, UNK_TOKEN } from "../data/vocabulary.ts";
import { disposeState, type LstmState, type Track2SeqModel } from "../model/network.ts";
import { createRandom, type RandomSource } from "../util/random.ts";

/** Options of fully guided prediction. Every field has a default in {@linkcode DEFAULT_GUIDED_OPTIONS}. */
export interface GuidedOptions {
  /** Steps run after the seeds, each fed a random seed token. Default 600. */
  steps: number;
  /** Tokens per step whose probabilities are added to the candidate scores. Default 100. */
  topK: number;
  /** Tokens returned per playlist, at most. Default 500. */
  count: number;
  /** Seed of the random seed-token draws. Default 2018. */
  seed: number;
  /** Playlists advanced together as one batch. Default 64. */
  batchSize: number;
  /**
   * Feed the end-of-playlist token before the seeds, without scoring that step. Default true. In the
   * training stream every playlist follows that token, with the state carried over from the playlist before,
   * so a trained model rarely starts from a zero state. The token makes the first seed's context closer to
   * training.
   */
  startWithEos: boolean;
}

/** Default options: those of the original study. */
export const DEFAULT_GUIDED_OPTIONS: GuidedOptions = {
  steps: 600,
  topK: 100,
  count: 500,
  seed: 2018,
  batchSize: 64,
  startWithEos: true,
};

/** A ranked continuation in model tokens: best first, with the summed probability of each token. */
export interface TokenScores {
  tokens: Int32Array;
  scores: Float32Array;
}

/** The report passed to the progress callback after each batch of playlists. */
export interface GuidedProgress {
  playlistsDone: number;
  playlists: number;
}

/**
 * Predicts a continuation for every playlist with fully guided prediction.
 *
 * Playlists are processed in batches of `batchSize`, grouped by seed count. A playlist with fewer seeds than
 * the longest of its batch is masked on the padded steps, so its result does not depend on the batch it is
 * in. Each playlist's random draws come from `seed` and its position in `seeds`, so the same inputs and seed
 * give the same output.
 *
 * @param seeds per playlist its seed tokens in playlist order; each list must hold at least one token.
 * @param options fields left out take {@linkcode DEFAULT_GUIDED_OPTIONS}.
 * @param onProgress called after each batch.
 * @returns per playlist up to `count` tokens, never a seed token, `EOS_TOKEN` or `UNK_TOKEN`.
 * @throws {RangeError} when a seed list is empty, a token is outside the model's vocabulary, or an option is
 *   not a positive integer (`steps` may be 0).
 */
export async function predictFullyGuided(
  model: Track2SeqModel,
  seeds: Int32Array[],
  options: Partial<GuidedOptions> = {},
  onProgress?: (progress: GuidedProgress) => void,
): Promise<TokenScores[]> {
  const settings = resolveOptions(options);
  validateSeeds(seeds, model.config.vocabSize);

  // Batches hold playlists of similar seed counts, so few steps are padding. The order of the output and
  // each playlist's random draws depend only on its position in `seeds`.
  const order = seeds.map((_, position) => position).sort((a, b) =>
    seeds[a].length - seeds[b].length || a - b
  );
  const results: TokenScores[] = new Array(seeds.length);
  for (let first = 0; first < order.length; first += settings.batchSize) {
    const positions = order.slice(first, first + settings.batchSize);
    const inputs = positions.map((position) =>
      guidedInputs(seeds[position], settings, createRandom(playlistSeed(settings.seed, position)))
    );
    const batchResults = predictBatch(model, inputs, positions.map((position) => seeds[position]), settings);
    positions.forEach((position, i) => results[position] = batchResults[i]);
    onProgress?.({ playlistsDone: first + positions.length, playlists: seeds.length });

    // Yields to the event loop between batches, so a long prediction does not starve timers and signals.
    await Promise.resolve();
  }
  return results;
}

/**
 * Builds the input sequence of one playlist: the end-of-playlist token when `startWithEos` is set, its seeds
 * in order, then `steps` seeds drawn uniformly with replacement.
 */
function guidedInputs(seeds: Int32Array, settings: GuidedOptions, random: RandomSource): Int32Array {
  const offset = settings.startWithEos ? 1 : 0;
  const inputs = new Int32Array(offset + seeds.length + settings.steps);
  inputs[0] = EOS_TOKEN;
  inputs.set(seeds, offset);
  for (let i = offset + seeds.length; i < inputs.length; i++) {
    inputs[i] = seeds[Math.floor(random() * seeds.length)];
  }
  return inputs;
}

/** Mixes the run's seed and a playlist's position into that playlist's seed (an integer hash). */
function playlistSeed(seed: number, position: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(position + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/**
 * Runs one batch of playlists to the end of the longest input sequence and ranks their candidates.
 * @param inputs per playlist its input tokens, one per step.
 * @param seeds per playlist the tokens to exclude besides the special tokens.
 */
function predictBatch(
  model: Track2SeqModel,
  inputs: Int32Array[],
  seeds: Int32Array[],
  settings: GuidedOptions,
): TokenScores[] {
  const batch = inputs.length;
  const vocabSize = model.config.vocabSize;
  const topK = Math.min(settings.topK, vocabSize);
  const longest = Math.max(...inputs.map((sequence) => sequence.length));
  const unscoredSteps = settings.startWithEos ? 1 : 0;
  const candidates = inputs.map(() => new Map<number, number>());

  // [batch, vocabSize]: 1 for tokens that may be recommended, 0 for seeds and special tokens.
  const allowedValues = new Float32Array(batch * vocabSize).fill(1);
  seeds.forEach((playlistSeeds, row) => {
    allowedValues[row * vocabSize + EOS_TOKEN] = 0;
    allowedValues[row * vocabSize + UNK_TOKEN] = 0;
    for (const token of playlistSeeds) allowedValues[row * vocabSize + token] = 0;
  });
  const allowed = tf.tensor2d(allowedValues, [batch, vocabSize]);
  let state: LstmState = model.zeroState(batch);

  try {
    for (let t = 0; t < longest; t++) {
      const stepTokens = new Int32Array(batch);
      const active = new Float32Array(batch);
      inputs.forEach((sequence, row) => {
        if (t < sequence.length) {
          stepTokens[row] = sequence[t];
          active[row] = 1;
        }
      });
      const everyRowActive = active.every((flag) => flag === 1);

      const { values, indices, next } = tf.tidy(() => {
        const mask = everyRowActive ? undefined : tf.tensor2d(active, [batch, 1]);
        const { logits, state: next } = model.step(tf.tensor1d(stepTokens, "int32"), state, mask);
        const probabilities = tf.mul(tf.softmax(logits), allowed);
        const { values, indices } = tf.topk(probabilities, topK, true);
        return { values, indices, next };
      });
      disposeState(state);
      state = next;

      const topValues = values.dataSync() as Float32Array;
      const topIndices = indices.dataSync() as Int32Array;
      tf.dispose([values, indices]);
      if (t < unscoredSteps) continue;
      for (let row = 0; row < batch; row++) {
        if (active[row] === 0) continue;
        addTopK(candidates[row], topValues, topIndices, row * topK, topK, allowedValues, row * vocabSize);
      }
    }
  } finally {
    disposeState(state);
    allowed.dispose();
  }

  return candidates.map((scores) => rank(scores, settings.count));
}

/** Adds one row of top-k results to a candidate table, skipping excluded tokens and zero probabilities. */
function addTopK(
  scores: Map<number, number>,
  values: Float32Array,
  indices: Int32Array,
  offset: number,
  topK: number,
  allowedValues: Float32Array,
  allowedOffset: number,
): void {
  for (let j = 0; j < topK; j++) {
    const token = indices[offset + j];
    const probability = values[offset + j];
    // With fewer allowed tokens than topK, the top-k also returns excluded tokens, whose probability is 0.
    if (probability <= 0 || allowedValues[allowedOffset + token] === 0) continue;
    scores.set(token, (scores.get(token) ?? 0) + probability);
  }
}

/** Returns the `count` best candidates by summed probability. Ties go to the lower token id. */
function rank(scores: Map<number, number>, count: number): TokenScores {
  const entries = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, count);
  return {
    tokens: Int32Array.from(entries, ([token]) => token),
    scores: Float32Array.from(entries, ([, score]) => score),
  };
}

function resolveOptions(options: Partial<GuidedOptions>): GuidedOptions {
  const settings: GuidedOptions = { ...DEFAULT_GUIDED_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) Object.assign(settings, { [key]: value });
  }

  for (const key of ["topK", "count", "batchSize"] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) {
      throw new RangeError(
        `Guided prediction failed: ${key} must be a positive integer, got ${settings[key]}.`,
      );
    }
  }
  if (!Number.isInteger(settings.steps) || settings.steps < 0) {
    throw new RangeError(
      `Guided prediction failed: steps must be a non-negative integer, got ${settings.steps}.`,
    );
  }
  return settings;
}

function validateSeeds(seeds: Int32Array[], vocabSize: number): void {
  seeds.forEach((playlistSeeds, position) => {
    if (playlistSeeds.length === 0) {
      throw new RangeError(
        `Guided prediction failed: playlist ${position} has no seed token. Recommend for such playlists ` +
          `with another method, such as popularity, and pass only playlists with seeds.`,
      );
    }
    for (const token of playlistSeeds) {
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
        throw new RangeError(
          `Guided prediction failed: playlist ${position} has seed token ${token}, outside the model's ` +
            `vocabulary [0, ${vocabSize}). Map seed tracks with the vocabulary the model was trained on.`,
        );
      }
    }
  });
}
