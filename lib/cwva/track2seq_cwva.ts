/**
 * Track2Seq with CWVA seeds: playlists without seed tracks get seeds guessed from their title.
 * @module
 */

import type { PlaylistQuery, Recommendation, Recommender } from "../recommender.ts";
import type { CwvaRecommender } from "./cwva.ts";

/**
 * Recommends with Track2Seq, giving each playlist that has no seed track the CWVA guess from its title
 * (the top `seedCount` tracks) as seeds.
 *
 * Guessed seeds are not the user's tracks, so they stay eligible. For such playlists the recommendation
 * merges the CWVA ranking and Track2Seq's continuation of the guessed seeds round-robin, CWVA first,
 * skipping repeats. Playlists with seeds get Track2Seq's recommendation unchanged.
 */
export class Track2SeqCwvaRecommender implements Recommender {
  readonly name = "track2seq_cwva";
  readonly #track2seq: Recommender;
  readonly #cwva: CwvaRecommender;
  readonly #seedCount: number;

  /**
   * @param track2seq the Track2Seq recommender.
   * @param cwva a fitted CWVA model, which guesses the seeds.
   * @param seedCount number of guessed seeds; 100 as in the thesis.
   */
  constructor(track2seq: Recommender, cwva: CwvaRecommender, seedCount = 100) {
    this.#track2seq = track2seq;
    this.#cwva = cwva;
    this.#seedCount = seedCount;
  }

  async recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]> {
    const guesses = queries.map((query) =>
      query.seeds.length === 0 ? this.#cwva.cwvaSeeds(query, this.#seedCount) : undefined
    );
    const guided = queries.map((query, i) => guesses[i] ? { ...query, seeds: guesses[i]! } : query);
    const continuations = await this.#track2seq.recommend(guided, count);

    return continuations.map((continuation, i) => {
      const guess = guesses[i];
      if (!guess || guess.length === 0) return continuation;
      return mergeRoundRobin(queries[i].pid, guess, continuation.tracks, count);
    });
  }
}

/** Interleaves two rankings, first one first, skipping repeats; scores fall with the merged rank. */
function mergeRoundRobin(pid: number, first: Int32Array, second: Int32Array, count: number): Recommendation {
  const seen = new Set<number>();
  const merged: number[] = [];
  for (let i = 0; merged.length < count && (i < first.length || i < second.length); i++) {
    for (const ranking of [first, second]) {
      if (i < ranking.length && !seen.has(ranking[i]) && merged.length < count) {
        seen.add(ranking[i]);
        merged.push(ranking[i]);
      }
    }
  }
  return {
    pid,
    tracks: Int32Array.from(merged),
    scores: Float32Array.from(merged, (_, rank) => merged.length - rank),
  };
}
