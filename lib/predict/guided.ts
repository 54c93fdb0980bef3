/**
 * Guided prediction: turning Track2Seq's next-token distributions into a ranked continuation.
 *
 * For each playlist the state is reset and the end-of-playlist token is fed, unless `startWithEos` is false.
 * Then the seed tokens are fed in order, and `steps` more steps are run, fed as the mode selects (see
 * input_schedule.ts): fully guided, a seed drawn at random; semi-guided, the model's best pick and the next
 * seed in turn. After every step the `topK` most probable tokens add their probability to the playlist's
 * candidate scores, and the candidates with the highest summed probability are the continuation.
 *
 * This differs from the original code on purpose, unless `thesisCompatible` asks for its behaviour. `topK`
 * is fixed, where the original's top-k grew with the step number (100, 101, ...) through a shadowed loop
 * variable. Semi-guided prediction advances its seed pointer and picks the argmax, where the original always
 * fed the first seed and picked an arbitrary member of an unsorted top-k. In both settings, seed and special
 * tokens are removed before the top-k is taken, so every step contributes `topK` usable candidates.
 *
 * A model with host tables (tables `host`, for vocabularies too large for the wasm heap) is projected one
 * slice of the output table at a time. The slices' top-k lists are merged (sliced_top_k.ts), so no
 * [batch, vocabSize] tensor is built. The slices are uploaded once per call and held in the wasm heap
 * until it returns: vocabSize * (hiddenUnits + 1) * 4 bytes, 361 MB at 700,000 tracks. Its recommendations are those of the in-heap path, with probabilities
 * that may differ in the last float32 bits.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { EOS_TOKEN, UNK_TOKEN } from "../data/vocabulary.ts";
import { disposeState, type LstmState, type Track2SeqModel } from "../model/network.ts";
import { OutputSlices } from "../model/output_slices.ts";
import { createRandom, mixSeed } from "../util/random.ts";
import { addTopK, rank, type TokenScores } from "./candidate_scores.ts";
import { type GuidedOptions, resolveGuidedOptions, validateSeeds } from "./guided_options.ts";
import { InputSchedule, type RowTopK } from "./input_schedule.ts";
import { slicedTopK } from "./sliced_top_k.ts";

export type { TokenScores } from "./candidate_scores.ts";
export { DEFAULT_GUIDED_OPTIONS, type GuidanceMode, type GuidedOptions } from "./guided_options.ts";

/** The report passed to the progress callback after each batch of playlists. */
export interface GuidedProgress {
  playlistsDone: number;
  playlists: number;
}

/**
 * Predicts a continuation for every playlist with guided prediction, fully or semi-guided as `mode` selects.
 *
 * Playlists are processed in batches of `batchSize`, grouped by seed count, and every batch advances one
 * token per step, because a semi-guided input depends on the step before. A playlist with fewer steps than
 * the longest of its batch keeps its state on the padded steps, so its result does not depend on the batch
 * it is in. Each playlist's random draws come from `seed` and its position in `seeds`, so the same inputs
 * and seed give the same output.
 *
 * @param seeds per playlist its seed tokens in playlist order; each list must hold at least one token.
 * @param options fields left out take {@linkcode DEFAULT_GUIDED_OPTIONS}.
 * @param onProgress called after each batch.
 * @returns per playlist up to `count` tokens, never a seed token, `EOS_TOKEN` or `UNK_TOKEN`.
 * @throws {RangeError} when a seed list is empty, a token is outside the model's vocabulary, or an option is
 *   invalid: `mode` neither `fully` nor `semi`, or a size not a positive integer (`steps` may be 0).
 */
export async function predictGuided(
  model: Track2SeqModel,
  seeds: Int32Array[],
  options: Partial<GuidedOptions> = {},
  onProgress?: (progress: GuidedProgress) => void,
): Promise<TokenScores[]> {
  const settings = resolveGuidedOptions(options);
  validateSeeds(seeds, model.config.vocabSize);

  // Batches hold playlists of similar seed counts, so few steps are padding. The order of the output and
  // each playlist's random draws depend only on its position in `seeds`.
  const order = seeds.map((_, position) => position).sort((a, b) =>
    seeds[a].length - seeds[b].length || a - b
  );
  const results: TokenScores[] = new Array(seeds.length);
  const slices = model.host === null || seeds.length === 0
    ? undefined
    : OutputSlices.upload(model, Math.min(settings.batchSize, seeds.length));
  try {
    for (let first = 0; first < order.length; first += settings.batchSize) {
      const positions = order.slice(first, first + settings.batchSize);
      const schedules = positions.map((position) =>
        new InputSchedule(seeds[position], settings, createRandom(mixSeed(settings.seed, position)))
      );
      const batchSeeds = positions.map((position) => seeds[position]);
      const batchResults = slices === undefined
        ? await predictBatch(model, schedules, batchSeeds, settings)
        : await predictBatchSliced(model, schedules, batchSeeds, settings, slices);
      positions.forEach((position, i) => results[position] = batchResults[i]);
      onProgress?.({ playlistsDone: first + positions.length, playlists: seeds.length });

      // Yields to the event loop between batches, so a long prediction does not starve timers and signals.
      await Promise.resolve();
    }
  } finally {
    slices?.dispose();
  }
  return results;
}

/** Predicts with fully guided prediction: {@linkcode predictGuided} with `mode` set to `fully`. */
export function predictFullyGuided(
  model: Track2SeqModel,
  seeds: Int32Array[],
  options: Partial<Omit<GuidedOptions, "mode">> = {},
  onProgress?: (progress: GuidedProgress) => void,
): Promise<TokenScores[]> {
  return predictGuided(model, seeds, { ...options, mode: "fully" }, onProgress);
}

/** The top-k values and token ids of one step, [batch, k] row-major. */
interface StepTopK {
  indices: Int32Array;
  values: Float32Array;
  k: number;
}

/**
 * Returns each row's input token at step `t`, chosen by its schedule from the previous step's top-k, with
 * which rows are still active and each row's k for this step.
 */
function stepInputs(
  schedules: InputSchedule[],
  t: number,
  previous: StepTopK | undefined,
  vocabSize: number,
): { stepTokens: Int32Array; active: Float32Array; rowK: Int32Array; everyRowActive: boolean } {
  const batch = schedules.length;
  const stepTokens = new Int32Array(batch);
  const active = new Float32Array(batch);
  const rowK = new Int32Array(batch);
  schedules.forEach((schedule, row) => {
    if (t >= schedule.length) return;
    const rowTopK: RowTopK | undefined = previous === undefined
      ? undefined
      : { ...previous, offset: row * previous.k, k: Math.min(schedule.topKAt(t - 1), vocabSize) };
    stepTokens[row] = schedule.tokenAt(t, rowTopK);
    active[row] = 1;
    rowK[row] = Math.min(schedule.topKAt(t), vocabSize);
  });
  return { stepTokens, active, rowK, everyRowActive: active.every((flag) => flag === 1) };
}

/**
 * Runs one batch of playlists to the end of the longest input sequence and ranks their candidates.
 * @param schedules per playlist the source of its input tokens, one per step.
 * @param seeds per playlist the tokens to exclude besides the special tokens.
 */
async function predictBatch(
  model: Track2SeqModel,
  schedules: InputSchedule[],
  seeds: Int32Array[],
  settings: GuidedOptions,
): Promise<TokenScores[]> {
  const batch = schedules.length;
  const vocabSize = model.config.vocabSize;
  const longest = Math.max(...schedules.map((schedule) => schedule.length));
  const candidates = schedules.map(() => new Map<number, number>());

  // [batch, vocabSize]: 1 for tokens that may be recommended, 0 for seeds and special tokens.
  const allowedValues = new Float32Array(batch * vocabSize).fill(1);
  seeds.forEach((playlistSeeds, row) => {
    allowedValues[row * vocabSize + EOS_TOKEN] = 0;
    allowedValues[row * vocabSize + UNK_TOKEN] = 0;
    for (const token of playlistSeeds) allowedValues[row * vocabSize + token] = 0;
  });
  const allowed = tf.tensor2d(allowedValues, [batch, vocabSize]);
  let state: LstmState = model.zeroState(batch);
  let previous: StepTopK | undefined;

  try {
    for (let t = 0; t < longest; t++) {
      const { stepTokens, active, rowK, everyRowActive } = stepInputs(schedules, t, previous, vocabSize);

      // One top-k serves every row: the largest k of the step, of which each row reads its own first k.
      const stepK = Math.max(...rowK);
      const { values, indices, next } = tf.tidy(() => {
        const mask = everyRowActive ? undefined : tf.tensor2d(active, [batch, 1]);
        const { logits, state: next } = model.step(tf.tensor1d(stepTokens, "int32"), state, mask);
        const probabilities = tf.mul(tf.softmax(logits), allowed);
        const { values, indices } = tf.topk(probabilities, stepK, true);
        return { values, indices, next };
      });
      disposeState(state);
      state = next;

      // Read with `await data()`, because the webgpu backend cannot read synchronously under Deno.
      try {
        const [valueData, indexData] = await Promise.all([values.data(), indices.data()]);
        previous = { values: valueData as Float32Array, indices: indexData as Int32Array, k: stepK };
      } finally {
        tf.dispose([values, indices]);
      }
      for (let row = 0; row < batch; row++) {
        if (active[row] === 0 || t < schedules[row].unscored) continue;
        addTopK(
          candidates[row],
          previous.values,
          previous.indices,
          row * stepK,
          rowK[row],
          { values: allowedValues, offset: row * vocabSize },
        );
      }
    }
  } finally {
    disposeState(state);
    allowed.dispose();
  }

  return candidates.map((scores) => rank(scores, settings.count));
}

/**
 * Runs one batch as {@linkcode predictBatch} does, for a model with host tables: each step's top-k comes
 * from {@linkcode slicedTopK}, so no [batch, vocabSize] tensor or mask is built.
 */
async function predictBatchSliced(
  model: Track2SeqModel,
  schedules: InputSchedule[],
  seeds: Int32Array[],
  settings: GuidedOptions,
  slices: OutputSlices,
): Promise<TokenScores[]> {
  const batch = schedules.length;
  const vocabSize = model.config.vocabSize;
  const longest = Math.max(...schedules.map((schedule) => schedule.length));
  const candidates = schedules.map(() => new Map<number, number>());
  const excluded = seeds.map((playlistSeeds) => new Set([EOS_TOKEN, UNK_TOKEN, ...playlistSeeds]));
  let state: LstmState = model.zeroState(batch);
  let previous: StepTopK | undefined;

  try {
    for (let t = 0; t < longest; t++) {
      const { stepTokens, active, rowK, everyRowActive } = stepInputs(schedules, t, previous, vocabSize);
      const stepK = Math.max(...rowK);

      const { hidden, next } = tf.tidy(() => {
        const mask = everyRowActive ? undefined : tf.tensor2d(active, [batch, 1]);
        const { hidden, state: next } = model.stepHidden(tf.tensor1d(stepTokens, "int32"), state, mask);
        return { hidden, next };
      });
      disposeState(state);
      state = next;
      try {
        previous = { ...await slicedTopK(hidden, stepK, excluded, slices), k: stepK };
      } finally {
        hidden.dispose();
      }

      for (let row = 0; row < batch; row++) {
        if (active[row] === 0 || t < schedules[row].unscored) continue;
        // slicedTopK already left out each row's seeds and special tokens.
        addTopK(candidates[row], previous.values, previous.indices, row * stepK, rowK[row]);
      }
    }
  } finally {
    disposeState(state);
  }

  return candidates.map((scores) => rank(scores, settings.count));
}
