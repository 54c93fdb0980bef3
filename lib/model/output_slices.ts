/**
 * The output table cut into slices of tokens, for projecting hidden states onto a large vocabulary without
 * building a [rows, vocabSize] tensor.
 *
 * Each slice is uploaded once and kept as a [hiddenUnits, tokens] kernel, so the many projections of an
 * evaluation or a prediction run cost one plain matrix product per slice and no further copies. While the
 * slices exist they hold the whole output table in the wasm heap: vocabSize * (hiddenUnits + 1) * 4 bytes,
 * 361 MB at 700,000 tokens with 128 units. The logits of one slice stay below
 * {@linkcode OUTPUT_SLICE_VALUES} values.
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { OUTPUT_SLICE_VALUES, type Track2SeqModel } from "./network.ts";

/** The maximum number of tokens per slice: 65,536 tokens of 128 units make a 32 MiB kernel. */
export const MAX_SLICE_TOKENS = 65_536;

/** The output weights of tokens `start` to `start + count - 1`. */
export interface OutputSlice {
  start: number;
  count: number;
  /** [hiddenUnits, count]. */
  kernel: tf.Tensor2D;
  /** [count]. */
  bias: tf.Tensor1D;
}

/** The output table of a model in slices, uploaded to the wasm heap. Call `dispose` to free them. */
export class OutputSlices {
  readonly slices: OutputSlice[];

  private constructor(slices: OutputSlice[]) {
    this.slices = slices;
  }

  /**
   * Uploads the output table of `model` (either kind of tables) in slices sized for projections of `rows`
   * hidden states at a time: at most {@linkcode MAX_SLICE_TOKENS} tokens, and at most
   * {@linkcode OUTPUT_SLICE_VALUES} logits per slice.
   * @param size tokens per slice, to override that choice.
   */
  static upload(model: Track2SeqModel, rows: number, size?: number): OutputSlices {
    const vocabSize = model.config.vocabSize;
    size ??= sliceTokens(rows, vocabSize);
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Slicing the output table failed: the slice size must be a positive integer, got ${size}.`,
      );
    }
    const slices: OutputSlice[] = [];
    try {
      for (let start = 0; start < vocabSize; start += size) {
        const count = Math.min(size, vocabSize - start);
        slices.push(tf.tidy(() => {
          if (model.host === null) {
            return {
              start,
              count,
              kernel: tf.slice(model.outputKernel, [0, start], [-1, count]) as tf.Tensor2D,
              bias: tf.slice(model.outputBias, [start], [count]) as tf.Tensor1D,
            };
          }
          const { kernel, bias } = model.outputSlice(start, count);
          return { start, count, kernel: tf.transpose(kernel), bias };
        }));
      }
    } catch (error) {
      tf.dispose(slices.flatMap(({ kernel, bias }) => [kernel, bias]));
      throw error;
    }
    return new OutputSlices(slices);
  }

  /** Frees the uploaded slices. */
  dispose(): void {
    tf.dispose(this.slices.flatMap(({ kernel, bias }) => [kernel, bias]));
  }
}

/** Returns the tokens per slice for projections of `rows` hidden states. */
export function sliceTokens(rows: number, vocabSize: number): number {
  const byValues = Math.floor(OUTPUT_SLICE_VALUES / Math.max(1, rows));
  return Math.max(1, Math.min(vocabSize, MAX_SLICE_TOKENS, byValues));
}
