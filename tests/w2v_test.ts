import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import { fitW2v, W2vRecommender } from "../lib/baselines/w2v.ts";
import type { Corpus } from "../lib/data/corpus.ts";
import { AliasSampler, trainGroupSkipGram, trainSkipGram } from "../lib/embeddings/skipgram.ts";
import { createRandom } from "../lib/util/random.ts";

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
  const uri = Array.from({ length: 40 }, (_, i) => `spotify:track:${String(i).padStart(22, "0")}`);
  return {
    tracks: {
      uri,
      name: uri,
      artistUri: uri.map((_, i) => `spotify:artist:${i}`),
      artistName: uri,
      albumUri: uri.map(() => ""),
    },
    playlists: clusteredSentences(200, 9).map((tracks, pid) => ({ pid, name: "", modifiedAt: null, tracks })),
    synthetic: true,
    source: "test",
  };
}

// Subsampling is off in these tests: with only 40 words, each is frequent enough that word2vec's
// threshold of 1e-3 would drop most tokens.

Deno.test("trainSkipGram separates two clusters", () => {
  const model = trainSkipGram(clusteredSentences(200, 1), 40, {
    dimension: 16,
    epochs: 3,
    sample: 0,
    seed: 3,
  });
  let within = 0;
  let across = 0;
  for (let a = 0; a < 20; a++) {
    for (let b = 0; b < 20; b++) {
      if (a !== b) within += cosine(model.input, 16, a, b) / (20 * 19);
      across += cosine(model.input, 16, a, 20 + b) / (20 * 20);
    }
  }
  ok(within > across + 0.3, `within ${within}, across ${across}`);
});

Deno.test("trainSkipGram is deterministic per seed", () => {
  const sentences = clusteredSentences(50, 2);
  const first = trainSkipGram(sentences, 40, { dimension: 8, epochs: 1, seed: 4 });
  const again = trainSkipGram(sentences, 40, { dimension: 8, epochs: 1, seed: 4 });
  const other = trainSkipGram(sentences, 40, { dimension: 8, epochs: 1, seed: 5 });
  deepStrictEqual(again.input, first.input);
  notDeepStrictEqual(other.input, first.input);
});

Deno.test("trainSkipGram counts its work", () => {
  const progress: number[] = [];
  const model = trainSkipGram(
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

Deno.test("trainSkipGram rejects invalid input", () => {
  throws(() => trainSkipGram([Int32Array.from([0, 7])], 5), /outside \[0, 5\)/);
  throws(() => trainSkipGram([new Int32Array()], 5), /no words/);
  throws(() => trainSkipGram([Int32Array.from([0, 1])], 5, { window: 0 }), RangeError);
  throws(() => trainSkipGram([Int32Array.from([0, 1])], 5, { negatives: 0 }), RangeError);
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
  const w2v = fitW2v(corpus, corpus.playlists.map((_, i) => i), {
    dimension: 16,
    epochs: 3,
    sample: 0,
    seed: 2,
  });
  const [result] = await w2v.recommend([{ pid: 1, name: "", seeds: Int32Array.of(25, 31) }], 10);
  strictEqual(result.tracks.length, 10);
  deepStrictEqual(Array.from(result.tracks).filter((track) => track < 20), []);
});
