/**
 * The input and output matrices of skip-gram training in one WebAssembly memory, shared between the
 * training threads, and the pair update that runs on them.
 *
 * Rows are padded to a multiple of eight floats, because the SIMD kernel of sgns_wasm.ts reads 32 bytes per
 * step. Padding lanes start at zero and stay zero, because every update adds a multiple of a row whose
 * padding is zero.
 * @module
 */

import type { RandomSource } from "../util/random.ts";
import { instantiateSgns, type SgnsExports } from "./sgns_wasm.ts";

const PAGE_BYTES = 65536;
/** WebAssembly's 32-bit address space: 65,536 pages of 64 KiB. */
const MAX_PAGES = 65536;

/** Byte offsets and sizes of the shared memory's regions. Plain data, so it can be posted to a worker. */
export interface SgnsLayout {
  dimension: number;
  /** Bytes per row, the dimension rounded up to a multiple of 8 floats. */
  rowBytes: number;
  inputRows: number;
  outputRows: number;
  /** Byte offset of output row 0; input row 0 is at 0. */
  outputBase: number;
  /** Byte offset of the alias table of negative sampling, two u32 values per output row. */
  tableBase: number;
  /** Byte offset of thread 0's scratch, laid out as the module documentation of sgns_wasm.ts describes. */
  scratchBase: number;
  /** Bytes of scratch per thread. */
  scratchBytes: number;
  threads: number;
  /** Negative samples per pair, so the target list contains at most `negatives + 1` offsets. */
  negatives: number;
  /** Total bytes, a whole number of pages. */
  bytes: number;
}

/**
 * Lays out `inputRows` and `outputRows` rows of `dimension` floats plus per-thread scratch.
 * @throws {RangeError} when the matrices do not fit WebAssembly's 4 GiB address space.
 */
export function sgnsLayout(
  inputRows: number,
  outputRows: number,
  dimension: number,
  negatives: number,
  threads: number,
): SgnsLayout {
  const rowBytes = Math.ceil(dimension / 8) * 32;
  const outputBase = inputRows * rowBytes;
  const tableBase = outputBase + outputRows * rowBytes;
  const scratchBase = tableBase + Math.ceil((outputRows * 8) / 32) * 32;
  // The gradient row, the target list, the drawn negatives, the random state and one float.
  const scratchBytes = rowBytes + Math.ceil(((2 * negatives + 3) * 4) / 32) * 32;
  const needed = scratchBase + threads * scratchBytes;
  const bytes = Math.max(1, Math.ceil(needed / PAGE_BYTES)) * PAGE_BYTES;
  if (bytes > MAX_PAGES * PAGE_BYTES) {
    throw new RangeError(
      `Cannot train skip-gram: ${inputRows} input and ${outputRows} output rows of ${dimension} floats need ` +
        `${(needed / 2 ** 30).toFixed(1)} GiB, more than WebAssembly's 4 GiB. Lower "dimension" or the ` +
        `vocabulary size.`,
    );
  }
  return {
    dimension,
    rowBytes,
    inputRows,
    outputRows,
    outputBase,
    tableBase,
    scratchBase,
    scratchBytes,
    threads,
    negatives,
    bytes,
  };
}

/** Allocates a zero-filled shared memory of `layout.bytes`. */
export function allocateSgnsMemory(layout: SgnsLayout): WebAssembly.Memory {
  const pages = layout.bytes / PAGE_BYTES;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/**
 * Sets every input row to word2vec's start, uniform in [-0.5, 0.5) / dimension, drawing row by row. Output
 * rows keep their zeros, as in word2vec.
 */
export function initializeInputRows(
  memory: WebAssembly.Memory,
  layout: SgnsLayout,
  random: RandomSource,
): void {
  const floats = new Float32Array(memory.buffer);
  const stride = layout.rowBytes / 4;
  for (let row = 0; row < layout.inputRows; row++) {
    for (let d = 0; d < layout.dimension; d++) floats[row * stride + d] = (random() - 0.5) / layout.dimension;
  }
}

/** Copies the input or output rows out of the shared memory without their padding. */
export function readRows(
  memory: WebAssembly.Memory,
  layout: SgnsLayout,
  which: "input" | "output",
): Float32Array {
  const rows = which === "input" ? layout.inputRows : layout.outputRows;
  const base = (which === "input" ? 0 : layout.outputBase) / 4;
  const stride = layout.rowBytes / 4;
  const floats = new Float32Array(memory.buffer);
  const matrix = new Float32Array(rows * layout.dimension);
  for (let row = 0; row < rows; row++) {
    const start = base + row * stride;
    matrix.set(floats.subarray(start, start + layout.dimension), row * layout.dimension);
  }
  return matrix;
}

/**
 * Writes the alias table of negative sampling, from one weight per output row, into the shared memory.
 * @throws {RangeError} when no weight is positive.
 */
export function writeNegativeTable(
  memory: WebAssembly.Memory,
  layout: SgnsLayout,
  weights: ArrayLike<number>,
): void {
  const table = new AliasSampler(weights).integerTable();
  new Uint32Array(memory.buffer, layout.tableBase, table.length).set(table);
}

/**
 * Applies the SGNS update of one (input, output) pair for one thread, through the WebAssembly kernel, which
 * also draws the negatives from the table of {@linkcode writeNegativeTable}.
 */
export class PairUpdater {
  readonly #kernel: SgnsExports;
  readonly #scratch: number;
  readonly #layout: SgnsLayout;
  readonly #maxDot: number;

  /**
   * @param seed the start of the thread's negative-sampling random stream.
   * @param maxDot targets whose dot product with the input reaches ±maxDot are left unchanged.
   */
  constructor(memory: WebAssembly.Memory, layout: SgnsLayout, thread: number, seed: number, maxDot: number) {
    this.#kernel = instantiateSgns(memory);
    this.#layout = layout;
    this.#maxDot = maxDot;
    this.#scratch = layout.scratchBase + thread * layout.scratchBytes;

    // The first call trains against negatives drawn here.
    const negatives = layout.negatives;
    const ahead = this.#scratch + layout.rowBytes + 4 * (negatives + 1);
    const state = ahead + 4 * negatives;
    const words = new Uint32Array(memory.buffer);
    words[state / 4] = seed >>> 0;
    for (let i = 0; i < negatives; i++) {
      words[ahead / 4 + i] = this.#kernel.sample(state, layout.tableBase, layout.outputRows);
    }
  }

  /**
   * Moves the input vector of `inputRow` towards the output vector of `positive` and away from the output
   * vectors of sampled negatives, and moves those output vectors too. A negative equal to `positive` is
   * skipped, as in word2vec.
   */
  update(inputRow: number, positive: number, learningRate: number): void {
    const layout = this.#layout;
    // Offsets past 2 GiB wrap to negative int32 values, which WebAssembly reads back as the same unsigned
    // address.
    this.#kernel.update(
      inputRow * layout.rowBytes,
      positive,
      learningRate,
      this.#scratch,
      layout.rowBytes,
      layout.negatives,
      layout.outputBase,
      layout.tableBase,
      layout.outputRows,
      this.#maxDot,
    );
  }
}

/**
 * Draws indices in proportion to non-negative weights in constant time (Vose's alias method), so the
 * negative sampler needs no word2vec-style table of 10^8 entries.
 */
export class AliasSampler {
  // Column c keeps its own-index probability at 2c and its alias at 2c + 1, so a draw touches one cache line.
  readonly #table: Float64Array;
  readonly #size: number;

  /** @throws {RangeError} when no weight is positive. */
  constructor(weights: ArrayLike<number>) {
    const size = weights.length;
    let total = 0;
    for (let i = 0; i < size; i++) total += weights[i];
    if (!(total > 0)) {
      throw new RangeError(
        "Cannot build a sampler: no weight is positive. Pass at least one positive weight.",
      );
    }

    const probability = new Float64Array(size);
    const alias = new Int32Array(size);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < size; i++) {
      probability[i] = (weights[i] * size) / total;
      alias[i] = i;
      (probability[i] < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const less = small.pop()!;
      const more = large[large.length - 1];
      alias[less] = more;
      probability[more] -= 1 - probability[less];
      if (probability[more] < 1) small.push(large.pop()!);
    }

    // Rounding leaves some entries a hair below or above 1; they keep their own index.
    for (const i of large) probability[i] = 1;
    for (const i of small) probability[i] = 1;

    this.#table = new Float64Array(2 * size);
    for (let i = 0; i < size; i++) {
      this.#table[2 * i] = probability[i];
      this.#table[2 * i + 1] = alias[i];
    }
    this.#size = size;
  }

  /** Draws one index. */
  sample(random: RandomSource): number {
    const column = Math.floor(random() * this.#size);
    return random() < this.#table[2 * column] ? column : this.#table[2 * column + 1];
  }

  /**
   * Returns the table as the WebAssembly sampler reads it: per column a u32 threshold, the probability
   * times 2^32 capped at 2^32 - 1, then the alias. A column of probability 1 aliases itself, so the cap
   * changes no draw.
   */
  integerTable(): Uint32Array {
    const table = new Uint32Array(2 * this.#size);
    for (let i = 0; i < this.#size; i++) {
      table[2 * i] = Math.min(2 ** 32 - 1, Math.floor(this.#table[2 * i] * 2 ** 32));
      table[2 * i + 1] = this.#table[2 * i + 1];
    }
    return table;
  }
}
