import { strictEqual } from "node:assert/strict";
import {
  clicks,
  ndcg,
  NO_HIT_CLICKS,
  recallAt500,
  rPrecision,
  rPrecisionArtistCredit,
} from "../lib/eval/metrics.ts";
import { aggregateScores, scorePlaylist } from "../lib/eval/evaluate.ts";
import type { EvaluationCase } from "../lib/data/split.ts";

function near(actual: number, expected: number, tolerance = 1e-12): void {
  strictEqual(Math.abs(actual - expected) <= tolerance, true, `expected ${expected}, got ${actual}`);
}

Deno.test("rPrecision counts hits in the first |G|", () => {
  // G = {1, 2, 3, 4}; the first 4 recommendations hold 1 and 3.
  near(rPrecision([1, 9, 3, 8, 2], [1, 2, 3, 4]), 2 / 4);
});

Deno.test("rPrecision deduplicates ground truth", () => {
  // G = [1, 1, 2] deduplicates to {1, 2}, so only the first 2 recommendations count.
  near(rPrecision([1, 2, 3], [1, 1, 2]), 1);
  near(rPrecision([3, 1, 2], [1, 1, 2]), 1 / 2);
});

Deno.test("rPrecision scores a repeated hit once", () => {
  near(rPrecision([1, 1, 5], [1, 2, 3]), 1 / 3);
});

Deno.test("metrics with no hit at all", () => {
  const recommended = [10, 11, 12];
  const truth = [1, 2];
  strictEqual(rPrecision(recommended, truth), 0);
  strictEqual(ndcg(recommended, truth), 0);
  strictEqual(recallAt500(recommended, truth), 0);
  strictEqual(clicks(recommended, truth), NO_HIT_CLICKS);
});

Deno.test("metrics with no recommendation", () => {
  strictEqual(rPrecision([], [1, 2]), 0);
  strictEqual(ndcg([], [1, 2]), 0);
  strictEqual(recallAt500([], [1, 2]), 0);
  strictEqual(clicks([], [1, 2]), 51);
});

Deno.test("ndcg matches a hand computation", () => {
  // Hits at positions 2 and 3: DCG = 1/log2(3) + 1/log2(4); IDCG over |G| = 3: 1 + 1/log2(3) + 1/2.
  const dcg = 1 / Math.log2(3) + 1 / 2;
  const idcg = 1 + 1 / Math.log2(3) + 1 / 2;
  near(ndcg([9, 1, 2], [1, 2, 3]), dcg / idcg);
});

Deno.test("ndcg of a perfect ranking is 1", () => {
  near(ndcg([3, 2, 1], [1, 2, 3, 3]), 1);
});

Deno.test("ndcg deduplicates recommendations", () => {
  // [1, 1, 2] deduplicates to [1, 2]: a perfect ranking of G = {1, 2}.
  near(ndcg([1, 1, 2], [1, 2]), 1);
});

Deno.test("ndcg ideal is capped at 500 positions", () => {
  const truth = Array.from({ length: 600 }, (_, i) => i);
  near(ndcg(truth.slice(0, 500), truth), 1);
});

Deno.test("clicks counts pages of ten", () => {
  const recommended = Array.from({ length: 40 }, (_, i) => 100 + i);
  strictEqual(clicks([1, ...recommended], [1]), 0);
  recommended[9] = 1;
  strictEqual(clicks(recommended, [1]), 0);
  recommended[9] = 0;
  recommended[10] = 1;
  strictEqual(clicks(recommended, [1]), 1);
  recommended[10] = 0;
  recommended[35] = 1;
  strictEqual(clicks(recommended, [1]), 3);
});

Deno.test("clicks ignores hits past 500", () => {
  const recommended = Array.from({ length: 600 }, (_, i) => 1000 + i);
  recommended[550] = 1;
  strictEqual(clicks(recommended, [1]), NO_HIT_CLICKS);
});

Deno.test("recallAt500 with fewer than 500 recommendations", () => {
  near(recallAt500([1, 2, 7], [1, 2, 3, 4, 4]), 2 / 4);
});

Deno.test("recallAt500 ignores hits past 500", () => {
  const recommended = Array.from({ length: 501 }, (_, i) => 1000 + i);
  recommended[500] = 1;
  strictEqual(recallAt500(recommended, [1]), 0);
});

Deno.test("rPrecisionArtistCredit adds a quarter per artist", () => {
  // Tracks 1-4 by artist "a", 5 by "b", 9 by "a", 8 by "c".
  const artists: Record<number, string> = { 1: "a", 2: "a", 3: "b", 4: "b", 9: "a", 8: "b", 7: "c" };
  const artistOf = (track: number) => artists[track] ?? "";
  // G = {3, 4}, artists {b}. Top 2: 8 (artist b, credit 0.25), 9 (artist a, none).
  near(rPrecisionArtistCredit([8, 9], [3, 4], artistOf), 0.25 / 2);
  // An exact hit on artist b leaves no artist credit for another b track.
  near(rPrecisionArtistCredit([3, 8], [3, 4], artistOf), 1 / 2);
  // Unknown artists never match.
  near(rPrecisionArtistCredit([6, 5], [3, 4], artistOf), 0);
});

function makeCase(pid: number, bucket: number, truth: number[]): EvaluationCase {
  return {
    playlist: pid,
    pid,
    name: "",
    bucket,
    seeds: new Int32Array(),
    groundTruth: Int32Array.from(truth),
  };
}

Deno.test("aggregateScores averages buckets then playlists", () => {
  const scores = [
    scorePlaylist(makeCase(1, 0, [1]), [1]),
    scorePlaylist(makeCase(2, 0, [1]), [2]),
    scorePlaylist(makeCase(3, 5, [1]), [1]),
  ];
  const results = aggregateScores(scores);
  near(results.by_seed["0"].r_precision, 0.5);
  near(results.by_seed["5"].r_precision, 1);
  strictEqual(results.by_seed["1"], undefined);
  near(results.bucket_mean.r_precision, 0.75);
  near(results.overall.r_precision, 2 / 3);
  near(results.by_seed["0"].clicks, (0 + 51) / 2);
  strictEqual(results.overall.playlists, 3);
});

Deno.test("scorePlaylist with empty recommendations scores zero", () => {
  const score = scorePlaylist(makeCase(1, 0, [1, 2]), []);
  strictEqual(score.r_precision, 0);
  strictEqual(score.ndcg, 0);
  strictEqual(score.recall_at_500, 0);
  strictEqual(score.clicks, 51);
});
