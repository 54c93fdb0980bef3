import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  countTracks,
  decileBins,
  describeStrata,
  SEED_BUCKETS,
  seedBuckets,
  splitCorpus,
} from "../lib/data/split.ts";
import { buildVocabulary, EOS_TOKEN, SPECIAL_TOKENS, tokenStream } from "../lib/data/vocabulary.ts";
import { randomCorpus } from "./helpers/corpus.ts";

Deno.test("decileBins puts equal values together", () => {
  const bins = decileBins([1, 1, 1, 1, 1, 2, 3, 4, 5, 6]);
  strictEqual(new Set(bins.slice(0, 5)).size, 1);
  ok(bins[9] > bins[0]);
});

Deno.test("decileBins gives missing values bin 10", () => {
  const bins = decileBins([NaN, 1, 2, NaN]);
  strictEqual(bins[0], 10);
  strictEqual(bins[3], 10);
  ok(bins[1] < 10);
});

Deno.test("decileBins spreads distinct values evenly", () => {
  const bins = decileBins(Array.from({ length: 1000 }, (_, i) => i));
  for (let bin = 0; bin < 10; bin++) {
    strictEqual(bins.filter((b) => b === bin).length, 100, `bin ${bin}`);
  }
});

Deno.test("splitCorpus sizes and disjointness", () => {
  const corpus = randomCorpus(3000, 400);
  const split = splitCorpus(corpus, { devSize: 50, testSize: 60 });
  strictEqual(split.dev.length, 50);
  strictEqual(split.test.length, 60);
  strictEqual(split.train.length, 3000 - 110);
  const all = new Set([...split.train, ...split.dev, ...split.test]);
  strictEqual(all.size, 3000);
  deepStrictEqual(split.strataFeatures, ["num_tracks", "modified_at", "popularity"]);
});

Deno.test("splitCorpus evaluation tracks occur in training", () => {
  const corpus = randomCorpus(3000, 2000);
  const split = splitCorpus(corpus, { devSize: 30, testSize: 30 });
  const trainCounts = countTracks(corpus, split.train);
  for (const index of [...split.dev, ...split.test]) {
    for (const track of corpus.playlists[index].tracks) {
      ok(trainCounts[track] > 0, `track ${track} of playlist ${index} is not in training`);
    }
  }
});

Deno.test("splitCorpus is deterministic by seed", () => {
  const corpus = randomCorpus(2000, 300);
  const first = splitCorpus(corpus, { devSize: 20, testSize: 20, seed: 7 });
  const second = splitCorpus(corpus, { devSize: 20, testSize: 20, seed: 7 });
  const other = splitCorpus(corpus, { devSize: 20, testSize: 20, seed: 8 });
  deepStrictEqual(first.test, second.test);
  deepStrictEqual(first.dev, second.dev);
  ok(first.test.join() !== other.test.join());
});

Deno.test("splitCorpus follows the strata of the corpus", () => {
  // The held-out share is 10% of every stratum, so the test split's length deciles stay balanced.
  const corpus = randomCorpus(6000, 300);
  const split = splitCorpus(corpus, { devSize: 200, testSize: 400 });
  const lengths = corpus.playlists.map((p) => p.tracks.length).sort((a, b) => a - b);
  const medianLength = lengths[lengths.length >> 1];
  const shortShare = split.test.filter((i) => corpus.playlists[i].tracks.length < medianLength).length /
    split.test.length;
  ok(shortShare > 0.4 && shortShare < 0.6, `share below the median length: ${shortShare}`);
});

Deno.test("splitCorpus without modified_at", () => {
  const corpus = randomCorpus(1000, 200);
  for (const playlist of corpus.playlists) playlist.modifiedAt = null;
  const split = splitCorpus(corpus, { devSize: 10, testSize: 10 });
  deepStrictEqual(split.strataFeatures, ["num_tracks", "popularity"]);
  deepStrictEqual(split.strataMissing, { num_tracks: 0, popularity: 0 });
  strictEqual(describeStrata(split), "num_tracks, popularity, not modified_at, which no playlist has");
  strictEqual(split.test.length, 10);
});

Deno.test("splitCorpus counts playlists without modified_at", () => {
  const corpus = randomCorpus(1000, 200);
  for (const index of [3, 10, 500]) corpus.playlists[index].modifiedAt = null;
  const split = splitCorpus(corpus, { devSize: 10, testSize: 10 });
  deepStrictEqual(split.strataFeatures, ["num_tracks", "modified_at", "popularity"]);
  deepStrictEqual(split.strataMissing, { num_tracks: 0, modified_at: 3, popularity: 0 });
  strictEqual(
    describeStrata(split),
    "num_tracks, modified_at (3 playlists without it share a bin of their own), popularity",
  );
  // A stratum is lengthBin * 121 + modifiedBin * 11 + popularityBin, and missing values get bin 10.
  for (const index of [3, 10, 500]) strictEqual(Math.floor(split.stratum[index] / 11) % 11, 10);
});

Deno.test("describeStrata names one playlist without a value", () => {
  const text = describeStrata({
    strataFeatures: ["num_tracks", "modified_at", "popularity"],
    strataMissing: { num_tracks: 0, modified_at: 1, popularity: 0 },
  });
  strictEqual(text, "num_tracks, modified_at (1 playlist without it has a bin of its own), popularity");
});

Deno.test("splitCorpus rejects sizes above the eligible count", () => {
  const corpus = randomCorpus(200, 300);
  throws(
    () => splitCorpus(corpus, { devSize: 100, testSize: 100 }),
    /only \d+ of 200 playlists are eligible/,
  );
});

Deno.test("seedBuckets cuts by length", () => {
  const corpus = randomCorpus(600, 300);
  const indices = Array.from({ length: 600 }, (_, i) => i);
  const cases = seedBuckets(corpus, indices);
  strictEqual(cases.length, 600);
  for (const bucket of SEED_BUCKETS) {
    strictEqual(cases.filter((c) => c.bucket === bucket).length, 100, `bucket ${bucket}`);
  }
  const longestOfZero = Math.max(...cases.filter((c) => c.bucket === 0).map((c) => c.groundTruth.length));
  const shortestOfOne = Math.min(
    ...cases.filter((c) => c.bucket === 1).map((c) => c.seeds.length + c.groundTruth.length),
  );
  ok(longestOfZero <= shortestOfOne);
});

Deno.test("seedBuckets takes the first tracks as seeds", () => {
  const corpus = randomCorpus(60, 300);
  const cases = seedBuckets(corpus, Array.from({ length: 60 }, (_, i) => i));
  for (const c of cases) {
    const tracks = corpus.playlists[c.playlist].tracks;
    deepStrictEqual(Array.from(c.seeds), Array.from(tracks.slice(0, c.seeds.length)));
    deepStrictEqual(Array.from(c.groundTruth), Array.from(tracks.slice(c.seeds.length)));
    ok(c.groundTruth.length > 0);
    ok(c.seeds.length <= c.bucket);
  }
});

Deno.test("buildVocabulary keeps frequent and evaluation tracks", () => {
  const corpus = randomCorpus(500, 3000);
  const train = Array.from({ length: 450 }, (_, i) => i);
  const evaluation = Array.from({ length: 50 }, (_, i) => 450 + i);
  const vocabulary = buildVocabulary(corpus, train, evaluation);
  const counts = countTracks(corpus, train);

  for (let track = 0; track < counts.length; track++) {
    const inEvaluation = evaluation.some((i) => corpus.playlists[i].tracks.includes(track));
    const expected = counts[track] > 5 || inEvaluation;
    strictEqual(vocabulary.tokenOfTrack[track] >= 0, expected, `track ${track}`);
  }
  for (let token = SPECIAL_TOKENS + 1; token < vocabulary.size; token++) {
    const previous = counts[vocabulary.trackOfToken[token - 1]];
    ok(previous >= counts[vocabulary.trackOfToken[token]], `token ${token} is out of count order`);
  }
  strictEqual(vocabulary.trackOfToken[0], -1);
});

Deno.test("tokenStream drops unknown tracks and ends playlists", () => {
  const corpus = randomCorpus(3, 100);
  corpus.playlists[0].tracks = Int32Array.from([1, 2, 3]);
  corpus.playlists[1].tracks = Int32Array.from([4, 99]);
  const tokenOfTrack = new Int32Array(100).fill(-1);
  tokenOfTrack[1] = 2;
  tokenOfTrack[3] = 3;
  tokenOfTrack[4] = 4;
  const vocabulary = { tokenOfTrack, trackOfToken: Int32Array.from([-1, -1, 1, 3, 4]), size: 5 };
  deepStrictEqual(Array.from(tokenStream(corpus, [0, 1], vocabulary)), [2, 3, EOS_TOKEN, 4, EOS_TOKEN]);
});
