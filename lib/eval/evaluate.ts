/**
 * Scores a recommender on evaluation playlists and averages per seed bucket, over buckets and overall.
 * @module
 */

import type { EvaluationCase } from "../data/split.ts";
import { SEED_BUCKETS } from "../data/split.ts";
import type { Recommender } from "../recommender.ts";
import { clicks, MAX_RECOMMENDATIONS, ndcg, recallAt500, rPrecision } from "./metrics.ts";
import type { MethodResults, MetricSet } from "./results.ts";

/** The metrics of one evaluation playlist. */
export interface PlaylistScore {
  pid: number;
  bucket: number;
  r_precision: number;
  ndcg: number;
  clicks: number;
  recall_at_500: number;
}

/** Scores one playlist's recommendations; an empty list scores 0, and 51 clicks. */
export function scorePlaylist(
  evaluationCase: EvaluationCase,
  recommended: ArrayLike<number>,
): PlaylistScore {
  const truth = evaluationCase.groundTruth;
  return {
    pid: evaluationCase.pid,
    bucket: evaluationCase.bucket,
    r_precision: rPrecision(recommended, truth),
    ndcg: ndcg(recommended, truth),
    clicks: clicks(recommended, truth),
    recall_at_500: recallAt500(recommended, truth),
  };
}

/** Averages playlist scores; an empty list gives zeros with `playlists: 0`. */
export function meanScores(scores: PlaylistScore[]): MetricSet {
  const sum = { r_precision: 0, ndcg: 0, clicks: 0, recall_at_500: 0 };
  for (const score of scores) {
    sum.r_precision += score.r_precision;
    sum.ndcg += score.ndcg;
    sum.clicks += score.clicks;
    sum.recall_at_500 += score.recall_at_500;
  }
  const n = Math.max(1, scores.length);
  return {
    r_precision: sum.r_precision / n,
    ndcg: sum.ndcg / n,
    clicks: sum.clicks / n,
    recall_at_500: sum.recall_at_500 / n,
    playlists: scores.length,
  };
}

/**
 * Aggregates playlist scores into per-bucket means, the unweighted mean over the buckets that have
 * playlists, and the mean over all playlists.
 */
export function aggregateScores(scores: PlaylistScore[]): MethodResults {
  const bySeed: Record<string, MetricSet> = {};
  const bucketMeans: MetricSet[] = [];
  for (const bucket of SEED_BUCKETS) {
    const inBucket = scores.filter((score) => score.bucket === bucket);
    if (inBucket.length === 0) continue;
    bySeed[String(bucket)] = meanScores(inBucket);
    bucketMeans.push(bySeed[String(bucket)]);
  }

  const bucketMean: MetricSet = {
    r_precision: 0,
    ndcg: 0,
    clicks: 0,
    recall_at_500: 0,
    playlists: scores.length,
  };
  for (const mean of bucketMeans) {
    bucketMean.r_precision += mean.r_precision / bucketMeans.length;
    bucketMean.ndcg += mean.ndcg / bucketMeans.length;
    bucketMean.clicks += mean.clicks / bucketMeans.length;
    bucketMean.recall_at_500 += mean.recall_at_500 / bucketMeans.length;
  }
  return { by_seed: bySeed, bucket_mean: bucketMean, overall: meanScores(scores) };
}

/**
 * Asks the recommender for 500 tracks per evaluation playlist, in batches, and scores every playlist.
 *
 * @param onProgress called after each batch with the number of playlists done.
 */
export async function evaluateRecommender(
  recommender: Recommender,
  cases: EvaluationCase[],
  options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ results: MethodResults; scores: PlaylistScore[] }> {
  const batchSize = options.batchSize ?? 256;
  const scores: PlaylistScore[] = [];

  for (let start = 0; start < cases.length; start += batchSize) {
    const batch = cases.slice(start, start + batchSize);
    const queries = batch.map((c) => ({ pid: c.pid, name: c.name, seeds: c.seeds }));
    const recommendations = await recommender.recommend(queries, MAX_RECOMMENDATIONS);
    if (recommendations.length !== batch.length) {
      throw new Error(
        `Recommender "${recommender.name}" returned ${recommendations.length} recommendations for ` +
          `${batch.length} playlists: it must return one per query, in query order.`,
      );
    }
    batch.forEach((c, i) => scores.push(scorePlaylist(c, recommendations[i].tracks)));
    options.onProgress?.(Math.min(start + batchSize, cases.length), cases.length);
  }
  return { results: aggregateScores(scores), scores };
}
