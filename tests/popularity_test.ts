import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { PopularityRecommender } from "../lib/baselines/popularity.ts";

const counts = Int32Array.from([5, 0, 9, 9, 1, 3]);

Deno.test("PopularityRecommender ranks by count", async () => {
  const recommender = new PopularityRecommender(counts);
  const [recommendation] = await recommender.recommend([{ pid: 7, name: "", seeds: new Int32Array() }], 10);
  strictEqual(recommendation.pid, 7);
  // Ties (tracks 2 and 3) break by track id; track 1 never occurs, so it is never recommended.
  deepStrictEqual(Array.from(recommendation.tracks), [2, 3, 0, 5, 4]);
  deepStrictEqual(Array.from(recommendation.scores), [9, 9, 5, 3, 1]);
});

Deno.test("PopularityRecommender excludes seeds", async () => {
  const recommender = new PopularityRecommender(counts);
  const [recommendation] = await recommender.recommend(
    [{ pid: 1, name: "", seeds: Int32Array.from([2, 5]) }],
    3,
  );
  deepStrictEqual(Array.from(recommendation.tracks), [3, 0, 4]);
  ok(!recommendation.tracks.includes(2));
});

Deno.test("PopularityRecommender answers every query in order", async () => {
  const recommender = new PopularityRecommender(counts);
  const queries = [3, 1, 2].map((pid) => ({ pid, name: "", seeds: Int32Array.from([pid]) }));
  const recommendations = await recommender.recommend(queries, 2);
  deepStrictEqual(recommendations.map((r) => r.pid), [3, 1, 2]);
  deepStrictEqual(Array.from(recommendations[0].tracks), [2, 0]);
});
