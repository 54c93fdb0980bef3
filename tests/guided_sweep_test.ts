import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { seedBuckets } from "../lib/data/split.ts";
import { buildVocabulary } from "../lib/data/vocabulary.ts";
import { selectBackend } from "../lib/model/backend.ts";
import { createModel } from "../lib/model/network.ts";
import { describeTracks } from "../lib/predict/describe.ts";
import { pickCasesPerBucket, predictTracks, sweepGuided } from "../lib/predict/guided_sweep.ts";
import { randomCorpus } from "./helpers/corpus.ts";

await selectBackend("wasm");

const corpus = randomCorpus(90, 60, 7);
const evaluation = Array.from({ length: 30 }, (_, i) => 60 + i);
const training = Array.from({ length: 60 }, (_, i) => i);
const vocabulary = buildVocabulary(corpus, training, evaluation, { minCountExclusive: 0 });
const cases = seedBuckets(corpus, evaluation);
const model = createModel({ vocabSize: vocabulary.size, embeddingSize: 8, hiddenUnits: 8, layers: 1 }, 3);

Deno.test("pickCasesPerBucket spreads over buckets with seeds", () => {
  const picked = pickCasesPerBucket(cases, 2);

  deepStrictEqual(picked.map((evaluationCase) => evaluationCase.bucket), [
    1,
    1,
    5,
    5,
    10,
    10,
    25,
    25,
    100,
    100,
  ]);
  const bucketOne = cases.filter((evaluationCase) => evaluationCase.bucket === 1);
  deepStrictEqual(picked.slice(0, 2).map((evaluationCase) => evaluationCase.pid), [
    bucketOne[0].pid,
    bucketOne[2].pid,
  ]);
  strictEqual(pickCasesPerBucket(cases, 100).length, 25);
});

Deno.test("predictTracks corpus tracks without seeds", async () => {
  const picked = pickCasesPerBucket(cases, 1);
  const continuations = await predictTracks(model, vocabulary, picked, { steps: 5, topK: 4, count: 20 });

  strictEqual(continuations.length, picked.length);
  continuations.forEach((continuation, i) => {
    strictEqual(continuation.pid, picked[i].pid);
    ok(continuation.tracks.length > 0 && continuation.tracks.length <= 20);
    strictEqual(continuation.scores.length, continuation.tracks.length);
    const seeds = new Set(picked[i].seeds);
    for (const track of continuation.tracks) {
      ok(track >= 0 && track < corpus.tracks.uri.length, `track ${track}`);
      ok(!seeds.has(track), `seed ${track} recommended`);
    }
  });
});

Deno.test("predictTracks rejects playlists without seeds", async () => {
  const titleOnly = cases.filter((evaluationCase) => evaluationCase.bucket === 0).slice(0, 1);

  await rejects(predictTracks(model, vocabulary, titleOnly), /no seed track in the vocabulary/);
});

Deno.test("sweepGuided one result per setting", async () => {
  const picked = pickCasesPerBucket(cases, 1);
  const results = await sweepGuided(model, vocabulary, picked, [{ topK: 2 }, { topK: 8 }], {
    steps: 3,
    count: 500,
  });

  strictEqual(results.length, 2);
  deepStrictEqual(results.map((result) => result.options), [
    { steps: 3, count: 500, topK: 2 },
    { steps: 3, count: 500, topK: 8 },
  ]);
  ok(results[1].meanTracks > results[0].meanTracks, "a larger top-k returns more tracks");
  for (const result of results) {
    strictEqual(result.metrics.playlists, picked.length);
    ok(result.metrics.r_precision >= 0 && result.metrics.r_precision <= 1);
    ok(result.metrics.recall_at_500 >= 0 && result.metrics.recall_at_500 <= 1);
    ok(result.seconds >= 0);
  }
});

Deno.test("describeTracks names, scores and hits", () => {
  const tracks = Int32Array.of(3, 5, 8);
  const rows = describeTracks(corpus, tracks, { scores: [0.5, 0.25, 0.125], groundTruth: [5], limit: 2 });

  deepStrictEqual(rows, [
    { rank: 1, track: "Track 3", artist: "Artist 3", score: 0.5, hit: false },
    { rank: 2, track: "Track 5", artist: "Artist 5", score: 0.25, hit: true },
  ]);
  deepStrictEqual(Object.keys(describeTracks(corpus, tracks)[0]), ["rank", "track", "artist"]);
});
