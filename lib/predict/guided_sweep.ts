/**
 * Guided prediction run under several settings on the same playlists, to show what the per-step top-k, the
 * number of steps and the guidance mode do to the continuation.
 * @module
 */

import type { EvaluationCase } from "../data/split.ts";
import type { Vocabulary } from "../data/vocabulary.ts";
import { meanScores, scorePlaylist } from "../eval/evaluate.ts";
import type { MetricSet } from "../eval/results.ts";
import type { Track2SeqModel } from "../model/network.ts";
import type { Recommendation } from "../recommender.ts";
import { type GuidedOptions, predictGuided } from "./guided.ts";

/** The outcome of one setting of {@linkcode sweepGuided}. */
export interface GuidedSweepResult {
  /** The setting, merged over the sweep's base options. */
  options: Partial<GuidedOptions>;
  /** Mean metrics of the model's own continuations, with no fallback filling short lists. */
  metrics: MetricSet;
  /** Mean number of tracks per continuation, at most `count`. */
  meanTracks: number;
  /** Wall-clock seconds of the prediction. */
  seconds: number;
}

/**
 * Picks up to `perBucket` playlists from each seed bucket that has seeds (every bucket but 0), spread
 * evenly over the bucket's playlists, which `seedBuckets` orders by length. The result keeps that order.
 *
 * @throws {RangeError} When `perBucket` is not a positive integer.
 */
export function pickCasesPerBucket(cases: readonly EvaluationCase[], perBucket: number): EvaluationCase[] {
  if (!Number.isInteger(perBucket) || perBucket < 1) {
    throw new RangeError(`Picking playlists failed: perBucket must be a positive integer, got ${perBucket}.`);
  }
  const buckets = [...new Set(cases.map((evaluationCase) => evaluationCase.bucket))].filter((bucket) =>
    bucket > 0
  );

  const picked: EvaluationCase[] = [];
  for (const bucket of buckets) {
    const members = cases.filter((evaluationCase) =>
      evaluationCase.bucket === bucket && evaluationCase.seeds.length > 0
    );
    const count = Math.min(perBucket, members.length);
    for (let i = 0; i < count; i++) picked.push(members[Math.floor((i * members.length) / count)]);
  }
  return picked;
}

/**
 * Continues each evaluation playlist with guided prediction (fully guided unless `options.mode` is
 * `semi`) and returns the continuation in corpus track ids, without filling short lists from another
 * method. This is the model's own contribution; the
 * evaluation's `Track2SeqRecommender` fills lists shorter than 500 from popularity.
 *
 * @param model A model trained on `vocabulary`'s tokens.
 * @param vocabulary The vocabulary the model was trained with.
 * @param cases Evaluation playlists; each needs at least one seed track in the vocabulary.
 * @param options Guided prediction options; fields left out take the guided defaults.
 * @returns One recommendation per case, in case order.
 * @throws {RangeError} When a case has no seed track in the vocabulary, naming its pid.
 */
export async function predictTracks(
  model: Track2SeqModel,
  vocabulary: Vocabulary,
  cases: readonly EvaluationCase[],
  options: Partial<GuidedOptions> = {},
): Promise<Recommendation[]> {
  const seeds = cases.map((evaluationCase) => {
    const tokens = Array.from(evaluationCase.seeds, (track) => vocabulary.tokenOfTrack[track])
      .filter((token) => token >= 0);
    if (tokens.length === 0) {
      throw new RangeError(
        `Predicting a continuation failed: playlist ${evaluationCase.pid} has no seed track in the ` +
          "vocabulary. Pass only playlists with seeds (bucket 1 or more).",
      );
    }
    return Int32Array.from(tokens);
  });

  const continuations = await predictGuided(model, seeds, options);
  return continuations.map(({ tokens, scores }, i) => ({
    pid: cases[i].pid,
    tracks: Int32Array.from(tokens, (token) => vocabulary.trackOfToken[token]),
    scores,
  }));
}

/**
 * Runs {@linkcode predictTracks} once per setting on the same playlists and scores each run with the
 * RecSys Challenge 2018 metrics.
 *
 * @param model A model trained on `vocabulary`'s tokens.
 * @param vocabulary The vocabulary the model was trained with.
 * @param cases Evaluation playlists with at least one in-vocabulary seed each.
 * @param settings Options that change between runs, such as `[{ topK: 10 }, { topK: 100 }]` or
 *   `[{ mode: "fully" }, { mode: "semi" }]`.
 * @param base Options shared by every run, such as `{ steps: 600, seed: 2018 }`.
 * @returns One result per setting, in order.
 * @throws {RangeError} When a case has no in-vocabulary seed or an option is invalid.
 */
export async function sweepGuided(
  model: Track2SeqModel,
  vocabulary: Vocabulary,
  cases: readonly EvaluationCase[],
  settings: readonly Partial<GuidedOptions>[],
  base: Partial<GuidedOptions> = {},
): Promise<GuidedSweepResult[]> {
  const results: GuidedSweepResult[] = [];
  for (const setting of settings) {
    const options = { ...base, ...setting };
    const start = performance.now();
    const continuations = await predictTracks(model, vocabulary, cases, options);
    const seconds = (performance.now() - start) / 1000;

    const scores = cases.map((evaluationCase, i) => scorePlaylist(evaluationCase, continuations[i].tracks));
    const totalTracks = continuations.reduce((sum, continuation) => sum + continuation.tracks.length, 0);
    results.push({
      options,
      metrics: meanScores(scores),
      meanTracks: cases.length === 0 ? 0 : totalTracks / cases.length,
      seconds,
    });
  }
  return results;
}
