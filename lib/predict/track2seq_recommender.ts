/**
 * Track2Seq behind the common recommender interface, with a fallback for playlists the model cannot serve.
 * @module
 */

import type { Vocabulary } from "../data/vocabulary.ts";
import type { Track2SeqModel } from "../model/network.ts";
import type { PlaylistQuery, Recommendation, Recommender } from "../recommender.ts";
import { type GuidedOptions, type GuidedProgress, predictGuided } from "./guided.ts";

/**
 * Recommends with guided Track2Seq prediction, fully or semi-guided as the options' `mode` selects.
 *
 * Seed tracks outside the vocabulary are dropped. A playlist left with no seed token gets the fallback's
 * recommendation. A model continuation shorter than `count` is filled up from the fallback, skipping seeds
 * and tracks already recommended, so every playlist gets `count` tracks when the fallback has enough.
 * Filled-up tracks score 0 and keep the fallback's order after the model's tracks.
 *
 * With `thesisCompatible` set, the fallback is never used, as in the original code: a playlist with no seed
 * token gets an empty recommendation, which scores 0 in this project's evaluation (the original left such
 * playlists out of its averages), and short continuations stay short.
 */
export class Track2SeqRecommender implements Recommender {
  readonly name = "track2seq";
  readonly #model: Track2SeqModel;
  readonly #vocabulary: Vocabulary;
  readonly #fallback: Recommender;
  readonly #options: Partial<Omit<GuidedOptions, "count">>;
  readonly #onProgress?: (progress: GuidedProgress) => void;

  /**
   * @param model a model trained on `vocabulary`'s tokens; the recommender does not dispose it.
   * @param vocabulary maps corpus track ids to tokens and back.
   * @param fallback recommends for playlists without seed tokens and fills up short continuations, such as
   *   the popularity baseline.
   * @param options guided prediction options; `count` comes from each `recommend` call.
   * @param onProgress called after each batch of playlists that the model predicts for.
   * @throws {RangeError} when the model's vocabulary size differs from `vocabulary.size`.
   */
  constructor(
    model: Track2SeqModel,
    vocabulary: Vocabulary,
    fallback: Recommender,
    options: Partial<Omit<GuidedOptions, "count">> = {},
    onProgress?: (progress: GuidedProgress) => void,
  ) {
    if (model.config.vocabSize !== vocabulary.size) {
      throw new RangeError(
        `Creating the Track2Seq recommender failed: the model has ${model.config.vocabSize} tokens, the ` +
          `vocabulary ${vocabulary.size}. Use the vocabulary that the model was trained with.`,
      );
    }
    this.#model = model;
    this.#vocabulary = vocabulary;
    this.#fallback = fallback;
    this.#options = options;
    this.#onProgress = onProgress;
  }

  async recommend(queries: PlaylistQuery[], count: number): Promise<Recommendation[]> {
    const seedTokens = queries.map((query) => this.tokensOf(query.seeds));
    const served = queries.map((_, i) => i).filter((i) => seedTokens[i].length > 0);

    const predictions = await predictGuided(
      this.#model,
      served.map((i) => seedTokens[i]),
      { ...this.#options, count },
      this.#onProgress,
    );
    const results: (Recommendation | undefined)[] = new Array(queries.length);
    served.forEach((queryIndex, i) => {
      const { tokens, scores } = predictions[i];
      results[queryIndex] = {
        pid: queries[queryIndex].pid,
        tracks: Int32Array.from(tokens, (token) => this.#vocabulary.trackOfToken[token]),
        scores,
      };
    });

    if (this.#options.thesisCompatible) {
      return queries.map((query, i) =>
        results[i] ?? { pid: query.pid, tracks: new Int32Array(0), scores: new Float32Array(0) }
      );
    }

    // One fallback call covers playlists without seed tokens and short continuations. Asking for `count`
    // plus the longest partial list leaves enough tracks after skipping those already recommended.
    const short = queries.map((_, i) => i).filter((i) => (results[i]?.tracks.length ?? 0) < count);
    if (short.length > 0) {
      const longestPartial = Math.max(...short.map((i) => results[i]?.tracks.length ?? 0));
      const extra = await this.#fallback.recommend(short.map((i) => queries[i]), count + longestPartial);
      short.forEach((queryIndex, i) => {
        results[queryIndex] = fillUp(queries[queryIndex], results[queryIndex], extra[i], count);
      });
    }
    return results as Recommendation[];
  }

  /** Maps the in-vocabulary seed tracks to tokens, in order, dropping the others. */
  private tokensOf(seeds: Int32Array): Int32Array {
    const tokens: number[] = [];
    for (const track of seeds) {
      const token = track >= 0 && track < this.#vocabulary.tokenOfTrack.length
        ? this.#vocabulary.tokenOfTrack[track]
        : -1;
      if (token >= 0) tokens.push(token);
    }
    return Int32Array.from(tokens);
  }
}

/**
 * Appends the fallback's tracks to `partial` up to `count`, skipping seeds and duplicates. Without a partial
 * result the fallback's own scores are kept; appended tracks otherwise score 0.
 */
function fillUp(
  query: PlaylistQuery,
  partial: Recommendation | undefined,
  fallback: Recommendation,
  count: number,
): Recommendation {
  const seen = new Set<number>(query.seeds);
  const tracks: number[] = [];
  const scores: number[] = [];
  if (partial !== undefined) {
    partial.tracks.forEach((track, i) => {
      tracks.push(track);
      scores.push(partial.scores[i]);
      seen.add(track);
    });
  }

  for (let i = 0; i < fallback.tracks.length && tracks.length < count; i++) {
    const track = fallback.tracks[i];
    if (seen.has(track)) continue;
    seen.add(track);
    tracks.push(track);
    scores.push(partial === undefined ? fallback.scores[i] : 0);
  }
  return { pid: query.pid, tracks: Int32Array.from(tracks), scores: Float32Array.from(scores) };
}
