import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";
import { FactorsNotFiniteError, fitWmf } from "../lib/baselines/wmf.ts";
import type { Corpus } from "../lib/data/corpus.ts";
import { countTracks } from "../lib/data/split.ts";
import { createRandom } from "../lib/util/random.ts";
import { randomCorpus } from "./helpers/corpus.ts";

/**
 * Builds playlists of 10 tracks, each drawn from one of two disjoint clusters: tracks 0-29 and 30-59.
 * Tracks 60-61 occur in no playlist.
 */
function clusteredCorpus(playlists: number, seed: number): Corpus {
  const random = createRandom(seed);
  const uri = Array.from({ length: 62 }, (_, i) => `spotify:track:${String(i).padStart(22, "0")}`);
  return {
    tracks: {
      uri,
      name: uri.map((_, i) => `Track ${i}`),
      artistUri: uri.map((_, i) => `spotify:artist:${i}`),
      artistName: uri.map((_, i) => `Artist ${i}`),
      albumUri: uri.map(() => ""),
    },
    playlists: Array.from({ length: playlists }, (_, pid) => {
      const base = pid % 2 === 0 ? 0 : 30;
      return {
        pid,
        name: pid % 2 === 0 ? "first" : "second",
        modifiedAt: null,
        tracks: Int32Array.from({ length: 10 }, () => base + Math.floor(random() * 30)),
      };
    }),
    synthetic: true,
    source: "test",
  };
}

const clustered = clusteredCorpus(120, 3);
const allPlaylists = clustered.playlists.map((_, i) => i);

Deno.test("fitWmf ranks the seed's cluster first", async () => {
  // Two factors can only hold the clusters; more would also fit the random draws within each cluster.
  const wmf = fitWmf(clustered, allPlaylists, { factors: 2, iterations: 5 });
  const [first, second] = await wmf.recommend([
    { pid: 1, name: "", seeds: Int32Array.from([2, 5, 7]) },
    { pid: 2, name: "", seeds: Int32Array.from([40]) },
  ], 27);
  strictEqual(first.tracks.length, 27);
  const outsideFirst = Array.from(first.tracks).filter((track) => track >= 30);
  const outsideSecond = Array.from(second.tracks).filter((track) => track < 30);
  deepStrictEqual(outsideFirst, []);
  deepStrictEqual(outsideSecond, []);
});

Deno.test("fitWmf keeps playlists as rows and tracks as columns", () => {
  const wmf = fitWmf(clustered, allPlaylists, { factors: 4, iterations: 1 });
  strictEqual(wmf.model.playlistFactors.length, 120 * 4);
  // Tracks 60 and 61 occur in no playlist, so they get no factors.
  strictEqual(wmf.model.itemFactors.length, 60 * 4);
  strictEqual(wmf.model.itemTracks.length, 60);
  ok(!wmf.model.itemTracks.includes(60));
});

Deno.test("fitWmf lowers the training loss", () => {
  const losses: number[] = [];
  fitWmf(randomCorpus(200, 300, 4), Array.from({ length: 200 }, (_, i) => i), {
    factors: 8,
    iterations: 4,
    computeLoss: true,
  }, (progress) => losses.push(progress.loss!));
  strictEqual(losses.length, 4);
  for (let i = 1; i < losses.length; i++) ok(losses[i] < losses[i - 1], `loss rose: ${losses}`);
});

Deno.test("foldIn solves the normal equations", () => {
  const alpha = 5;
  const regularization = 2;
  const wmf = fitWmf(clustered, allPlaylists, { factors: 6, iterations: 2, alpha, regularization });
  const { itemFactors, itemTracks, factors: k } = wmf.model;
  const seeds = [3, 9, 9, 31];
  const x = wmf.foldIn(seeds)!;
  ok(x !== null);

  // Residual of (YᵀY + λI + α Σ y yᵀ) x = (1 + α) Σ y over the distinct seeds, computed densely.
  const rows = [...new Set(seeds)].map((track) => itemTracks.indexOf(track));
  const residual = new Float64Array(k);
  for (let item = 0; item < itemTracks.length; item++) {
    const y = itemFactors.subarray(item * k, (item + 1) * k);
    const yx = y.reduce((sum, value, a) => sum + value * x[a], 0);
    const weight = rows.includes(item) ? 1 + alpha : 1;
    for (let a = 0; a < k; a++) {
      residual[a] += weight * yx * y[a] - (rows.includes(item) ? (1 + alpha) * y[a] : 0);
    }
  }
  for (let a = 0; a < k; a++) residual[a] += regularization * x[a];
  const largest = Math.max(...Array.from(residual, Math.abs));
  ok(largest < 1e-6, `residual ${largest}`);
});

Deno.test("WmfRecommender uses the fallback without known seeds", async () => {
  const wmf = fitWmf(clustered, allPlaylists, { factors: 4, iterations: 1 });
  const popularity = new PopularityRecommender(countTracks(clustered, allPlaylists));
  const queries = [
    { pid: 1, name: "", seeds: new Int32Array() },
    { pid: 2, name: "", seeds: Int32Array.from([60, 61]) },
  ];
  const got = await wmf.recommend(queries, 15);
  const expected = await popularity.recommend(queries, 15);
  deepStrictEqual(got.map((r) => Array.from(r.tracks)), expected.map((r) => Array.from(r.tracks)));
  strictEqual(wmf.foldIn([60]), null);
});

Deno.test("WmfRecommender mixes fallback and model answers in order", async () => {
  const fallback = new PopularityRecommender(Int32Array.from({ length: 62 }, (_, i) => (i === 61 ? 100 : 0)));
  const wmf = fitWmf(clustered, allPlaylists, { factors: 4, iterations: 1, fallback });
  const results = await wmf.recommend([
    { pid: 10, name: "", seeds: Int32Array.from([1]) },
    { pid: 11, name: "", seeds: new Int32Array() },
    { pid: 12, name: "", seeds: Int32Array.from([35]) },
  ], 5);
  deepStrictEqual(results.map((r) => r.pid), [10, 11, 12]);
  deepStrictEqual(Array.from(results[1].tracks), [61]);
  strictEqual(results[0].tracks.length, 5);
});

Deno.test("fitWmf raises FactorsNotFiniteError on overflow", () => {
  throws(
    () => fitWmf(clustered, allPlaylists, { factors: 4, iterations: 1, alpha: 1e308 }),
    (error: unknown) => error instanceof FactorsNotFiniteError && /alpha/.test(error.message),
  );
});

Deno.test("fitWmf rejects invalid options", () => {
  throws(() => fitWmf(clustered, allPlaylists, { factors: 0 }), RangeError);
  throws(() => fitWmf(clustered, allPlaylists, { alpha: -1 }), RangeError);
  throws(() => fitWmf(clustered, allPlaylists, { regularization: 0 }), RangeError);
  throws(() => fitWmf(clustered, [0, 500]), /outside the corpus/);
  throws(() => fitWmf(clustered, []), /contain no tracks/);
});
