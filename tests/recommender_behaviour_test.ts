// One behaviour suite, run against every recommender on the same tiny corpus with fixed seeds.

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import { fitW2v } from "../lib/baselines/w2v.ts";
import { fitWmf } from "../lib/baselines/wmf.ts";
import { fitCwva } from "../lib/cwva/cwva.ts";
import { countTracks } from "../lib/data/split.ts";
import type { PlaylistQuery, Recommendation, Recommender } from "../lib/recommender.ts";
import { randomCorpus } from "./helpers/corpus.ts";

// 2,000 tracks drawn with a skew towards low ids leave some high ids out of the training playlists.
const corpus = randomCorpus(300, 2000, 7);
const train = Array.from({ length: 250 }, (_, i) => i);
const trainCounts = countTracks(corpus, train);
const unseenTrack = trainCounts.findLastIndex((count) => count === 0);
const COUNT = 50;

const queries: PlaylistQuery[] = [
  ...[0, 1, 5, 10, 25].map((seeds, i) => {
    const playlist = corpus.playlists[250 + i];
    return { pid: playlist.pid, name: playlist.name, seeds: playlist.tracks.slice(0, seeds) };
  }),
  { pid: 900, name: "", seeds: new Int32Array() },
  { pid: 901, name: "playlist 3", seeds: Int32Array.from([unseenTrack]) },
  // A seed repeated, as playlists sometimes repeat tracks.
  {
    pid: 902,
    name: "playlist 77",
    seeds: Int32Array.from([corpus.playlists[0].tracks[0], corpus.playlists[0].tracks[0]]),
  },
];

const METHODS: { name: string; fit: () => Recommender | Promise<Recommender> }[] = [
  { name: "popularity", fit: () => new PopularityRecommender(countTracks(corpus, train)) },
  { name: "wmf", fit: () => fitWmf(corpus, train, { factors: 8, iterations: 3, seed: 5 }) },
  { name: "w2v", fit: () => fitW2v(corpus, train, { dimension: 16, epochs: 2, seed: 5 }) },
  { name: "cwva", fit: () => fitCwva(corpus, train, { skipGram: { dimension: 16, epochs: 2, seed: 5 } }) },
];

for (const method of METHODS) {
  let cached: Promise<Recommendation[]> | undefined;
  const recommendations = () =>
    cached ??= Promise.resolve(method.fit()).then((fitted) => fitted.recommend(queries, COUNT));

  Deno.test(`${method.name} answers every query in order`, async () => {
    const results = await recommendations();
    strictEqual(results.length, queries.length);
    deepStrictEqual(results.map((r) => r.pid), queries.map((q) => q.pid));
  });

  Deno.test(`${method.name} returns at most count unique tracks`, async () => {
    for (const result of await recommendations()) {
      ok(result.tracks.length <= COUNT, `pid ${result.pid}: ${result.tracks.length} tracks`);
      strictEqual(new Set(result.tracks).size, result.tracks.length, `pid ${result.pid} repeats a track`);
      strictEqual(result.scores.length, result.tracks.length, `pid ${result.pid}: one score per track`);
    }
  });

  Deno.test(`${method.name} never returns a seed`, async () => {
    const results = await recommendations();
    queries.forEach((query, i) => {
      const seeds = new Set(query.seeds);
      const returned = Array.from(results[i].tracks).filter((track) => seeds.has(track));
      deepStrictEqual(returned, [], `pid ${query.pid} got its seeds back`);
    });
  });

  Deno.test(`${method.name} scores do not increase`, async () => {
    for (const result of await recommendations()) {
      for (let i = 1; i < result.scores.length; i++) {
        ok(
          result.scores[i] <= result.scores[i - 1],
          `pid ${result.pid}: score ${result.scores[i]} at ${i} above ${result.scores[i - 1]}`,
        );
      }
    }
  });

  Deno.test(`${method.name} is deterministic`, async () => {
    const first = await recommendations();
    const second = await (await method.fit()).recommend(queries, COUNT);
    first.forEach((result, i) => {
      deepStrictEqual(Array.from(second[i].tracks), Array.from(result.tracks), `pid ${result.pid} tracks`);
      deepStrictEqual(Array.from(second[i].scores), Array.from(result.scores), `pid ${result.pid} scores`);
    });
  });

  Deno.test(`${method.name} fills queries without usable seeds`, async () => {
    ok(unseenTrack >= 0, "the corpus should leave a track out of training");
    const results = await recommendations();
    for (const pid of [queries[0].pid, 900, 901]) {
      const result = results.find((r) => r.pid === pid)!;
      strictEqual(result.tracks.length, COUNT, `pid ${pid}`);
    }
  });

  Deno.test(`${method.name} fills seeded queries`, async () => {
    const results = await recommendations();
    for (const result of results.slice(1, 5)) strictEqual(result.tracks.length, COUNT, `pid ${result.pid}`);
  });
}
