/**
 * The embedding and output tables of a Track2Seq network kept in JavaScript memory instead of the wasm heap.
 *
 * The wasm heap of TensorFlow.js is capped at 4 GiB and never shrinks. At several hundred thousand tracks,
 * the tables, their Adam moments and a dense gradient of the output kernel no longer fit: a sampled-softmax
 * training loop crashed near 600,000 tracks. Here each table is a `Float32Array` with one contiguous row
 * per token, so a training step uploads only the rows its batch reads, and a prediction or an evaluation
 * uploads the output table one slice at a time.
 *
 * Memory per track, with the default sizes (embedding 128, 128 LSTM units): the tables store
 * (embeddingSize + hiddenUnits + 1) float32 values per token, 257 values or 1,028 bytes. Training adds Adam's
 * two moments of each, 2,056 bytes. That is 3,084 bytes per track, 3.08 GB per million tracks, 2.16 GB at
 * 700,000 ({@linkcode hostBytesPerTrack}). The negative sampler adds 16 bytes per track and the row index of
 * a training step 4 more. The wasm heap then holds only the LSTM weights and the tensors of one step.
 * @module
 */

import * as tf from "@tensorflow/tfjs";

/** The storage of a model's embedding and output tables: wasm-heap variables (`heap`) or host memory (`host`). */
export type TableStorage = "heap" | "host";

/** Sizes of the tables. */
export interface TableSizes {
  vocabSize: number;
  embeddingSize: number;
  hiddenUnits: number;
}

/**
 * Returns the bytes per track of tables in host memory: the tables alone, and with the two Adam moments of
 * each table that a training run adds.
 */
export function hostBytesPerTrack(
  sizes: Omit<TableSizes, "vocabSize">,
): { tables: number; training: number } {
  const tables = (sizes.embeddingSize + sizes.hiddenUnits + 1) * Float32Array.BYTES_PER_ELEMENT;
  return { tables, training: 3 * tables };
}

/** The embedding, output kernel and output bias of a network, one row per token, in host memory. */
export class HostTables {
  readonly vocabSize: number;
  readonly embeddingSize: number;
  readonly hiddenUnits: number;
  /** The token embedding, row-major [vocabSize, embeddingSize]. */
  readonly embedding: Float32Array;
  /**
   * The output projection by token, row-major [vocabSize, hiddenUnits]: the transpose of the in-heap
   * [hiddenUnits, vocabSize] kernel, so that one token's weights are contiguous.
   */
  readonly outputKernel: Float32Array;
  /** The output bias, [vocabSize]. */
  readonly outputBias: Float32Array;

  /**
   * Wraps existing arrays; the tables take them over without copying.
   * @throws {RangeError} when an array's length does not match the sizes.
   */
  constructor(
    sizes: TableSizes,
    arrays: { embedding: Float32Array; outputKernel: Float32Array; outputBias: Float32Array },
  ) {
    this.vocabSize = sizes.vocabSize;
    this.embeddingSize = sizes.embeddingSize;
    this.hiddenUnits = sizes.hiddenUnits;
    const expected = {
      embedding: sizes.vocabSize * sizes.embeddingSize,
      outputKernel: sizes.vocabSize * sizes.hiddenUnits,
      outputBias: sizes.vocabSize,
    };
    for (const key of ["embedding", "outputKernel", "outputBias"] as const) {
      if (arrays[key].length !== expected[key]) {
        throw new RangeError(
          `Building the host tables failed: ${key} has ${arrays[key].length} values, expected ` +
            `${expected[key]} for ${JSON.stringify(sizes)}.`,
        );
      }
    }
    this.embedding = arrays.embedding;
    this.outputKernel = arrays.outputKernel;
    this.outputBias = arrays.outputBias;
  }

  /** Copies the embedding rows of `tokens`, in order, into a tensor [tokens.length, embeddingSize]. */
  embeddingRows(tokens: ArrayLike<number>): tf.Tensor2D {
    return tf.tensor2d(gatherRows(this.embedding, this.embeddingSize, tokens), [
      tokens.length,
      this.embeddingSize,
    ]);
  }

  /**
   * Uploads the output weights of tokens `start` to `start + count - 1`: kernel rows [count, hiddenUnits]
   * and bias [count]. The caller owns both tensors.
   */
  outputSlice(start: number, count: number): { kernel: tf.Tensor2D; bias: tf.Tensor1D } {
    const h = this.hiddenUnits;
    return {
      kernel: tf.tensor2d(this.outputKernel.subarray(start * h, (start + count) * h), [count, h]),
      bias: tf.tensor1d(this.outputBias.subarray(start, start + count)),
    };
  }

  /** Copies the output rows and biases of `tokens`, in order: kernel rows [n, hiddenUnits] and bias [n]. */
  outputRows(tokens: ArrayLike<number>): { kernel: tf.Tensor2D; bias: tf.Tensor1D } {
    const bias = new Float32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) bias[i] = this.outputBias[tokens[i]];
    return {
      kernel: tf.tensor2d(gatherRows(this.outputKernel, this.hiddenUnits, tokens), [
        tokens.length,
        this.hiddenUnits,
      ]),
      bias: tf.tensor1d(bias),
    };
  }
}

/** Copies rows `tokens` of a row-major table with rows of `width` values into a new array. */
export function gatherRows(table: Float32Array, width: number, tokens: ArrayLike<number>): Float32Array {
  const rows = new Float32Array(tokens.length * width);
  for (let i = 0; i < tokens.length; i++) {
    const start = tokens[i] * width;
    rows.set(table.subarray(start, start + width), i * width);
  }
  return rows;
}

/** Transposes a row-major [rows, columns] matrix into a new row-major [columns, rows] matrix. */
export function transposeMatrix(values: Float32Array, rows: number, columns: number): Float32Array {
  const result = new Float32Array(values.length);
  // Blocks of 64 rows keep the reads of each output row within a few cache lines.
  const block = 64;
  for (let rowStart = 0; rowStart < rows; rowStart += block) {
    const rowEnd = Math.min(rowStart + block, rows);
    for (let column = 0; column < columns; column++) {
      const out = column * rows;
      for (let row = rowStart; row < rowEnd; row++) {
        result[out + row] = values[row * columns + column];
      }
    }
  }
  return result;
}
