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
 * The pair update runs in a WebAssembly SIMD kernel (sgns_wasm.ts) on matrices in one shared memory.
 * With `threads` above 1, {@linkcode trainSkipGram} trains in that many workers that update the shared
 * matrices without locks (Hogwild, as word2vec and gensim do), so runs differ slightly from each other. On
 * one thread the same seed gives the same vectors. Unlike the reference tool and gensim, the sigmoid is
 * computed rather than read from a 1,000-entry table. As in gensim, a target whose dot product with the
 * input reaches ±6 (`maxDot`) is skipped.
 * @module
 */

import { createRandom, mixSeed, type RandomSource } from "../util/random.ts";
import {
  allocateSgnsMemory,
  initializeInputRows,
  PairUpdater,
  readRows,
  type SgnsLayout,
  sgnsLayout,
  writeNegativeTable,
} from "./sgns_tables.ts";

export { AliasSampler } from "./sgns_tables.ts";

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
  /**
   * A target whose dot product with the input vector is at least `maxDot` in absolute value is left
   * unchanged for that pair, as gensim does with its MAX_EXP of 6. The reference word2vec tool instead takes
   * the sigmoid as 0 or 1 there. Infinity trains every target. Default 6.
   */
  maxDot: number;
  /** Seed of the initial vectors, the subsampling, the windows and the negatives. Default 1. */
  seed: number;
  /**
   * Training threads of {@linkcode trainSkipGram}. Above 1, results vary between runs with the same seed.
   * Group training always uses one. Default 1.
   */
  threads: number;
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
  maxDot: 6,
  seed: 1,
  threads: 1,
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
  const positiveIntegers = ["dimension", "window", "epochs", "negatives", "threads"] as const;
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
  if (!(options.maxDot > 0)) {
    throw new RangeError(
      `Cannot train skip-gram: "maxDot" must be positive (Infinity to train every target), got ${options.maxDot}.`,
    );
  }
  if (!Number.isFinite(options.negativeExponent)) {
    throw new RangeError(
      `Cannot train skip-gram: "negativeExponent" must be a finite number, got ${options.negativeExponent}.`,
    );
  }
}

/**
 * Trains skip-gram vectors with negative sampling on sentences, in `options.threads` threads.
 *
 * @param sentences word ids in [0, vocabularySize), one array per sentence.
 * @param vocabularySize number of distinct word ids; input and output matrices both have this many rows.
 * @param options hyperparameters; see {@linkcode SkipGramOptions}.
 * @param onProgress called after each epoch, once every thread has finished it.
 * @throws {RangeError} when an option is invalid, a word id is out of range, no sentence has a word or the
 *   matrices exceed 4 GiB.
 */
export async function trainSkipGram(
  sentences: readonly Int32Array[],
  vocabularySize: number,
  options: Partial<SkipGramOptions> = {},
  onProgress?: (progress: SkipGramProgress) => void,
): Promise<SkipGramModel> {
  const config = { ...DEFAULT_SKIP_GRAM_OPTIONS, ...options };
  validateSkipGramOptions(config);
  const started = performance.now();

  const counts = countIds(sentences, vocabularySize, "sentence");
  const { tokens, offsets } = flattenSentences(sentences);
  const totalTokens = tokens.length;
  if (totalTokens === 0) {
    throw new RangeError("Cannot train skip-gram: the sentences contain no words. Pass non-empty sentences.");
  }

  const layout = sgnsLayout(
    vocabularySize,
    vocabularySize,
    config.dimension,
    config.negatives,
    config.threads,
  );
  const memory = allocateSgnsMemory(layout);
  const random = createRandom(config.seed);
  initializeInputRows(memory, layout, random);
  writeNegativeTable(memory, layout, Float64Array.from(counts, (count) => count ** config.negativeExponent));
  const job: SentenceJob = {
    memory,
    layout,
    tokens,
    offsets,
    keepProbability: subsamplingKeepProbabilities(counts, totalTokens, config.sample),
    config,
    totalWork: config.epochs * totalTokens,
    progress: new Float64Array(new SharedArrayBuffer(8 * config.threads)),
  };

  const report = (epoch: number, tokensRead: number, learningRate: number) =>
    onProgress?.({ epoch, epochs: config.epochs, tokensRead, learningRate, seconds: secondsSince(started) });
  const work = config.threads === 1
    ? trainSentenceThread(
      job,
      { thread: 0, first: 0, end: sentences.length },
      random,
      (epoch, done, rate) => report(epoch, done.tokensRead, rate),
    )
    : await trainInWorkers(job, report);

  return {
    dimension: config.dimension,
    input: readRows(memory, layout, "input"),
    output: readRows(memory, layout, "output"),
    counts,
    ...work,
    seconds: secondsSince(started),
  };
}

/** Tokens read, kept and paired by one thread, or by all threads together. */
export interface SkipGramWork {
  tokensRead: number;
  tokensTrained: number;
  pairsTrained: number;
}

/**
 * The inputs of a training thread, in a form that can be posted to a worker. The sentences are one token
 * array with sentence start offsets, both on shared buffers.
 */
export interface SentenceJob {
  memory: WebAssembly.Memory;
  layout: SgnsLayout;
  tokens: Int32Array;
  /** Sentence i is tokens[offsets[i]] to tokens[offsets[i + 1] - 1]. */
  offsets: Int32Array;
  keepProbability: Float32Array;
  config: SkipGramOptions;
  /** Tokens to read over all epochs and threads. */
  totalWork: number;
  /** Per thread the tokens it has read, for the shared learning-rate schedule. */
  progress: Float64Array;
}

/** The sentences [first, end) that one thread trains on. */
export interface SentenceRange {
  thread: number;
  first: number;
  end: number;
}

/**
 * Runs every epoch over one thread's sentences. The learning rate decays with the tokens read by all
 * threads together, as in word2vec.
 * @param onEpoch called after each epoch with this thread's totals so far and the current learning rate.
 */
export function trainSentenceThread(
  job: SentenceJob,
  range: SentenceRange,
  random: RandomSource,
  onEpoch?: (epoch: number, work: SkipGramWork, learningRate: number) => void,
): SkipGramWork {
  const { tokens, offsets, keepProbability, config, progress } = job;
  const updater = new PairUpdater(
    job.memory,
    job.layout,
    range.thread,
    Math.floor(random() * 2 ** 32),
    config.maxDot,
  );
  let longest = 0;
  for (let sentence = range.first; sentence < range.end; sentence++) {
    longest = Math.max(longest, offsets[sentence + 1] - offsets[sentence]);
  }
  const keptWords = new Int32Array(longest);
  const window = config.window;
  const work: SkipGramWork = { tokensRead: 0, tokensTrained: 0, pairsTrained: 0 };
  let learningRate = config.learningRate;

  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (let sentence = range.first; sentence < range.end; sentence++) {
      // Subsampling happens before windows are drawn, so dropped words widen the effective context.
      let length = 0;
      const start = offsets[sentence];
      const stop = offsets[sentence + 1];
      for (let i = start; i < stop; i++) {
        const word = tokens[i];
        if (keepProbability[word] >= 1 || keepProbability[word] > random()) keptWords[length++] = word;
      }
      work.tokensRead += stop - start;
      work.tokensTrained += length;

      for (let position = 0; position < length; position++) {
        const centre = keptWords[position];
        const reach = 1 + Math.floor(random() * window);
        const from = Math.max(0, position - reach);
        const to = Math.min(length - 1, position + reach);
        for (let other = from; other <= to; other++) {
          if (other === position) continue;
          updater.update(keptWords[other], centre, learningRate);
          work.pairsTrained++;
        }
      }

      progress[range.thread] = work.tokensRead;
      let tokensRead = 0;
      for (let thread = 0; thread < progress.length; thread++) tokensRead += progress[thread];
      learningRate = decayedLearningRate(config, tokensRead / job.totalWork);
    }
    onEpoch?.(epoch + 1, { ...work }, learningRate);
  }
  return work;
}

/** A message from skipgram_worker.ts. */
export type SkipGramWorkerMessage =
  | { kind: "epoch"; epoch: number; work: SkipGramWork }
  | { kind: "done"; work: SkipGramWork };

/** The message that starts a skipgram_worker.ts thread. */
export interface SkipGramWorkerStart {
  job: SentenceJob;
  range: SentenceRange;
  seed: number;
}

/**
 * Trains `job` in one worker per thread, each on a contiguous share of the sentences with about the same
 * number of tokens, and reports an epoch once every worker has finished it.
 */
async function trainInWorkers(
  job: SentenceJob,
  report: (epoch: number, tokensRead: number, learningRate: number) => void,
): Promise<SkipGramWork> {
  const ranges = splitByTokens(job.offsets, job.config.threads);
  const epochWork: SkipGramWork[][] = Array.from({ length: job.config.epochs }, () => []);
  const workers: Worker[] = [];
  try {
    const results = await Promise.all(ranges.map((range) =>
      new Promise<SkipGramWork>((resolve, reject) => {
        const worker = new Worker(new URL("./skipgram_worker.ts", import.meta.url).href, { type: "module" });
        workers.push(worker);
        worker.onmessage = (event: MessageEvent<SkipGramWorkerMessage>) => {
          const message = event.data;
          if (message.kind === "done") {
            resolve(message.work);
            return;
          }
          const finished = epochWork[message.epoch - 1];
          finished.push(message.work);
          if (finished.length === ranges.length) {
            // The last worker's own rate already counts other workers' tokens of the next epoch, so the
            // report gives the schedule's rate at the end of this epoch instead.
            const tokensRead = sumWork(finished).tokensRead;
            report(message.epoch, tokensRead, decayedLearningRate(job.config, tokensRead / job.totalWork));
          }
        };
        worker.onerror = (event: ErrorEvent) => {
          event.preventDefault();
          reject(
            new Error(
              `Skip-gram training thread ${range.thread} failed: ${event.message}. ` +
                `Run with "threads": 1 to train on the main thread and see the full error.`,
            ),
          );
        };
        const start: SkipGramWorkerStart = { job, range, seed: mixSeed(job.config.seed, range.thread) };
        worker.postMessage(start);
      })
    ));
    return sumWork(results);
  } finally {
    for (const worker of workers) worker.terminate();
  }
}

function sumWork(parts: readonly SkipGramWork[]): SkipGramWork {
  const total: SkipGramWork = { tokensRead: 0, tokensTrained: 0, pairsTrained: 0 };
  for (const part of parts) {
    total.tokensRead += part.tokensRead;
    total.tokensTrained += part.tokensTrained;
    total.pairsTrained += part.pairsTrained;
  }
  return total;
}

/** Cuts the sentences into `parts` contiguous ranges of about equal token counts, some possibly empty. */
export function splitByTokens(offsets: Int32Array, parts: number): SentenceRange[] {
  const sentences = offsets.length - 1;
  const total = offsets[sentences];
  const ranges: SentenceRange[] = [];
  let first = 0;
  for (let thread = 0; thread < parts; thread++) {
    let end = first;
    const goal = (total * (thread + 1)) / parts;
    // Each cut goes to the sentence boundary nearest to the thread's share of tokens.
    while (end < sentences && (thread === parts - 1 || offsets[end + 1] - goal < goal - offsets[end])) end++;
    ranges.push({ thread, first, end });
    first = end;
  }
  return ranges;
}

/** Concatenates the sentences into one token array on a shared buffer, with their start offsets. */
function flattenSentences(sentences: readonly Int32Array[]): { tokens: Int32Array; offsets: Int32Array } {
  let total = 0;
  for (const sentence of sentences) total += sentence.length;
  const tokens = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, total)), 0, total);
  const offsets = new Int32Array(new SharedArrayBuffer(4 * (sentences.length + 1)));
  let at = 0;
  sentences.forEach((sentence, i) => {
    offsets[i] = at;
    tokens.set(sentence, at);
    at += sentence.length;
  });
  offsets[sentences.length] = at;
  return { tokens, offsets };
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
 * @param options hyperparameters; `window` and `threads` are ignored. See {@linkcode SkipGramOptions}.
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
  const layout = sgnsLayout(wordCount, contextCount, config.dimension, config.negatives, 1);
  const memory = allocateSgnsMemory(layout);
  initializeInputRows(memory, layout, random);
  writeNegativeTable(memory, layout, Float64Array.from(counts, (count) => count ** config.negativeExponent));
  const updater = new PairUpdater(memory, layout, 0, Math.floor(random() * 2 ** 32), config.maxDot);
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
    input: readRows(memory, layout, "input"),
    output: readRows(memory, layout, "output"),
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
