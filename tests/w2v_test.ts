import { deepStrictEqual, notDeepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import { fitW2v, W2vRecommender } from "../lib/baselines/w2v.ts";
import type { Corpus } from "../lib/data/corpus.ts";
import {
  AliasSampler,
  splitByTokens,
  trainGroupSkipGram,
  trainSkipGram,
} from "../lib/embeddings/skipgram.ts";
import {
  allocateSgnsMemory,
  PairUpdater,
  sgnsLayout,
  writeNegativeTable,
} from "../lib/embeddings/sgns_tables.ts";
import { instantiateSgns } from "../lib/embeddings/sgns_wasm.ts";
import { createRandom } from "../lib/util/random.ts";
import { trackTable } from "./helpers/corpus.ts";

/** Returns the cosine similarity of rows `a` and `b` of a row-major matrix. */
function cosine(matrix: Float32Array, dimension: number, a: number, b: number): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let d = 0; d < dimension; d++) {
    const x = matrix[a * dimension + d];
    const y = matrix[b * dimension + d];
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return dot / Math.sqrt(normA * normB);
}

/**
 * Asserts that the mean cosine within the clusters of words 0-19 and 20-39 exceeds the mean cosine across
 * them by more than 0.3, for 16-value vectors.
 */
function assertClustersSeparate(vectors: Float32Array): void {
  let within = 0;
  let across = 0;
  for (let a = 0; a < 20; a++) {
    for (let b = 0; b < 20; b++) {
      if (a !== b) within += cosine(vectors, 16, a, b) / (20 * 19);
      across += cosine(vectors, 16, a, 20 + b) / (20 * 20);
    }
  }
  ok(within > across + 0.3, `within ${within}, across ${across}`);
}

/** Sentences of 12 words, each drawn from one of two clusters: words 0-19 and 20-39. */
function clusteredSentences(count: number, seed: number): Int32Array[] {
  const random = createRandom(seed);
  return Array.from(
    { length: count },
    (_, i) => Int32Array.from({ length: 12 }, () => (i % 2 === 0 ? 0 : 20) + Math.floor(random() * 20)),
  );
}

/** Builds a corpus whose playlists are the clustered sentences, with one artist per track. */
function clusteredCorpus(): Corpus {
  return {
    tracks: trackTable(40),
    playlists: clusteredSentences(200, 9).map((tracks, pid) => ({ pid, name: "", modifiedAt: null, tracks })),
    synthetic: true,
    source: "test",
  };
}

// Subsampling is off in these tests: with only 40 words, each is frequent enough that word2vec's
// threshold of 1e-3 would drop most tokens.

Deno.test("trainSkipGram separates two clusters", async () => {
  const model = await trainSkipGram(clusteredSentences(200, 1), 40, {
    dimension: 16,
    epochs: 3,
    sample: 0,
    seed: 3,
  });
  assertClustersSeparate(model.input);
});

Deno.test("trainSkipGram is deterministic per seed", async () => {
  const sentences = clusteredSentences(50, 2);
  const first = await trainSkipGram(sentences, 40, { dimension: 8, epochs: 1, seed: 4 });
  const again = await trainSkipGram(sentences, 40, { dimension: 8, epochs: 1, seed: 4 });
  const other = await trainSkipGram(sentences, 40, { dimension: 8, epochs: 1, seed: 5 });
  deepStrictEqual(again.input, first.input);
  notDeepStrictEqual(other.input, first.input);
});

Deno.test("trainSkipGram counts its work", async () => {
  const progress: number[] = [];
  const model = await trainSkipGram(
    clusteredSentences(10, 2),
    40,
    { dimension: 8, epochs: 2, sample: 0 },
    (p) => progress.push(p.tokensRead),
  );
  deepStrictEqual(progress, [120, 240]);
  strictEqual(model.tokensRead, 240);
  strictEqual(model.tokensTrained, 240);
  ok(model.pairsTrained > 0);
});

Deno.test("trainSkipGram rejects invalid input", async () => {
  await rejects(trainSkipGram([Int32Array.from([0, 7])], 5), /outside \[0, 5\)/);
  await rejects(trainSkipGram([new Int32Array()], 5), /no words/);
  await rejects(trainSkipGram([Int32Array.from([0, 1])], 5, { window: 0 }), RangeError);
  await rejects(trainSkipGram([Int32Array.from([0, 1])], 5, { negatives: 0 }), RangeError);
  await rejects(trainSkipGram([Int32Array.from([0, 1])], 5, { threads: 0 }), /"threads"/);
  await rejects(trainSkipGram([Int32Array.from([0, 1])], 6_000_000, { dimension: 100 }), /4 GiB/);
});

Deno.test("trainSkipGram in two worker threads separates two clusters and reads every token", async () => {
  const epochs: number[] = [];
  const learningRates: number[] = [];
  const model = await trainSkipGram(
    clusteredSentences(400, 1),
    40,
    { dimension: 16, epochs: 3, sample: 0, seed: 3, threads: 2 },
    (progress) => {
      epochs.push(progress.epoch);
      learningRates.push(progress.learningRate);
    },
  );
  deepStrictEqual(epochs, [1, 2, 3]);
  // The reported rate is the linear schedule's at the end of each epoch, from 0.025 down to 0.0001.
  [1, 2, 3].forEach((epoch, i) => {
    const expected = 0.025 - (0.025 - 0.0001) * epoch / 3;
    ok(Math.abs(learningRates[i] - expected) < 1e-9, `epoch ${epoch}: ${learningRates[i]} vs ${expected}`);
  });
  strictEqual(model.tokensRead, 3 * 400 * 12);
  strictEqual(model.tokensTrained, model.tokensRead);
  assertClustersSeparate(model.input);
});

Deno.test("trainSkipGram handles a dimension that is not a multiple of four", async () => {
  const model = await trainSkipGram(clusteredSentences(100, 1), 40, { dimension: 7, epochs: 2, sample: 0 });
  strictEqual(model.input.length, 40 * 7);
  strictEqual(model.output.length, 40 * 7);
  ok(model.output.every(Number.isFinite));
  ok(model.output.some((value) => value !== 0));
});

Deno.test("splitByTokens balances tokens across threads and covers every sentence once", () => {
  // Sentences of 10, 10, 10, 30 and 40 tokens.
  const offsets = Int32Array.of(0, 10, 20, 30, 60, 100);
  deepStrictEqual(splitByTokens(offsets, 2), [
    { thread: 0, first: 0, end: 4 },
    { thread: 1, first: 4, end: 5 },
  ]);
  const three = splitByTokens(offsets, 3);
  strictEqual(three[0].first, 0);
  strictEqual(three[2].end, 5);
  for (let i = 1; i < three.length; i++) strictEqual(three[i].first, three[i - 1].end);
  // More threads than sentences leaves some ranges empty.
  const many = splitByTokens(Int32Array.of(0, 5), 3);
  strictEqual(many.reduce((sum, range) => sum + range.end - range.first, 0), 1);
});

/**
 * Runs one pair update on 3 output rows whose negatives all come from `negativeRow`, and checks it against
 * word2vec's update computed in float64.
 */
function checkPairUpdate(negativeRow: number, positive: number): void {
  const dimension = 6;
  const negatives = 2;
  const layout = sgnsLayout(2, 3, dimension, negatives, 1);
  const memory = allocateSgnsMemory(layout);
  const floats = new Float32Array(memory.buffer);
  const stride = layout.rowBytes / 4;
  const random = createRandom(11);
  const input = Array.from({ length: dimension }, () => random() - 0.5);
  const outputs = [0, 1, 2].map(() => Array.from({ length: dimension }, () => random() - 0.5));
  floats.set(input, 1 * stride);
  outputs.forEach((row, i) => floats.set(row, layout.outputBase / 4 + i * stride));
  writeNegativeTable(memory, layout, [0, 1, 2].map((row) => row === negativeRow ? 1 : 0));

  new PairUpdater(memory, layout, 0, 99, Infinity).update(1, positive, 0.5);

  // Both negatives are `negativeRow`, and word2vec skips a negative equal to the positive.
  const targets: [number, number][] = [[positive, 1]];
  if (negativeRow !== positive) targets.push([negativeRow, 0], [negativeRow, 0]);
  const gradient = new Array(dimension).fill(0);
  for (const [target, label] of targets) {
    const output = outputs[target];
    const dot = input.reduce((sum, value, d) => sum + value * output[d], 0);
    const step = (label - 1 / (1 + Math.exp(-dot))) * 0.5;
    for (let d = 0; d < dimension; d++) {
      gradient[d] += step * output[d];
      output[d] += step * input[d];
    }
  }
  const expectedInput = input.map((value, d) => value + gradient[d]);
  const close = (actual: Float32Array, expected: number[]) =>
    expected.forEach((value, d) => ok(Math.abs(actual[d] - value) < 1e-6, `${actual[d]} vs ${value}`));
  close(floats.subarray(stride, stride + dimension), expectedInput);
  for (const target of [0, 1, 2]) {
    const start = layout.outputBase / 4 + target * stride;
    close(floats.subarray(start, start + dimension), outputs[target]);
  }
  // Padding lanes stay zero.
  strictEqual(floats[stride + dimension], 0);
  strictEqual(floats[layout.outputBase / 4 + dimension], 0);
}

Deno.test("SIMD pair update matches word2vec's update", () => {
  checkPairUpdate(2, 0);
});

Deno.test("SIMD pair update skips negatives equal to the positive", () => {
  checkPairUpdate(0, 0);
});

Deno.test("SIMD pair update skips targets past maxDot", () => {
  const layout = sgnsLayout(1, 2, 8, 1, 1);
  const memory = allocateSgnsMemory(layout);
  const floats = new Float32Array(memory.buffer);
  const stride = layout.rowBytes / 4;
  // dot(input, output 0) = 8 * 0.25 = 2 and dot(input, output 1) = -2.
  floats.fill(0.5, 0, 8);
  floats.fill(0.5, layout.outputBase / 4, layout.outputBase / 4 + 8);
  floats.fill(-0.5, layout.outputBase / 4 + stride, layout.outputBase / 4 + stride + 8);
  writeNegativeTable(memory, layout, [0, 1]);
  const before = floats.slice(0, layout.outputBase / 4 + 2 * stride);

  new PairUpdater(memory, layout, 0, 5, 2).update(0, 0, 0.5);
  deepStrictEqual(floats.slice(0, before.length), before);

  new PairUpdater(memory, layout, 0, 5, 2.5).update(0, 0, 0.5);
  notDeepStrictEqual(floats.slice(0, before.length), before);
});

Deno.test("WebAssembly random matches createRandom's stream", () => {
  const layout = sgnsLayout(1, 1, 8, 1, 1);
  const memory = allocateSgnsMemory(layout);
  const kernel = instantiateSgns(memory);
  const words = new Uint32Array(memory.buffer);
  const state = layout.scratchBase;
  words[state / 4] = 2018;
  const reference = createRandom(2018);
  for (let i = 0; i < 1000; i++) strictEqual(kernel.random(state) >>> 0, reference() * 2 ** 32);
});

Deno.test("WebAssembly sampler draws in proportion to weights", () => {
  const weights = [1, 0, 3, 6];
  const layout = sgnsLayout(1, weights.length, 8, 1, 1);
  const memory = allocateSgnsMemory(layout);
  writeNegativeTable(memory, layout, weights);
  const kernel = instantiateSgns(memory);
  const state = layout.scratchBase;
  new Uint32Array(memory.buffer)[state / 4] = 7;
  const counts = [0, 0, 0, 0];
  const draws = 100_000;
  for (let i = 0; i < draws; i++) counts[kernel.sample(state, layout.tableBase, weights.length)]++;
  strictEqual(counts[1], 0);
  for (const index of [0, 2, 3]) {
    const expected = weights[index] / 10;
    ok(Math.abs(counts[index] / draws - expected) < 0.01, `index ${index}: ${counts[index] / draws}`);
  }
});

Deno.test("trainGroupSkipGram groups words that share contexts", () => {
  // Words 0 and 1 title playlists of contexts 0-9, word 2 titles playlists of contexts 10-19.
  const random = createRandom(6);
  const groups = Array.from({ length: 90 }, (_, i) => ({
    words: Int32Array.of(i % 3),
    contexts: Int32Array.from({ length: 8 }, () => (i % 3 === 2 ? 10 : 0) + Math.floor(random() * 10)),
  }));
  const model = trainGroupSkipGram(groups, 3, 20, { dimension: 8, epochs: 20, sample: 0, seed: 1 });
  strictEqual(model.input.length, 3 * 8);
  strictEqual(model.output.length, 20 * 8);
  ok(cosine(model.input, 8, 0, 1) > cosine(model.input, 8, 0, 2) + 0.5);
});

Deno.test("AliasSampler draws in proportion to weights", () => {
  const sampler = new AliasSampler([1, 0, 3, 6]);
  const random = createRandom(8);
  const draws = new Float64Array(4);
  for (let i = 0; i < 100_000; i++) draws[sampler.sample(random)]++;
  strictEqual(draws[1], 0);
  ok(Math.abs(draws[0] / 100_000 - 0.1) < 0.01, `share of 0: ${draws[0] / 100_000}`);
  ok(Math.abs(draws[2] / 100_000 - 0.3) < 0.01, `share of 2: ${draws[2] / 100_000}`);
  ok(Math.abs(draws[3] / 100_000 - 0.6) < 0.01, `share of 3: ${draws[3] / 100_000}`);
  throws(() => new AliasSampler([0, 0]), RangeError);
});

/**
 * Builds a hand-made model in two dimensions: tracks sit on a half circle at the given angles (degrees),
 * so their cosine order is known. Track i is the corpus track id i.
 */
function angleModel(angles: number[], artists: number[], fallbackCounts?: number[]): W2vRecommender {
  const vectors = new Float32Array(angles.length * 2);
  angles.forEach((angle, i) => {
    vectors[2 * i] = Math.cos((angle * Math.PI) / 180);
    vectors[2 * i + 1] = Math.sin((angle * Math.PI) / 180);
  });
  const counts = Int32Array.from(fallbackCounts ?? angles.map(() => 1));
  return new W2vRecommender({
    vectors,
    dimension: 2,
    wordTracks: Int32Array.from(angles, (_, i) => i),
    trackArtists: Int32Array.from(counts, (_, i) => artists[i] ?? -1),
    maxTracksPerArtist: 3,
    fallback: new PopularityRecommender(counts),
  });
}

Deno.test("W2vRecommender merges neighbours round-robin", async () => {
  // Seed 0 at 0°, its neighbours 1 (5°) and 2 (10°); seed 3 at 90°, its neighbours 4 (85°) and 5 (80°).
  const w2v = angleModel([0, 5, 10, 90, 85, 80], [0, 1, 2, 3, 4, 5]);
  deepStrictEqual(Array.from(w2v.nearestTracks(0, 2)), [1, 2]);
  const [result] = await w2v.recommend([{ pid: 1, name: "", seeds: Int32Array.from([0, 3]) }], 4);
  deepStrictEqual(Array.from(result.tracks), [1, 4, 2, 5]);
  deepStrictEqual(Array.from(result.scores), [1, 0.75, 0.5, 0.25]);
});

Deno.test("W2vRecommender limits tracks per artist", async () => {
  // Tracks 1-5 are the nearest and share artist 7; track 6 is farther, by another artist.
  const w2v = angleModel([0, 1, 2, 3, 4, 5, 40], [0, 7, 7, 7, 7, 7, 8]);
  const [result] = await w2v.recommend([{ pid: 1, name: "", seeds: Int32Array.from([0]) }], 4);
  deepStrictEqual(Array.from(result.tracks), [1, 2, 3, 6]);
});

Deno.test("W2vRecommender does not limit tracks without artist", async () => {
  const w2v = angleModel([0, 1, 2, 3, 4, 5, 40], [0, -1, -1, -1, -1, -1, 8]);
  const [result] = await w2v.recommend([{ pid: 1, name: "", seeds: Int32Array.from([0]) }], 5);
  deepStrictEqual(Array.from(result.tracks), [1, 2, 3, 4, 5]);
});

Deno.test("W2vRecommender fills from the fallback", async () => {
  // Only tracks 0-2 have vectors. The fallback ranks tracks 0-5, most popular first: 5, 4, 3, ...
  const vectors = Float32Array.of(1, 0, 0.9, 0.1, 0.8, 0.2);
  const w2v = new W2vRecommender({
    vectors,
    dimension: 2,
    wordTracks: Int32Array.of(0, 1, 2),
    trackArtists: new Int32Array(6).fill(-1),
    maxTracksPerArtist: 3,
    fallback: new PopularityRecommender(Int32Array.of(1, 2, 3, 4, 5, 6)),
  });
  const [result] = await w2v.recommend([{ pid: 1, name: "", seeds: Int32Array.of(0) }], 5);
  deepStrictEqual(Array.from(result.tracks), [1, 2, 5, 4, 3]);
});

Deno.test("fitW2v recommends the seed's cluster", async () => {
  const corpus = clusteredCorpus();
  const w2v = await fitW2v(corpus, corpus.playlists.map((_, i) => i), {
    dimension: 16,
    epochs: 3,
    sample: 0,
    seed: 2,
  });
  const [result] = await w2v.recommend([{ pid: 1, name: "", seeds: Int32Array.of(25, 31) }], 10);
  strictEqual(result.tracks.length, 10);
  deepStrictEqual(Array.from(result.tracks).filter((track) => track < 20), []);
});
