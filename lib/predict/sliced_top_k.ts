/**
 * Top-k of the next-token softmax at large vocabularies, computed from one slice of the output table at a time.
 *
 * At 700,000 tracks a batch of 64 playlists has 45 million logits per step. Here each slice of the output
 * table gives its logits, its log-sum-exp and its own top-k. The top-k lists of all slices are merged, and
 * the probabilities come from the log-sum-exp of the whole vocabulary. The result is thus the top-k of the
 * full softmax without a [rows, vocabSize] tensor.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import type { OutputSlices } from "../model/output_slices.ts";

/** Per row its `k` most probable allowed tokens, best first, as `values` and `indices` of [rows * k]. */
export interface SlicedTopK {
  /** Probabilities under the softmax over the whole vocabulary, excluded tokens included in its sum. */
  values: Float32Array;
  indices: Int32Array;
}

/**
 * Returns per row the `k` most probable tokens of the softmax of a model's logits for `hidden`, leaving
 * out each row's `excluded` tokens. Ties go to the lower token id. A row with fewer than `k` allowed tokens
 * is padded with probability 0 and one of its excluded tokens, as a top-k over probabilities with excluded
 * tokens set to 0 would return.
 *
 * @param hidden top LSTM outputs, [rows, hiddenUnits].
 * @param excluded per row the tokens that may not be returned.
 * @param slices the model's output table, uploaded in slices.
 * @returns the top-k, read back with `await data()`, which the webgpu backend needs.
 */
export async function slicedTopK(
  hidden: tf.Tensor2D,
  k: number,
  excluded: Set<number>[],
  slices: OutputSlices,
): Promise<SlicedTopK> {
  const rows = hidden.shape[0];
  const maxExcluded = Math.max(0, ...excluded.map((set) => set.size));
  const normalizers: Float32Array[] = [];
  // Per row the best allowed candidates so far, as logits and tokens.
  const candidates = Array.from({ length: rows }, () => ({ logits: [] as number[], tokens: [] as number[] }));

  for (const { start, count, kernel, bias } of slices.slices) {
    // Every excluded token of a row may be in this slice, so k + maxExcluded leaves k allowed ones.
    const sliceK = Math.min(count, k + maxExcluded);
    const { normalizer, values, indices } = tf.tidy(() => {
      const logits = tf.fused.matMul({ a: hidden, b: kernel, bias }) as tf.Tensor2D;
      const { values, indices } = tf.topk(logits, sliceK, true);
      return { normalizer: tf.logSumExp(logits, 1), values, indices };
    });
    let sliceLogits: Float32Array;
    let sliceTokens: Int32Array;
    try {
      const [normalizerData, valueData, indexData] = await Promise.all([
        normalizer.data(),
        values.data(),
        indices.data(),
      ]);
      normalizers.push(normalizerData as Float32Array);
      sliceLogits = valueData as Float32Array;
      sliceTokens = indexData as Int32Array;
    } finally {
      tf.dispose([normalizer, values, indices]);
    }

    for (let row = 0; row < rows; row++) {
      const rowCandidates = candidates[row];
      let added = 0;
      for (let j = 0; j < sliceK && added < k; j++) {
        const token = start + sliceTokens[row * sliceK + j];
        if (excluded[row].has(token)) continue;
        rowCandidates.logits.push(sliceLogits[row * sliceK + j]);
        rowCandidates.tokens.push(token);
        added++;
      }
    }
  }

  const values = new Float32Array(rows * k);
  const indices = new Int32Array(rows * k);
  for (let row = 0; row < rows; row++) {
    let high = -Infinity;
    for (const part of normalizers) high = Math.max(high, part[row]);
    let sum = 0;
    for (const part of normalizers) sum += Math.exp(part[row] - high);
    const logNormalizer = high + Math.log(sum);

    const { logits, tokens } = candidates[row];
    const order = tokens.map((_, i) => i).sort((a, b) => logits[b] - logits[a] || tokens[a] - tokens[b]);
    const padding = excluded[row].values().next().value ?? 0;
    for (let j = 0; j < k; j++) {
      if (j < order.length) {
        values[row * k + j] = Math.exp(logits[order[j]] - logNormalizer);
        indices[row * k + j] = tokens[order[j]];
      } else {
        indices[row * k + j] = padding;
      }
    }
  }
  return { values, indices };
}
