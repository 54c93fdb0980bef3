/**
 * Skip-gram with negative sampling (SGNS), the word2vec training of Mikolov et al. 2013 ("Distributed
 * representations of words and phrases and their compositionality"), over integer word ids.
 *
 * {@linkcode trainSkipGram} follows the reference word2vec tool and gensim on sentences: frequent words are
 * subsampled, each position draws a reduced window, each context word predicts the centre word against
 * negatives drawn from the unigram distribution raised to 0.75, and the learning rate decays linearly.
 * {@linkcode trainGroupSkipGram} trains the same objective on groups, where every word of a group predicts
 * every context of the group, as if the window spanned the whole group.
 *
 * Unlike the reference tool, the sigmoid is computed exactly rather than read from a 1,000-entry table,
 * and training runs on one thread, so the same seed gives the same vectors.
 * @module
 */

import { createRandom, type RandomSource } from "../util/random.ts";

/** Options of {@linkcode trainSkipGram} and {@linkcode trainGroupSkipGram}. */
export interface SkipGramOptions {
  /** Number of values per vector. Default 100. */
  dimension: number;
  /**
   * Maximum distance between a centre word and a context word; each position draws 1 to `window`.
   * Group training ignores it. Default 5.
   */
  window: number;
  /** Negative samples per positive pair. Default 5. */
  negatives: number;
  /** Passes over the data. Default 5. */
  epochs: number;
  /**
   * Subsampling threshold t: a word of relative frequency f is kept with probability
   * (sqrt(f / t) + 1) * t / f, capped at 1, as in word2vec. 0 turns subsampling off. Default 1e-3.
   */
  sample: number;
  /** Learning rate at the start. Default 0.025. */
  learningRate: number;
  /** Learning rate reached at the end of the last epoch, decaying linearly. Default 0.0001. */
  minLearningRate: number;
  /** Exponent applied to word counts to get the negative-sampling distribution. Default 0.75. */
  negativeExponent: number;
  /** Seed of the initial vectors, the subsampling, the windows and the negatives. Default 1. */
  seed: number;
}

/** Defaults of {@linkcode SkipGramOptions}: the word2vec and gensim defaults for skip-gram. */
export const DEFAULT_SKIP_GRAM_OPTIONS: SkipGramOptions = {
  dimension: 100,
  window: 5,
  negatives: 5,
  epochs: 5,
  sample: 1e-3,
  learningRate: 0.025,
  minLearningRate: 0.0001,
  negativeExponent: 0.75,
  seed: 1,
};

/** A trained model: input vectors (the word vectors) and output vectors, both row-major. */
export interface SkipGramModel {
  dimension: number;
  /** The word vectors, [input rows x dimension]; a word that never occurs keeps its random start. */
  input: Float32Array;
  /** The output vectors of negative sampling, [output rows x dimension]. */
  output: Float32Array;
  /** Occurrences of each predicted (output) word. */
  counts: Float64Array;
  /** Predicted tokens read over all epochs, before subsampling. */
  tokensRead: number;
  /** Predicted tokens kept by subsampling over all epochs. */
  tokensTrained: number;
  /** Positive (input, output) pairs trained over all epochs. */
  pairsTrained: number;
  /** Wall-clock training time. */
  seconds: number;
}

/** Progress of skip-gram training, reported after each epoch. */
export interface SkipGramProgress {
  epoch: number;
  epochs: number;
  /** Tokens read so far, before subsampling. */
  tokensRead: number;
  learningRate: number;
  seconds: number;
}

/** Checks skip-gram options, naming the invalid one. */
export function validateSkipGramOptions(options: SkipGramOptions): void {
  const positiveIntegers = ["dimension", "window", "epochs", "negatives"] as const;
  for (const name of positiveIntegers) {
    const value = options[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`Cannot train skip-gram: "${name}" must be a positive integer, got ${value}.`);
    }
  }
  if (!(options.sample >= 0)) {
    throw new RangeError(`Cannot train skip-gram: "sample" must be 0 or more, got ${options.sample}.`);
  }
  if (!(options.learningRate > 0) || !(options.minLearningRate >= 0)) {
    throw new RangeError(
      `Cannot train skip-gram: learning rates must be positive, got ${options.learningRate} and ` +
        `${options.minLearningRate}.`,
    );
  }
  if (!Number.isFinite(options.negativeExponent)) {
    throw new RangeError(
      `Cannot train skip-gram: "negativeExponent" must be a finite number, got ${options.negativeExponent}.`,
    );
  }
}

/**
 * Trains skip-gram vectors with negative sampling on sentences.
 *
 * @param sentences word ids in [0, vocabularySize), one array per sentence.
 * @param vocabularySize number of distinct word ids; input and output matrices both have this many rows.
 * @param options hyperparameters; see {@linkcode SkipGramOptions}.
 * @param onProgress called after each epoch.
 * @throws {RangeError} when an option is invalid, a word id is out of range or no sentence has a word.
 */
export function trainSkipGram(
  sentences: readonly Int32Array[],
  vocabularySize: number,
  options: Partial<SkipGramOptions> = {},
  onProgress?: (progress: SkipGramProgress) => void,
): SkipGramModel {
  const config = { ...DEFAULT_SKIP_GRAM_OPTIONS, ...options };
  validateSkipGramOptions(config);
  const started = performance.now();

  const counts = countIds(sentences, vocabularySize, "sentence");
  let totalTokens = 0;
  let longest = 0;
  for (const sentence of sentences) {
    totalTokens += sentence.length;
    longest = Math.max(longest, sentence.length);
  }
  if (totalTokens === 0) {
    throw new RangeError("Cannot train skip-gram: the sentences contain no words. Pass non-empty sentences.");
  }

  const random = createRandom(config.seed);
  const updater = new PairUpdater(vocabularySize, counts, config, random);
  const keepProbability = subsamplingKeepProbabilities(counts, totalTokens, config.sample);
  const { window, epochs } = config;
  const keptWords = new Int32Array(longest);
  const totalWork = epochs * totalTokens;
  let tokensRead = 0;
  let tokensTrained = 0;
  let pairsTrained = 0;
  let learningRate = config.learningRate;

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const sentence of sentences) {
      // Subsampling happens before windows are drawn, so dropped words widen the effective context.
      let length = 0;
      for (let i = 0; i < sentence.length; i++) {
        const word = sentence[i];
        if (keepProbability[word] >= 1 || keepProbability[word] > random()) keptWords[length++] = word;
      }
      tokensRead += sentence.length;
      tokensTrained += length;

      for (let position = 0; position < length; position++) {
        const centre = keptWords[position];
        const reach = 1 + Math.floor(random() * window);
        const from = Math.max(0, position - reach);
        const to = Math.min(length - 1, position + reach);
        for (let other = from; other <= to; other++) {
          if (other === position) continue;
          updater.update(keptWords[other], centre, learningRate);
          pairsTrained++;
        }
      }

      learningRate = decayedLearningRate(config, tokensRead / totalWork);
    }
    onProgress?.({ epoch: epoch + 1, epochs, tokensRead, learningRate, seconds: secondsSince(started) });
  }

  return {
    dimension: config.dimension,
    input: updater.input,
    output: updater.output,
    counts,
    tokensRead,
    tokensTrained,
    pairsTrained,
    seconds: secondsSince(started),
  };
}

/** A group for {@linkcode trainGroupSkipGram}: each of its words predicts each of its contexts. */
export interface SkipGramGroup {
  /** Input ids, such as the words of a playlist title. */
  words: Int32Array;
  /** Output ids, such as the tracks of the playlist. */
  contexts: Int32Array;
}

/**
 * Trains skip-gram vectors with negative sampling on groups: for each context of a group (subsampled by
 * its frequency), every word of the group predicts it against negatives drawn from the contexts. This is
 * skip-gram with a window that spans the whole group, so words that share contexts get similar input
 * vectors.
 *
 * @param groups words in [0, wordCount) and contexts in [0, contextCount).
 * @param wordCount rows of the input (word) matrix.
 * @param contextCount rows of the output (context) matrix.
 * @param options hyperparameters; `window` is ignored. See {@linkcode SkipGramOptions}.
 * @param onProgress called after each epoch; `tokensRead` counts contexts.
 * @throws {RangeError} when an option is invalid, an id is out of range or no group has both a word and a
 *   context.
 */
export function trainGroupSkipGram(
  groups: readonly SkipGramGroup[],
  wordCount: number,
  contextCount: number,
  options: Partial<SkipGramOptions> = {},
  onProgress?: (progress: SkipGramProgress) => void,
): SkipGramModel {
  const config = { ...DEFAULT_SKIP_GRAM_OPTIONS, ...options };
  validateSkipGramOptions(config);
  const started = performance.now();

  countIds(groups.map((group) => group.words), wordCount, "the word list of group");
  countIds(groups.map((group) => group.contexts), contextCount, "the context list of group");

  // Groups without words train nothing, so their contexts count neither as negatives nor as work.
  const trained = groups.filter((group) => group.words.length > 0 && group.contexts.length > 0);
  const counts = new Float64Array(contextCount);
  let totalContexts = 0;
  for (const group of trained) {
    for (const context of group.contexts) counts[context]++;
    totalContexts += group.contexts.length;
  }
  if (totalContexts === 0) {
    throw new RangeError(
      "Cannot train skip-gram: no group has both a word and a context. Pass groups with both.",
    );
  }

  const random = createRandom(config.seed);
  const updater = new PairUpdater(wordCount, counts, config, random);
  const keepProbability = subsamplingKeepProbabilities(counts, totalContexts, config.sample);
  const totalWork = config.epochs * totalContexts;
  let tokensRead = 0;
  let tokensTrained = 0;
  let pairsTrained = 0;
  let learningRate = config.learningRate;

  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (const { words, contexts } of trained) {
      for (let i = 0; i < contexts.length; i++) {
        const context = contexts[i];
        if (keepProbability[context] < 1 && keepProbability[context] <= random()) continue;
        tokensTrained++;
        for (let j = 0; j < words.length; j++) updater.update(words[j], context, learningRate);
        pairsTrained += words.length;
      }
      tokensRead += contexts.length;
      learningRate = decayedLearningRate(config, tokensRead / totalWork);
    }
    onProgress?.({
      epoch: epoch + 1,
      epochs: config.epochs,
      tokensRead,
      learningRate,
      seconds: secondsSince(started),
    });
  }

  return {
    dimension: config.dimension,
    input: updater.input,
    output: updater.output,
    counts,
    tokensRead,
    tokensTrained,
    pairsTrained,
    seconds: secondsSince(started),
  };
}

function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}

function decayedLearningRate(config: SkipGramOptions, progress: number): number {
  return config.learningRate - (config.learningRate - config.minLearningRate) * Math.min(1, progress);
}

function countIds(lists: readonly Int32Array[], size: number, listName: string): Float64Array {
  const counts = new Float64Array(size);
  lists.forEach((list, index) => {
    for (const id of list) {
      if (!(id >= 0 && id < size)) {
        throw new RangeError(
          `Cannot train skip-gram: ${listName} ${index} contains id ${id}, outside [0, ${size}). ` +
            `Map ids below the matrix size.`,
        );
      }
      counts[id]++;
    }
  });
  return counts;
}

/** Returns each word's probability of being kept, from word2vec's subsampling formula. */
function subsamplingKeepProbabilities(
  counts: Float64Array,
  totalTokens: number,
  sample: number,
): Float32Array {
  const keep = new Float32Array(counts.length).fill(1);
  if (sample <= 0) return keep;
  const threshold = sample * totalTokens;
  for (let word = 0; word < counts.length; word++) {
    if (counts[word] === 0) continue;
    keep[word] = Math.min(1, (Math.sqrt(counts[word] / threshold) + 1) * threshold / counts[word]);
  }
  return keep;
}

/**
 * Owns the two matrices and applies the SGNS update of one (input, output) pair. Scratch vectors are
 * allocated once, so the training loops allocate nothing.
 */
class PairUpdater {
  readonly input: Float32Array;
  readonly output: Float32Array;
  readonly dimension: number;
  readonly negatives: number;
  readonly sampler: AliasSampler;
  readonly random: RandomSource;
  readonly inputCopy: Float64Array;
  readonly gradient: Float64Array;

  constructor(inputRows: number, outputCounts: Float64Array, config: SkipGramOptions, random: RandomSource) {
    const { dimension } = config;
    this.dimension = dimension;
    this.negatives = config.negatives;
    this.random = random;
    this.sampler = new AliasSampler(Float64Array.from(outputCounts, (c) => c ** config.negativeExponent));

    // word2vec starts input vectors uniform in [-0.5, 0.5) / dimension and output vectors at zero.
    this.input = new Float32Array(inputRows * dimension);
    for (let i = 0; i < this.input.length; i++) this.input[i] = (random() - 0.5) / dimension;
    this.output = new Float32Array(outputCounts.length * dimension);
    this.inputCopy = new Float64Array(dimension);
    this.gradient = new Float64Array(dimension);
  }

  /**
   * Moves the input vector of `inputRow` towards the output vector of `positive` and away from the
   * output vectors of sampled negatives. The output vectors move too.
   *
   * The input row is copied first and the dot product runs on four running sums, because V8 does not
   * vectorize the loop and a single running sum waits on each addition.
   */
  update(inputRow: number, positive: number, learningRate: number): void {
    const { input, output, dimension, inputCopy, gradient } = this;
    const inputOffset = inputRow * dimension;
    for (let d = 0; d < dimension; d++) {
      inputCopy[d] = input[inputOffset + d];
      gradient[d] = 0;
    }

    for (let sample = 0; sample <= this.negatives; sample++) {
      let target = positive;
      let label = 1;
      if (sample > 0) {
        target = this.sampler.sample(this.random);
        if (target === positive) continue;
        label = 0;
      }

      const targetOffset = target * dimension;
      let dot0 = 0;
      let dot1 = 0;
      let dot2 = 0;
      let dot3 = 0;
      let d = 0;
      for (; d + 3 < dimension; d += 4) {
        dot0 += inputCopy[d] * output[targetOffset + d];
        dot1 += inputCopy[d + 1] * output[targetOffset + d + 1];
        dot2 += inputCopy[d + 2] * output[targetOffset + d + 2];
        dot3 += inputCopy[d + 3] * output[targetOffset + d + 3];
      }
      for (; d < dimension; d++) dot0 += inputCopy[d] * output[targetOffset + d];
      const step = (label - 1 / (1 + Math.exp(-(dot0 + dot1 + dot2 + dot3)))) * learningRate;

      for (let d = 0; d < dimension; d++) {
        const value = output[targetOffset + d];
        gradient[d] += step * value;
        output[targetOffset + d] = value + step * inputCopy[d];
      }
    }
    for (let d = 0; d < dimension; d++) input[inputOffset + d] += gradient[d];
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
}
