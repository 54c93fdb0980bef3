/**
 * The popularity baseline: every playlist gets the most frequent training tracks, minus its seeds.
 * @module
 */

import type { PlaylistQuery, Recommendation, Recommender } from "../recommender.ts";

/** Recommends the tracks that occur most often in the training playlists. */
export class PopularityRecommender implements Recommender {
  readonly name = "popularity";
  readonly #ranked: Int32Array;
  readonly #counts: Int32Array;

  /**
   * @param counts occurrences of each corpus track id over the training playlists; tracks with count 0
   *   are never recommended.
   */
  constructor(counts: Int32Array) {
    const ranked: number[] = [];
    for (let track = 0; track < counts.length; track++) if (counts[track] > 0) ranked.push(track);
    ranked.sort((a, b) => counts[b] - counts[a] || a - b);
    this.#ranked = Int32Array.from(ranked);
    this.#counts = counts;
  }

  recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]> {
    return Promise.resolve(queries.map((query) => this.recommendOne(query, count)));
  }

  /** Recommends for one playlist, skipping its seeds and any track in `exclude`. */
  recommendOne(query: PlaylistQuery, count: number, exclude?: Set<number>): Recommendation {
    const seeds = new Set(query.seeds);
    const tracks: number[] = [];
    for (let i = 0; i < this.#ranked.length && tracks.length < count; i++) {
      const track = this.#ranked[i];
      if (!seeds.has(track) && !exclude?.has(track)) tracks.push(track);
    }
    return {
      pid: query.pid,
      tracks: Int32Array.from(tracks),
      scores: Float32Array.from(tracks, (track) => this.#counts[track]),
    };
  }
}
